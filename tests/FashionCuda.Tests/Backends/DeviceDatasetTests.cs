using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Tensors;
using FashionCuda.Tests.Cli;

namespace FashionCuda.Tests.Backends;

public sealed partial class DeviceDatasetTests
{
    private static readonly DeviceDatasetShape SmallShape = new(Count: 5, Channels: 2, Height: 4, Width: 3,
        BatchCapacity: 3);

    [GeneratedRegex(@"struct fc_batch_sample\s*\{(?<body>[^}]*)\}")]
    private static partial Regex KernelSampleStruct();

    [GeneratedRegex(@"\bint\s+(\w+)\s*;")]
    private static partial Regex IntField();

    private static DeviceDataset Upload(DeviceDatasetShape shape) =>
        new EmulatedDeviceDatasets().UploadDataset(new byte[shape.PixelBytes], new float[shape.Count],
            new float[shape.TableLength], shape);

    [Fact]
    public void SampleIsEightIntsInKernelOrder()
    {
        var sample = new DeviceBatchSample
        {
            Index = 1, OffsetY = 2, OffsetX = 3, Flip = 4, EraseTop = 5, EraseLeft = 6, EraseHeight = 7,
            EraseWidth = 8,
        };

        Assert.Equal(32, DeviceBatchSample.SizeInBytes);
        Assert.Equal(32, Unsafe.SizeOf<DeviceBatchSample>());
        Assert.Equal(32, Marshal.SizeOf<DeviceBatchSample>());
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], MemoryMarshal.Cast<DeviceBatchSample, int>([sample]).ToArray());
    }

    [Fact]
    public void KernelStructHasSameFields()
    {
        string source = File.ReadAllText(Path.Combine(CliRunner.RepositoryRoot(), "kernels", "augment.cu"));
        Match declaration = KernelSampleStruct().Match(source);
        Assert.True(declaration.Success, "kernels/augment.cu declares no struct fc_batch_sample.");
        string[] kernelFields = IntField().Matches(declaration.Groups["body"].Value)
            .Select(m => m.Groups[1].Value).ToArray();
        // C# fields in declaration order, in the kernel's snake_case.
        string[] csharpFields = typeof(DeviceBatchSample).GetFields()
            .Where(f => !f.IsStatic && !f.IsLiteral).OrderBy(f => Marshal.OffsetOf<DeviceBatchSample>(f.Name))
            .Select(f => Regex.Replace(f.Name, "(?<!^)([A-Z])", "_$1").ToLowerInvariant()).ToArray();

        Assert.Equal(csharpFields, kernelFields);
    }

    [Fact]
    public void ShapeSizesUse64BitArithmetic()
    {
        // 3 million RGB 32×32 images: 9.2 GB of pixels, past both int and uint.
        var shape = new DeviceDatasetShape(3_000_000, 3, 32, 32, 256);

        Assert.Equal(3072, shape.PixelsPerImage);
        Assert.Equal(9_216_000_000, shape.PixelBytes);
        Assert.Equal(2_999_999L * 3072, shape.ImageOffset(2_999_999));
        Assert.Equal(0, shape.ImageOffset(0));
        Assert.Equal(768, shape.TableLength);
        Assert.Equal(256 * 32, shape.SampleBufferBytes);
    }

    [Fact]
    public void ShapeRejectsInvalidSizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => (SmallShape with { Count = -1 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (SmallShape with { Channels = 0 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (SmallShape with { Height = 0 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (SmallShape with { Width = 0 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (SmallShape with { BatchCapacity = 0 }).Validate());
        (SmallShape with { Count = 0 }).Validate();
    }

    [Fact]
    public void UploadRejectsWrongLengths()
    {
        var device = new EmulatedDeviceDatasets();
        var pixels = new byte[SmallShape.PixelBytes];
        var labels = new float[SmallShape.Count];
        var table = new float[SmallShape.TableLength];

        var shortPixels = Assert.Throws<ArgumentException>(() =>
            device.UploadDataset(pixels.AsSpan(1), labels, table, SmallShape));
        Assert.Contains("need 120", shortPixels.Message);
        Assert.Throws<ArgumentException>(() => device.UploadDataset(pixels, labels.AsSpan(1), table, SmallShape));
        var shortTable = Assert.Throws<ArgumentException>(() =>
            device.UploadDataset(pixels, labels, table.AsSpan(256), SmallShape));
        Assert.Contains("need 512", shortTable.Message);
        Assert.Equal(0, device.Uploads);
    }

    [Fact]
    public void BatchValidationAcceptsEdgeCases()
    {
        using var backend = new CpuBackend(1);
        using var dataset = Upload(SmallShape);
        DeviceBatchSample[] samples =
        [
            new() { Index = 0 },
            new() { Index = 4, Flip = 1, OffsetY = -9, OffsetX = 9 },
            new() { Index = 2, EraseTop = 0, EraseLeft = 0, EraseHeight = 4, EraseWidth = 3 },
        ];

        dataset.ValidateBatch(samples, Tensor.Empty(backend, [3, 2, 4, 3]), Tensor.Empty(backend, [3]));
        dataset.ValidateBatch([], Tensor.Empty(backend, [0, 2, 4, 3]), Tensor.Empty(backend, [0]));
    }

    [Theory]
    [InlineData(-1, 0, 0, 0, 0, 0, "outside the dataset")]
    [InlineData(5, 0, 0, 0, 0, 0, "outside the dataset")]
    [InlineData(0, 2, 0, 0, 0, 0, "flip 2")]
    [InlineData(0, 0, 1, 0, 4, 1, "leave the 4×3 image")]
    [InlineData(0, 0, 0, 2, 1, 2, "leave the 4×3 image")]
    [InlineData(0, 0, -1, 0, 1, 1, "leave the 4×3 image")]
    [InlineData(0, 0, 0, 0, -1, 1, "leave the 4×3 image")]
    public void BatchValidationRejectsBadSample(int index, int flip, int top, int left, int height, int width,
        string message)
    {
        using var backend = new CpuBackend(1);
        using var dataset = Upload(SmallShape);
        DeviceBatchSample[] samples =
        [
            new() { Index = 1 },
            new()
            {
                Index = index, Flip = flip, EraseTop = top, EraseLeft = left, EraseHeight = height,
                EraseWidth = width,
            },
        ];

        var error = Assert.ThrowsAny<ArgumentException>(() =>
            dataset.ValidateBatch(samples, Tensor.Empty(backend, [2, 2, 4, 3]), Tensor.Empty(backend, [2])));

        Assert.Contains("Sample 1", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void BatchValidationRejectsBadBatch()
    {
        using var backend = new CpuBackend(1);
        using var dataset = Upload(SmallShape);
        var four = new DeviceBatchSample[4];
        var two = new DeviceBatchSample[2];

        var tooMany = Assert.Throws<ArgumentException>(() =>
            dataset.ValidateBatch(four, Tensor.Empty(backend, [4, 2, 4, 3]), Tensor.Empty(backend, [4])));
        Assert.Contains("at most 3", tooMany.Message);
        var wrongImages = Assert.Throws<ArgumentException>(() =>
            dataset.ValidateBatch(two, Tensor.Empty(backend, [2, 1, 4, 3]), Tensor.Empty(backend, [2])));
        Assert.Contains("(2, 2, 4, 3)", wrongImages.Message);
        Assert.Throws<ArgumentException>(() =>
            dataset.ValidateBatch(two, Tensor.Empty(backend, [2, 2, 4, 3]), Tensor.Empty(backend, [3])));
    }

    [Fact]
    public void DisposedDatasetRejectsBatches()
    {
        using var backend = new CpuBackend(1);
        var dataset = Upload(SmallShape);
        dataset.Dispose();
        dataset.Dispose();

        Assert.True(dataset.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() =>
            dataset.ValidateBatch([], Tensor.Empty(backend, [0, 2, 4, 3]), Tensor.Empty(backend, [0])));
    }

    [Fact]
    public void KernelFormulaOnHandCheckedImage()
    {
        // Two images of 2 channels, 2×3. Byte value = 100·image + 10·channel + 3·y + x + 1, and the table maps
        // byte v of channel c to v + 1000·c, so every output names the pixel it came from.
        var shape = new DeviceDatasetShape(2, 2, 2, 3, 2);
        var pixels = new byte[shape.PixelBytes];
        for (int i = 0; i < 2; i++)
            for (int c = 0; c < 2; c++)
                for (int p = 0; p < 6; p++)
                    pixels[i * 12 + c * 6 + p] = (byte)(100 * i + 10 * c + p + 1);
        var table = new float[shape.TableLength];
        for (int c = 0; c < 2; c++)
            for (int v = 0; v < 256; v++)
                table[c * 256 + v] = v + 1000 * c;
        DeviceBatchSample[] samples =
        [
            // Image 1, crop down by one row and flipped: row 0 reads input row 1 right to left, row 1 is padding.
            new() { Index = 1, OffsetY = 1, Flip = 1 },
            // Image 0, crop left by one column, then the top-right pixel erased.
            new() { Index = 0, OffsetX = -1, EraseTop = 0, EraseLeft = 2, EraseHeight = 1, EraseWidth = 1 },
        ];
        var output = new float[2 * 12];

        AugmentKernel.AugmentForward(pixels, samples, table, output, 2, 2, 2, 3);

        float[] expected =
        [
            106, 105, 104, 0, 0, 0, // sample 0, channel 0
            1116, 1115, 1114, 1000, 1000, 1000, // sample 0, channel 1: padding is table[256 + 0]
            0, 1, 0, 0, 4, 5, // sample 1, channel 0
            1000, 1011, 0, 1000, 1014, 1015, // sample 1, channel 1: erased to 0 in every channel
        ];
        Assert.Equal(expected, output);
    }
}
