using System.Runtime.InteropServices;
using FashionCuda.Tensors;

namespace FashionCuda.Backends;

/// <summary>
/// One image of a device batch as <c>augment_forward_kernel</c> reads it (<c>fc_batch_sample</c> in
/// kernels/augment.cu): the dataset index and the image's random choices, 8 ints and 32 bytes in this order.
/// The identity transform of image <c>i</c> is <c>new DeviceBatchSample { Index = i }</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct DeviceBatchSample
{
    public const int SizeInBytes = 8 * sizeof(int);

    /// <summary>Image in the dataset.</summary>
    public int Index;

    /// <summary>Crop row shift: output row y reads input row y + OffsetY.</summary>
    public int OffsetY;

    /// <summary>Crop column shift, applied before the flip.</summary>
    public int OffsetX;

    /// <summary>1 mirrors the cropped image left to right, 0 keeps it.</summary>
    public int Flip;

    /// <summary>Top row of the erased rectangle, in output coordinates.</summary>
    public int EraseTop;

    public int EraseLeft;

    /// <summary>Rows of the erased rectangle, or 0 to erase nothing.</summary>
    public int EraseHeight;

    public int EraseWidth;
}

/// <summary>
/// Sizes of a dataset kept in device memory. Pixels are bytes (Count, Channels, Height, Width), so the byte
/// offset of image i is i·<see cref="PixelsPerImage"/>, computed in 64 bits.
/// </summary>
/// <param name="BatchCapacity">Maximum images in one batch, which sizes the backend's sample buffer.</param>
public readonly record struct DeviceDatasetShape(int Count, int Channels, int Height, int Width, int BatchCapacity)
{
    /// <summary>Bytes of one image: Channels·Height·Width.</summary>
    public long PixelsPerImage => (long)Channels * Height * Width;

    /// <summary>Bytes of all images: Count·Channels·Height·Width.</summary>
    public long PixelBytes => Count * PixelsPerImage;

    /// <summary>Floats of the normalization table: 256 per channel, channel-major.</summary>
    public int TableLength => 256 * Channels;

    /// <summary>Bytes of the sample buffer: <see cref="BatchCapacity"/> samples of 32 bytes.</summary>
    public long SampleBufferBytes => (long)BatchCapacity * DeviceBatchSample.SizeInBytes;

    /// <summary>Byte offset of image <paramref name="index"/> in the pixel buffer.</summary>
    public long ImageOffset(int index) => index * PixelsPerImage;

    /// <summary>Throws unless every size is valid, with at least one image per batch.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Count, nameof(Count));
        ArgumentOutOfRangeException.ThrowIfLessThan(Channels, 1, nameof(Channels));
        ArgumentOutOfRangeException.ThrowIfLessThan(Height, 1, nameof(Height));
        ArgumentOutOfRangeException.ThrowIfLessThan(Width, 1, nameof(Width));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchCapacity, 1, nameof(BatchCapacity));
    }
}

/// <summary>
/// A backend that keeps datasets in its own memory and gathers augmented batches there, so a training step
/// uploads only the batch's samples (32 bytes per image) instead of its pixels. The CUDA backend implements it
/// with kernels/augment.cu.
/// </summary>
public interface IDeviceDatasetBackend
{
    /// <summary>
    /// Copies a dataset to the device once: <paramref name="pixels"/> (Count·C·H·W bytes, CHW per image),
    /// <paramref name="labels"/> (Count class indices as float32) and <paramref name="normalizationTable"/>
    /// (C·256 floats: the normalized value of each byte, per channel).
    /// </summary>
    DeviceDataset UploadDataset(ReadOnlySpan<byte> pixels, ReadOnlySpan<float> labels,
        ReadOnlySpan<float> normalizationTable, DeviceDatasetShape shape);

    /// <summary>
    /// Writes the normalized, augmented images of <paramref name="samples"/> into <paramref name="images"/>
    /// (N, C, H, W) and their labels into <paramref name="labels"/> (N), where N is the sample count. Pixel
    /// (c, y, x) of image b is 0 inside b's erased rectangle, and otherwise the normalized value of input pixel
    /// (y + OffsetY, (Flip ? W − 1 − x : x) + OffsetX), or of the byte 0 where that lies outside the image.
    /// </summary>
    void GatherBatch(DeviceDataset dataset, ReadOnlySpan<DeviceBatchSample> samples, Tensor images, Tensor labels);
}

/// <summary>A dataset in a device's memory, made by <see cref="IDeviceDatasetBackend.UploadDataset"/>.</summary>
public abstract class DeviceDataset : IDisposable
{
    protected DeviceDataset(DeviceDatasetShape shape)
    {
        shape.Validate();
        Shape = shape;
    }

    public DeviceDatasetShape Shape { get; }

    public bool IsDisposed { get; private set; }

    /// <summary>
    /// Throws unless the arrays of an upload have the lengths <paramref name="shape"/> gives them.
    /// </summary>
    public static void ValidateContents(ReadOnlySpan<byte> pixels, ReadOnlySpan<float> labels,
        ReadOnlySpan<float> normalizationTable, DeviceDatasetShape shape)
    {
        shape.Validate();
        if (pixels.Length != shape.PixelBytes)
            throw new ArgumentException(
                $"The pixels have {pixels.Length} bytes, but {shape.Count} images of {shape.Channels}×" +
                $"{shape.Height}×{shape.Width} need {shape.PixelBytes}.", nameof(pixels));
        if (labels.Length != shape.Count)
            throw new ArgumentException(
                $"There are {labels.Length} labels for {shape.Count} images.", nameof(labels));
        if (normalizationTable.Length != shape.TableLength)
            throw new ArgumentException(
                $"The normalization table has {normalizationTable.Length} values, but {shape.Channels} channels " +
                $"need {shape.TableLength}.", nameof(normalizationTable));
    }

    /// <summary>
    /// Throws unless a batch fits this dataset: at most <see cref="DeviceDatasetShape.BatchCapacity"/> samples,
    /// each index inside the dataset, flip 0 or 1, each erased rectangle inside the image, and output tensors of
    /// shape (N, C, H, W) and (N). The kernels cannot raise errors, so a bad index would read stray memory.
    /// </summary>
    public void ValidateBatch(ReadOnlySpan<DeviceBatchSample> samples, Tensor images, Tensor labels)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (samples.Length > Shape.BatchCapacity)
            throw new ArgumentException(
                $"The batch has {samples.Length} samples, but this device dataset was uploaded for batches of " +
                $"at most {Shape.BatchCapacity}.", nameof(samples));
        int[] expected = [samples.Length, Shape.Channels, Shape.Height, Shape.Width];
        if (!images.Dimensions.AsSpan().SequenceEqual(expected))
            throw new ArgumentException(
                $"The batch images must have shape {Tensors.Shape.Format(expected)}, but they are {images}.",
                nameof(images));
        if (labels.Length != samples.Length)
            throw new ArgumentException(
                $"The batch labels {labels} must have {samples.Length} elements, one per sample.", nameof(labels));
        for (int i = 0; i < samples.Length; i++)
            ValidateSample(samples, i);
    }

    private void ValidateSample(ReadOnlySpan<DeviceBatchSample> samples, int position)
    {
        ref readonly DeviceBatchSample sample = ref samples[position];
        if ((uint)sample.Index >= (uint)Shape.Count)
            throw new ArgumentOutOfRangeException(nameof(samples), sample.Index,
                $"Sample {position} reads image {sample.Index}, outside the dataset of {Shape.Count} images.");
        if (sample.Flip is not (0 or 1))
            throw new ArgumentOutOfRangeException(nameof(samples), sample.Flip,
                $"Sample {position} has flip {sample.Flip}; it must be 0 or 1.");
        bool rowsInside = sample.EraseTop >= 0 && sample.EraseHeight >= 0 &&
                          (long)sample.EraseTop + sample.EraseHeight <= Shape.Height;
        bool columnsInside = sample.EraseLeft >= 0 && sample.EraseWidth >= 0 &&
                             (long)sample.EraseLeft + sample.EraseWidth <= Shape.Width;
        if (!rowsInside || !columnsInside)
            throw new ArgumentOutOfRangeException(nameof(samples),
                $"Sample {position} erases rows {sample.EraseTop}+{sample.EraseHeight} and columns " +
                $"{sample.EraseLeft}+{sample.EraseWidth}, which leave the {Shape.Height}×{Shape.Width} image.");
    }

    public void Dispose()
    {
        if (IsDisposed)
            return;
        IsDisposed = true;
        Free();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the device memory; called once, by <see cref="Dispose"/>.</summary>
    protected abstract void Free();
}
