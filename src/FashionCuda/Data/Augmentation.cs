using FashionCuda.Tensors;

namespace FashionCuda.Data;

/// <summary>Random horizontal flip, as torchvision's <c>RandomHorizontalFlip</c>.</summary>
public sealed record FlipOptions
{
    /// <summary>Probability that an image is mirrored left to right.</summary>
    public double Probability { get; init; } = 0.5;
}

/// <summary>
/// Random crop after zero padding, as torchvision's <c>RandomCrop(size, padding)</c> with the output size equal to
/// the input size. The padding is added in pixel space, so padded pixels are 0 before normalization.
/// </summary>
public sealed record CropOptions
{
    /// <summary>Pixels of zero padding on each side; the image moves by up to this many pixels each way.</summary>
    public int Padding { get; init; } = 2;
}

/// <summary>
/// Random erasing of one rectangle, as torchvision's <c>RandomErasing</c>: the rectangle's
/// area is a uniform fraction of the image in [<see cref="MinScale"/>, <see cref="MaxScale"/>] and its
/// height/width ratio is log-uniform in [<see cref="MinRatio"/>, <see cref="MaxRatio"/>]. It is set to 0 after
/// normalization, which is the dataset mean.
/// </summary>
public sealed record ErasingOptions
{
    /// <summary>Probability that an image gets a rectangle erased.</summary>
    public double Probability { get; init; } = 0.5;

    public double MinScale { get; init; } = 0.02;

    public double MaxScale { get; init; } = 0.33;

    public double MinRatio { get; init; } = 0.3;

    public double MaxRatio { get; init; } = 3.3;
}

/// <summary>Training-time augmentations; a null member turns that augmentation off.</summary>
public sealed record AugmentationOptions
{
    public FlipOptions? Flip { get; init; }

    public CropOptions? Crop { get; init; }

    public ErasingOptions? Erasing { get; init; }

    /// <summary>No augmentation, for evaluation.</summary>
    public static AugmentationOptions None { get; } = new();

    /// <summary>Flip (p = 0.5), crop with padding 2 and erasing (p = 0.5), each with its default parameters.</summary>
    public static AugmentationOptions Standard { get; } =
        new() { Flip = new FlipOptions(), Crop = new CropOptions(), Erasing = new ErasingOptions() };

    public bool IsEnabled => Flip is not null || Crop is not null || Erasing is not null;
}

/// <summary>
/// The random choices for one image: a crop offset, a flip and an erased rectangle. The identity transform is
/// <c>default</c>. On a device backend the trainer packs it with the image's index into a
/// <see cref="Backends.DeviceBatchSample"/>, and kernels/augment.cu computes the same pixels as
/// <see cref="ImagePipeline.Apply"/>.
/// </summary>
/// <param name="OffsetY">Row shift of the crop: output row y reads input row y + OffsetY (±padding).</param>
/// <param name="OffsetX">Column shift of the crop, applied before the flip.</param>
/// <param name="Flip">Whether the cropped image is mirrored left to right.</param>
/// <param name="EraseTop">Top row of the erased rectangle, in output coordinates.</param>
/// <param name="EraseLeft">Left column of the erased rectangle.</param>
/// <param name="EraseHeight">Rows of the erased rectangle; 0 means nothing is erased.</param>
/// <param name="EraseWidth">Columns of the erased rectangle.</param>
public readonly record struct SampleTransform(
    int OffsetY, int OffsetX, bool Flip, int EraseTop, int EraseLeft, int EraseHeight, int EraseWidth);

/// <summary>
/// Turns one C×H×W byte image into normalized float32 values, applying crop, flip and erasing in torchvision's
/// usual order (crop, flip, normalize, erase). Every channel gets the same crop, flip and erased rectangle.
/// </summary>
public sealed class ImagePipeline
{
    // Bounded tries before giving up on erasing, the same count torchvision's RandomErasing uses.
    private const int ErasingAttempts = 10;

    private readonly float[] lookup; // 256 per channel: the normalized value of each byte

    public ImagePipeline(AugmentationOptions augmentation, Normalization normalization, int height, int width,
        int channels = 1)
    {
        ArgumentNullException.ThrowIfNull(augmentation);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        Validate(augmentation);
        Augmentation = augmentation;
        Normalization = normalization;
        Height = height;
        Width = width;
        Channels = channels;
        lookup = new float[256 * channels];
        normalization.FillTable(lookup, channels);
    }

    public AugmentationOptions Augmentation { get; }

    public Normalization Normalization { get; }

    public int Height { get; }

    public int Width { get; }

    public int Channels { get; }

    /// <summary>
    /// Draws the random choices for one image from <paramref name="rng"/>, in a fixed order: crop row offset, crop
    /// column offset, flip, then erasing. Only enabled augmentations draw, so the stream of draws depends only on
    /// the options and the seed.
    /// </summary>
    public SampleTransform Draw(Rng rng)
    {
        int offsetY = 0, offsetX = 0;
        if (Augmentation.Crop is { } crop)
        {
            // torchvision picks the top-left corner of the output inside the padded image, rows first.
            offsetY = rng.NextInt(2 * crop.Padding + 1) - crop.Padding;
            offsetX = rng.NextInt(2 * crop.Padding + 1) - crop.Padding;
        }

        bool flip = Augmentation.Flip is { } flipOptions && rng.NextDouble() < flipOptions.Probability;
        var transform = new SampleTransform(offsetY, offsetX, flip, 0, 0, 0, 0);
        if (Augmentation.Erasing is { } erasing && rng.NextDouble() < erasing.Probability)
            transform = DrawErasing(rng, erasing, transform);
        return transform;
    }

    /// <summary>
    /// Writes the normalized, transformed image into <paramref name="destination"/> (C·H·W values, CHW order).
    /// </summary>
    public void Apply(ReadOnlySpan<byte> source, Span<float> destination, in SampleTransform transform)
    {
        int plane = Height * Width;
        int pixels = Channels * plane;
        if (source.Length != pixels || destination.Length != pixels)
            throw new ArgumentException(
                $"The pipeline works on {Channels}×{Height}×{Width} images ({pixels} values), but the source has " +
                $"{source.Length} and the destination {destination.Length}.");
        for (int c = 0; c < Channels; c++)
        {
            ApplyPlane(source.Slice(c * plane, plane), destination.Slice(c * plane, plane),
                lookup.AsSpan(c * 256, 256), transform);
        }
    }

    private void ApplyPlane(ReadOnlySpan<byte> source, Span<float> destination, ReadOnlySpan<float> table,
        in SampleTransform transform)
    {
        float padValue = table[0];
        for (int y = 0; y < Height; y++)
        {
            Span<float> row = destination.Slice(y * Width, Width);
            int sourceY = y + transform.OffsetY;
            if ((uint)sourceY >= (uint)Height)
            {
                row.Fill(padValue);
                continue;
            }

            ReadOnlySpan<byte> sourceRow = source.Slice(sourceY * Width, Width);
            for (int x = 0; x < Width; x++)
            {
                // Flipping the cropped image reads column Width-1-x of the crop.
                int sourceX = (transform.Flip ? Width - 1 - x : x) + transform.OffsetX;
                row[x] = (uint)sourceX < (uint)Width ? table[sourceRow[sourceX]] : padValue;
            }
        }

        for (int y = transform.EraseTop; y < transform.EraseTop + transform.EraseHeight; y++)
            destination.Slice(y * Width + transform.EraseLeft, transform.EraseWidth).Clear();
    }

    private SampleTransform DrawErasing(Rng rng, ErasingOptions erasing, SampleTransform transform)
    {
        double area = Height * Width;
        double logMinRatio = Math.Log(erasing.MinRatio);
        double logMaxRatio = Math.Log(erasing.MaxRatio);
        for (int attempt = 0; attempt < ErasingAttempts; attempt++)
        {
            double eraseArea = area * (erasing.MinScale + (erasing.MaxScale - erasing.MinScale) * rng.NextDouble());
            double aspectRatio = Math.Exp(logMinRatio + (logMaxRatio - logMinRatio) * rng.NextDouble());
            // Math.Round rounds half to even, like Python's round() in torchvision.
            int height = (int)Math.Round(Math.Sqrt(eraseArea * aspectRatio));
            int width = (int)Math.Round(Math.Sqrt(eraseArea / aspectRatio));
            if (height >= Height || width >= Width)
                continue;
            int top = rng.NextInt(Height - height + 1);
            int left = rng.NextInt(Width - width + 1);
            return transform with { EraseTop = top, EraseLeft = left, EraseHeight = height, EraseWidth = width };
        }

        return transform;
    }

    private static void Validate(AugmentationOptions options)
    {
        if (options.Flip is { } flip)
            CheckProbability(flip.Probability, "flip probability");
        if (options.Crop is { Padding: < 0 } crop)
            throw new ArgumentOutOfRangeException(nameof(options), crop.Padding, "The crop padding must be 0 or more.");
        if (options.Erasing is not { } erasing)
            return;
        CheckProbability(erasing.Probability, "erasing probability");
        if (!(erasing.MinScale > 0 && erasing.MinScale <= erasing.MaxScale && erasing.MaxScale <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), $"{erasing.MinScale}-{erasing.MaxScale}",
                "The erasing scale range must satisfy 0 < min <= max <= 1.");
        if (!(erasing.MinRatio > 0 && erasing.MinRatio <= erasing.MaxRatio && double.IsFinite(erasing.MaxRatio)))
            throw new ArgumentOutOfRangeException(nameof(options), $"{erasing.MinRatio}-{erasing.MaxRatio}",
                "The erasing ratio range must satisfy 0 < min <= max.");
    }

    private static void CheckProbability(double probability, string name)
    {
        if (!(probability >= 0 && probability <= 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, $"The {name} must be in [0, 1].");
    }
}
