using System.Runtime.InteropServices;
using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

// Device-resident datasets and batch augmentation: kernels/augment.cu.
// NOTE: never run on a GPU. The dataset upload, the sample buffer's reuse and the launch arguments of both
// kernels are compile-checked and reviewed only.
public sealed partial class CudaBackend : IDeviceDatasetBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// The pixels go to one raw block of the caching allocator, the labels and the table to persistent tensors,
    /// and a sample buffer of <see cref="DeviceDatasetShape.BatchCapacity"/> entries is reserved for
    /// <see cref="GatherBatch"/>, so gathering allocates nothing.
    /// </remarks>
    public DeviceDataset UploadDataset(ReadOnlySpan<byte> pixels, ReadOnlySpan<float> labels,
        ReadOnlySpan<float> normalizationTable, DeviceDatasetShape shape)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        DeviceDataset.ValidateContents(pixels, labels, normalizationTable, shape);
        var dataset = new CudaDeviceDataset(this, shape);
        try
        {
            UploadBytes(pixels, dataset.Pixels);
            dataset.Labels = Tensor.FromArray(this, labels, [shape.Count], persistent: true);
            dataset.Table = Tensor.FromArray(this, normalizationTable, [shape.TableLength], persistent: true);
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
        return dataset;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One host-to-device copy of the samples (which waits for the stream, like every upload here), then
    /// <c>augment_forward_kernel</c> and <c>gather_labels_forward_kernel</c> on the backend's stream.
    /// </remarks>
    public void GatherBatch(DeviceDataset dataset, ReadOnlySpan<DeviceBatchSample> samples, Tensor images,
        Tensor labels)
    {
        if (dataset is not CudaDeviceDataset own || !ReferenceEquals(own.Backend, this))
            throw new ArgumentException("The device dataset was uploaded by another backend.", nameof(dataset));
        dataset.ValidateBatch(samples, images, labels);
        ulong imagesPointer = Pointer(images), labelsPointer = Pointer(labels);
        if (samples.IsEmpty)
            return;
        // Later batches overwrite the buffer only after this one's kernels ran, because all share one stream.
        UploadBytes(MemoryMarshal.AsBytes(samples), own.Samples);
        var shape = dataset.Shape;
        Arguments().Add(own.Pixels).Add(own.Samples).Add(Pointer(own.Table!)).Add(imagesPointer)
            .Add(samples.Length).Add(shape.Channels).Add(shape.Height).Add(shape.Width);
        Launch("augment_forward_kernel", Elementwise(images.Length));
        Arguments().Add(Pointer(own.Labels!)).Add(own.Samples).Add(labelsPointer).Add(samples.Length);
        Launch("gather_labels_forward_kernel", Elementwise(samples.Length));
    }

    /// <summary>
    /// The device memory of one uploaded dataset: raw allocator blocks for the pixels and samples, and tensors
    /// for the labels and the table.
    /// </summary>
    private sealed class CudaDeviceDataset : DeviceDataset
    {
        public CudaDeviceDataset(CudaBackend backend, DeviceDatasetShape shape) : base(shape)
        {
            Backend = backend;
            // An empty dataset still gets a block, because the allocator hands out at least one byte.
            (Pixels, _) = backend.allocator.Rent(Math.Max(shape.PixelBytes, 1));
            try
            {
                (Samples, _) = backend.allocator.Rent(shape.SampleBufferBytes);
            }
            catch
            {
                backend.allocator.Return(Pixels);
                throw;
            }
        }

        public CudaBackend Backend { get; }

        /// <summary>Count·C·H·W bytes.</summary>
        public ulong Pixels { get; }

        /// <summary>BatchCapacity <see cref="DeviceBatchSample"/> entries.</summary>
        public ulong Samples { get; }

        public Tensor? Labels { get; set; } // (Count)

        public Tensor? Table { get; set; } // (C·256)

        protected override void Free()
        {
            Labels?.Dispose();
            Table?.Dispose();
            // After the backend's disposal these do nothing, because the allocator freed every block then.
            Backend.allocator.Return(Pixels);
            Backend.allocator.Return(Samples);
        }
    }
}
