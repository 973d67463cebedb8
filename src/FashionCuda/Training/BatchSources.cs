using FashionCuda.Backends;
using FashionCuda.Data;
using FashionCuda.Tensors;

namespace FashionCuda.Training;

/// <summary>
/// The batches of one dataset as tensors on the model's backend, epoch by epoch. Both sources draw the same
/// order and the same <see cref="SampleTransform"/> per image from (seed, epoch) through a
/// <see cref="DataLoader"/>, so they define the same batches; they differ in where the pixels are made.
/// </summary>
public interface IBatchSource : IDisposable
{
    int BatchesPerEpoch { get; }

    /// <summary>
    /// Returns the host side of each batch of epoch <paramref name="epoch"/> (from 0): sample indices, labels and
    /// transforms. A batch is valid until the enumerator moves on.
    /// </summary>
    IEnumerable<Batch> Epoch(int epoch);

    /// <summary>
    /// Creates the images (N, C, H, W) and labels (N) of <paramref name="batch"/> on the backend. The open
    /// <see cref="TensorScope"/>, if any, disposes them.
    /// </summary>
    (Tensor Images, Tensor Labels) Load(Batch batch);
}

/// <summary>Picks the batch source for a backend.</summary>
public static class BatchSources
{
    /// <summary>
    /// Returns a <see cref="DeviceBatchSource"/> when <paramref name="backend"/> keeps datasets on its device
    /// (CUDA), and a <see cref="HostBatchSource"/> otherwise (the CPU and reference backends).
    /// </summary>
    public static IBatchSource Create(IBackend backend, ImageDataset dataset, Normalization normalization,
        DataLoaderOptions options) =>
        Create(backend, backend as IDeviceDatasetBackend, dataset, normalization, options);

    /// <summary>
    /// Returns a <see cref="DeviceBatchSource"/> on <paramref name="device"/>, or a <see cref="HostBatchSource"/>
    /// when it is null. Tests pass an emulated device here.
    /// </summary>
    internal static IBatchSource Create(IBackend backend, IDeviceDatasetBackend? device, ImageDataset dataset,
        Normalization normalization, DataLoaderOptions options) =>
        device is null
            ? new HostBatchSource(backend, dataset, normalization, options)
            : new DeviceBatchSource(backend, device, dataset, normalization, options);
}

/// <summary>
/// Normalizes and augments each batch on the host with a <see cref="DataLoader"/> and uploads its pixels and
/// labels: the source of the CPU and reference backends.
/// </summary>
public sealed class HostBatchSource : IBatchSource
{
    private readonly IBackend backend;
    private readonly DataLoader loader;

    public HostBatchSource(IBackend backend, ImageDataset dataset, Normalization normalization,
        DataLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(backend);
        this.backend = backend;
        loader = new DataLoader(dataset, normalization, options);
    }

    public int BatchesPerEpoch => loader.BatchesPerEpoch;

    public IEnumerable<Batch> Epoch(int epoch) => loader.Epoch(epoch);

    public (Tensor Images, Tensor Labels) Load(Batch batch)
    {
        var images = Tensor.FromArray(backend, batch.Images, [batch.Count, batch.Channels, batch.Height, batch.Width]);
        var labels = Tensor.FromArray(backend, batch.Labels, [batch.Count]);
        return (images, labels);
    }

    public void Dispose() => loader.Dispose();
}

/// <summary>
/// Keeps the dataset in device memory, uploaded once when the source is made, and builds each batch there.
/// The host draws the batch's order and transforms and uploads them as 32 bytes per image. The device then
/// gathers, normalizes and augments the pixels and gathers the labels.
/// </summary>
public sealed class DeviceBatchSource : IBatchSource
{
    private readonly IBackend backend;
    private readonly IDeviceDatasetBackend device;
    private readonly DataLoader loader;
    private readonly DeviceBatchSample[] samples; // BatchCapacity, reused by every batch

    /// <param name="backend">The backend of the tensors that <see cref="Load"/> returns.</param>
    /// <param name="device">The device that keeps the dataset. The CUDA backend is both.</param>
    public DeviceBatchSource(IBackend backend, IDeviceDatasetBackend device, ImageDataset dataset,
        Normalization normalization, DataLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        this.backend = backend;
        this.device = device;
        // Drawing a batch's transforms takes microseconds, so no prefetch thread is needed.
        loader = new DataLoader(dataset, normalization, options with { RenderImages = false, PrefetchDepth = 0 });
        samples = new DeviceBatchSample[loader.BatchCapacity];
        try
        {
            Dataset = Upload(device, dataset, normalization, loader.BatchCapacity);
        }
        catch
        {
            loader.Dispose();
            throw;
        }
    }

    /// <summary>The dataset's copy on the device.</summary>
    public DeviceDataset Dataset { get; }

    public int BatchesPerEpoch => loader.BatchesPerEpoch;

    public IEnumerable<Batch> Epoch(int epoch) => loader.Epoch(epoch);

    public (Tensor Images, Tensor Labels) Load(Batch batch)
    {
        Span<DeviceBatchSample> used = samples.AsSpan(0, batch.Count);
        Pack(batch.SampleIndices, batch.Transforms, used);
        var images = Tensor.Empty(backend, [batch.Count, batch.Channels, batch.Height, batch.Width]);
        var labels = Tensor.Empty(backend, [batch.Count]);
        device.GatherBatch(Dataset, used, images, labels);
        return (images, labels);
    }

    private static DeviceDataset Upload(IDeviceDatasetBackend device, ImageDataset dataset,
        Normalization normalization, int batchCapacity)
    {
        var table = new float[256 * dataset.Channels];
        normalization.FillTable(table, dataset.Channels);
        float[] labels = Array.ConvertAll(dataset.Labels, label => (float)label);
        var shape = new DeviceDatasetShape(dataset.Count, dataset.Channels, dataset.Height, dataset.Width,
            batchCapacity);
        return device.UploadDataset(dataset.Pixels, labels, table, shape);
    }

    /// <summary>Packs each image's dataset index and transform into the kernel's sample layout.</summary>
    public static void Pack(ReadOnlySpan<int> indices, ReadOnlySpan<SampleTransform> transforms,
        Span<DeviceBatchSample> destination)
    {
        if (indices.Length != transforms.Length || destination.Length != indices.Length)
            throw new ArgumentException(
                $"{indices.Length} indices, {transforms.Length} transforms and {destination.Length} samples must " +
                "all have the same length.");
        for (int i = 0; i < indices.Length; i++)
            destination[i] = ToDeviceSample(indices[i], transforms[i]);
    }

    public static DeviceBatchSample ToDeviceSample(int index, in SampleTransform transform) => new()
    {
        Index = index,
        OffsetY = transform.OffsetY,
        OffsetX = transform.OffsetX,
        Flip = transform.Flip ? 1 : 0,
        EraseTop = transform.EraseTop,
        EraseLeft = transform.EraseLeft,
        EraseHeight = transform.EraseHeight,
        EraseWidth = transform.EraseWidth,
    };

    public void Dispose()
    {
        loader.Dispose();
        Dataset.Dispose();
    }
}
