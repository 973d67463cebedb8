using FashionCuda.Backends;
using FashionCuda.Data;
using FashionCuda.Tensors;
using FashionCuda.Tests.Backends;
using FashionCuda.Tests.Training;
using FashionCuda.Training;

namespace FashionCuda.Tests.Data;

public sealed class AugmentationTests
{
    private const int Height = 6;
    private const int Width = 5; // not square, so a swapped row and column shows up

    /// <summary>Pixel (y, x) of the synthetic image is 10·y + x + 1: distinct and never 0, the padding value.</summary>
    private static byte[] SyntheticImage()
    {
        var image = new byte[Height * Width];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                image[y * Width + x] = (byte)(10 * y + x + 1);
        return image;
    }

    /// <summary>The synthetic pixel at (y, x) on the [0, 1] scale, or 0 outside the image.</summary>
    private static float Source(int y, int x) =>
        y >= 0 && y < Height && x >= 0 && x < Width ? (10 * y + x + 1) / 255f : 0f;

    private static float[] Run(SampleTransform transform, Normalization? normalization = null)
    {
        var pipeline = new ImagePipeline(AugmentationOptions.None, normalization ?? Normalization.Identity,
            Height, Width);
        var output = new float[Height * Width];
        pipeline.Apply(SyntheticImage(), output, transform);
        return output;
    }

    private static void AssertImage(Func<int, int, float> expected, float[] actual)
    {
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                Assert.True(expected(y, x) == actual[y * Width + x],
                    $"pixel ({y}, {x}): expected {expected(y, x)}, got {actual[y * Width + x]}");
    }

    [Fact]
    public void IdentityOnlyRescales()
    {
        float[] output = Run(default);

        AssertImage(Source, output);
        Assert.Equal(1 / 255f, output[0]);
        Assert.Equal(55 / 255f, output[^1]);
    }

    [Fact]
    public void FlipMirrorsEachRow()
    {
        float[] output = Run(new SampleTransform(0, 0, true, 0, 0, 0, 0));

        AssertImage((y, x) => Source(y, Width - 1 - x), output);
        Assert.Equal(new[] { 5, 4, 3, 2, 1 }.Select(v => v / 255f), output[..Width]);
    }

    [Fact]
    public void CropShiftsAndPadsWithZero()
    {
        // Offsets (+2, -1): output (y, x) reads input (y + 2, x - 1), so the left column and the last two rows
        // come from the zero padding.
        float[] output = Run(new SampleTransform(2, -1, false, 0, 0, 0, 0));

        AssertImage((y, x) => Source(y + 2, x - 1), output);
        Assert.Equal(new[] { 0, 21, 22, 23, 24 }.Select(v => v / 255f), output[..Width]);
        Assert.All(output[(4 * Width)..], value => Assert.Equal(0f, value));
    }

    [Fact]
    public void CropThenFlipComposeInOrder()
    {
        // torchvision crops first and then flips the crop, so column x reads input column (Width-1-x) + OffsetX.
        float[] output = Run(new SampleTransform(-1, 1, true, 0, 0, 0, 0));

        AssertImage((y, x) => Source(y - 1, Width - 1 - x + 1), output);
        Assert.Equal(new[] { 0, 5, 4, 3, 2 }.Select(v => v / 255f), output[Width..(2 * Width)]);
    }

    [Fact]
    public void ErasingZeroesTheRectangle()
    {
        float[] output = Run(new SampleTransform(0, 0, false, 1, 2, 3, 2));

        AssertImage((y, x) => y is >= 1 and < 4 && x is >= 2 and < 4 ? 0f : Source(y, x), output);
    }

    [Fact]
    public void PaddingIsZeroBeforeNormalization()
    {
        var normalization = new Normalization(0.5f, 0.25f);

        float[] output = Run(new SampleTransform(0, -1, false, 4, 3, 2, 2), normalization);

        Assert.Equal(-2f, output[0]); // padded pixel: (0 - 0.5) / 0.25
        Assert.Equal(normalization.Apply(1), output[1]); // input (0, 0)
        Assert.Equal(0f, output[4 * Width + 3]); // erased: 0 after normalization
        Assert.Equal(0f, output[5 * Width + 4]);
        Assert.Equal(normalization.Apply(42), output[4 * Width + 2]); // left of the rectangle: input (4, 1)
    }

    [Fact]
    public void ApplyRejectsWrongSizes()
    {
        var pipeline = new ImagePipeline(AugmentationOptions.None, Normalization.Identity, Height, Width);

        Assert.Throws<ArgumentException>(() => pipeline.Apply(new byte[29], new float[30], default));
        Assert.Throws<ArgumentException>(() => pipeline.Apply(new byte[30], new float[31], default));
    }

    [Fact]
    public void DrawTakesCropRowThenColumn()
    {
        var options = new AugmentationOptions { Crop = new CropOptions { Padding = 3 } };
        var pipeline = new ImagePipeline(options, Normalization.Identity, 28, 28);
        var rng = new Rng(99);
        var reference = new Rng(99);

        for (int i = 0; i < 20; i++)
        {
            SampleTransform transform = pipeline.Draw(rng);
            Assert.Equal(reference.NextInt(7) - 3, transform.OffsetY);
            Assert.Equal(reference.NextInt(7) - 3, transform.OffsetX);
            Assert.False(transform.Flip);
            Assert.Equal(0, transform.EraseHeight);
        }
    }

    [Fact]
    public void CropOffsetsCoverThePaddingRange()
    {
        var options = new AugmentationOptions { Crop = new CropOptions { Padding = 2 } };
        var pipeline = new ImagePipeline(options, Normalization.Identity, 28, 28);
        var rng = new Rng(5);
        var rows = new HashSet<int>();
        var columns = new HashSet<int>();

        for (int i = 0; i < 500; i++)
        {
            SampleTransform transform = pipeline.Draw(rng);
            rows.Add(transform.OffsetY);
            columns.Add(transform.OffsetX);
        }

        Assert.Equal([-2, -1, 0, 1, 2], rows.Order());
        Assert.Equal([-2, -1, 0, 1, 2], columns.Order());
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(1.0, 2000)]
    public void FlipProbabilityExtremes(double probability, int expectedFlips)
    {
        var options = new AugmentationOptions { Flip = new FlipOptions { Probability = probability } };
        var pipeline = new ImagePipeline(options, Normalization.Identity, 28, 28);
        var rng = new Rng(1);

        int flips = Enumerable.Range(0, 2000).Count(_ => pipeline.Draw(rng).Flip);

        Assert.Equal(expectedFlips, flips);
    }

    [Fact]
    public void FlipHalfTheTimeByDefault()
    {
        var options = new AugmentationOptions { Flip = new FlipOptions() };
        var pipeline = new ImagePipeline(options, Normalization.Identity, 28, 28);
        var rng = new Rng(2);

        int flips = Enumerable.Range(0, 4000).Count(_ => pipeline.Draw(rng).Flip);

        Assert.InRange(flips, 1800, 2200); // about 6 standard deviations around 2000
    }

    [Fact]
    public void ErasingRectanglesFollowScaleAndRatio()
    {
        var options = new AugmentationOptions { Erasing = new ErasingOptions { Probability = 1.0 } };
        var pipeline = new ImagePipeline(options, Normalization.Identity, 28, 28);
        var rng = new Rng(3);
        int erased = 0;

        for (int i = 0; i < 2000; i++)
        {
            SampleTransform t = pipeline.Draw(rng);
            if (t.EraseHeight == 0)
                continue;
            erased++;
            Assert.InRange(t.EraseTop, 0, 28 - t.EraseHeight);
            Assert.InRange(t.EraseLeft, 0, 28 - t.EraseWidth);
            Assert.InRange(t.EraseHeight, 1, 27);
            Assert.InRange(t.EraseWidth, 1, 27);
            // Rounding each side to an integer moves the area by up to about half a row and half a column.
            double slack = 0.5 * (t.EraseHeight + t.EraseWidth) + 0.25;
            Assert.InRange(t.EraseHeight * t.EraseWidth, 0.02 * 784 - slack, 0.33 * 784 + slack);
        }

        // With ratios up to 3.3 and areas up to a third, some tries give a side of 28 or more and are retried, but
        // ten failures in a row are rare.
        Assert.InRange(erased, 1950, 2000);
    }

    [Fact]
    public void ErasingProbabilityZeroNeverErases()
    {
        var options = new AugmentationOptions { Erasing = new ErasingOptions { Probability = 0.0 } };
        var pipeline = new ImagePipeline(options, Normalization.Identity, 28, 28);
        var rng = new Rng(4);

        Assert.All(Enumerable.Range(0, 500), _ => Assert.Equal(0, pipeline.Draw(rng).EraseHeight));
    }

    [Fact]
    public void SameSeedDrawsSameTransforms()
    {
        var pipeline = new ImagePipeline(AugmentationOptions.Standard, Normalization.Identity, 28, 28);
        var first = new Rng(11);
        var second = new Rng(11);
        var other = new Rng(12);

        SampleTransform[] a = Enumerable.Range(0, 100).Select(_ => pipeline.Draw(first)).ToArray();
        SampleTransform[] b = Enumerable.Range(0, 100).Select(_ => pipeline.Draw(second)).ToArray();
        SampleTransform[] c = Enumerable.Range(0, 100).Select(_ => pipeline.Draw(other)).ToArray();

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    /// <summary>
    /// The host pipeline and the device kernel's formula (<see cref="AugmentKernel"/>) applied to the same
    /// transforms: 300 images with every augmentation on, a crop padding of 3 on a non-square image and a
    /// different normalization per channel, so any difference in crop, flip, padding value or erasing shows.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void HostPipelineEqualsKernelFormula(int channels)
    {
        const int count = 300;
        var rng = new Rng(17);
        var pixels = new byte[count * channels * Height * Width];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)rng.NextInt(256);
        var normalization = channels == 1
            ? new Normalization(0.3f, 0.2f)
            : new Normalization([0.3f, 0.5f, 0.1f], [0.2f, 0.25f, 0.4f]);
        var options = AugmentationOptions.Standard with { Crop = new CropOptions { Padding = 3 } };
        var pipeline = new ImagePipeline(options, normalization, Height, Width, channels);
        var table = new float[256 * channels];
        normalization.FillTable(table, channels);
        int pixelsPerImage = channels * Height * Width;
        var host = new float[count * pixelsPerImage];
        var samples = new DeviceBatchSample[count];
        for (int i = 0; i < count; i++)
        {
            // Image i reads dataset image count − 1 − i, so the sample index matters.
            int index = count - 1 - i;
            SampleTransform transform = pipeline.Draw(rng);
            pipeline.Apply(pixels.AsSpan(index * pixelsPerImage, pixelsPerImage),
                host.AsSpan(i * pixelsPerImage, pixelsPerImage), transform);
            samples[i] = DeviceBatchSource.ToDeviceSample(index, transform);
        }
        var kernel = new float[host.Length];

        AugmentKernel.AugmentForward(pixels, samples, table, kernel, count, channels, Height, Width);

        Assert.Contains(samples, s => s.Flip == 1);
        Assert.Contains(samples, s => s.EraseHeight > 0);
        Assert.Contains(samples, s => Math.Abs(s.OffsetY) == 3);
        BatchSourceTests.AssertBitIdentical(host, kernel, "kernel formula against the host pipeline");
    }

    [Fact]
    public void ChannelsShareCropFlipAndErasing()
    {
        // Two channels of the synthetic image, the second offset by 100, with different normalizations.
        var image = SyntheticImage().Concat(SyntheticImage().Select(v => (byte)(v + 100))).ToArray();
        var normalization = new Normalization([0f, 0.5f], [1f, 0.5f]);
        var pipeline = new ImagePipeline(AugmentationOptions.None, normalization, Height, Width, channels: 2);
        var output = new float[2 * Height * Width];

        pipeline.Apply(image, output, new SampleTransform(1, -1, true, 0, 0, 2, 1));

        // Output (y, x) reads input (y + 1, Width - 1 - x - 1). Padding is byte 0 in each channel's scale.
        float[] first = output[..(Height * Width)];
        float[] second = output[(Height * Width)..];
        AssertImage((y, x) => y < 2 && x < 1 ? 0f : Source(y + 1, Width - 2 - x), first);
        AssertImage((y, x) => y < 2 && x < 1 ? 0f
            : Source(y + 1, Width - 2 - x) == 0f ? -1f
            : normalization.Apply((byte)(10 * (y + 1) + Width - 2 - x + 1 + 100), 1), second);
    }

    [Fact]
    public void ToDeviceSampleCopiesEveryField()
    {
        var sample = DeviceBatchSource.ToDeviceSample(9, new SampleTransform(-2, 1, true, 3, 4, 5, 6));

        Assert.Equal(9, sample.Index);
        Assert.Equal(-2, sample.OffsetY);
        Assert.Equal(1, sample.OffsetX);
        Assert.Equal(1, sample.Flip);
        Assert.Equal(3, sample.EraseTop);
        Assert.Equal(4, sample.EraseLeft);
        Assert.Equal(5, sample.EraseHeight);
        Assert.Equal(6, sample.EraseWidth);
        Assert.Equal(0, DeviceBatchSource.ToDeviceSample(0, default).Flip);
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        AugmentationOptions[] invalid =
        [
            new() { Flip = new FlipOptions { Probability = 1.5 } },
            new() { Flip = new FlipOptions { Probability = double.NaN } },
            new() { Crop = new CropOptions { Padding = -1 } },
            new() { Erasing = new ErasingOptions { Probability = -0.1 } },
            new() { Erasing = new ErasingOptions { MinScale = 0.5, MaxScale = 0.2 } },
            new() { Erasing = new ErasingOptions { MinScale = 0.0 } },
            new() { Erasing = new ErasingOptions { MaxScale = 1.5 } },
            new() { Erasing = new ErasingOptions { MinRatio = 0.0 } },
            new() { Erasing = new ErasingOptions { MinRatio = 4.0 } },
        ];

        foreach (AugmentationOptions options in invalid)
            Assert.Throws<ArgumentOutOfRangeException>(
                () => new ImagePipeline(options, Normalization.Identity, 28, 28));
    }
}
