using FashionCuda.Backends;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Backends;

/// <summary>
/// A device dataset store that keeps its copies in host arrays and builds batches with
/// <see cref="AugmentKernel"/>, a C# transcription of kernels/augment.cu. It writes into tensors of any backend
/// through <see cref="IBackend.Upload"/>, so the device path of the trainer runs on the CPU in tests.
/// </summary>
internal sealed class EmulatedDeviceDatasets : IDeviceDatasetBackend
{
    public int Uploads { get; private set; }

    public int Gathers { get; private set; }

    /// <summary>Shapes of every upload, in order.</summary>
    public List<DeviceDatasetShape> UploadedShapes { get; } = new();

    public DeviceDataset UploadDataset(ReadOnlySpan<byte> pixels, ReadOnlySpan<float> labels,
        ReadOnlySpan<float> normalizationTable, DeviceDatasetShape shape)
    {
        DeviceDataset.ValidateContents(pixels, labels, normalizationTable, shape);
        Uploads++;
        UploadedShapes.Add(shape);
        return new HostCopy(shape, pixels.ToArray(), labels.ToArray(), normalizationTable.ToArray());
    }

    public void GatherBatch(DeviceDataset dataset, ReadOnlySpan<DeviceBatchSample> samples, Tensor images,
        Tensor labels)
    {
        var copy = (HostCopy)dataset;
        dataset.ValidateBatch(samples, images, labels);
        Gathers++;
        var shape = dataset.Shape;
        var imageValues = new float[images.Length];
        var labelValues = new float[labels.Length];
        AugmentKernel.AugmentForward(copy.Pixels, samples, copy.Table, imageValues, samples.Length, shape.Channels,
            shape.Height, shape.Width);
        AugmentKernel.GatherLabelsForward(copy.Labels, samples, labelValues, samples.Length);
        images.Backend.Upload(imageValues, images);
        labels.Backend.Upload(labelValues, labels);
    }

    private sealed class HostCopy(DeviceDatasetShape shape, byte[] pixels, float[] labels, float[] table)
        : DeviceDataset(shape)
    {
        public byte[] Pixels { get; } = pixels;

        public float[] Labels { get; } = labels;

        public float[] Table { get; } = table;

        protected override void Free()
        {
        }
    }
}

/// <summary>
/// kernels/augment.cu line for line in C#: the same flat-index decomposition and per-pixel formula, run by one
/// loop in place of the grid-stride loop. Tests use it as the oracle of the kernel's contract.
/// </summary>
internal static class AugmentKernel
{
    public static void AugmentForward(byte[] images, ReadOnlySpan<DeviceBatchSample> samples, float[] table,
        float[] output, int batch, int channels, int height, int width)
    {
        long plane = (long)height * width, imageSize = channels * plane, length = batch * imageSize;
        for (long i = 0; i < length; i++)
        {
            int b = (int)(i / imageSize), c = (int)((i / plane) % channels);
            int y = (int)((i % plane) / width), x = (int)(i % width);
            DeviceBatchSample s = samples[b];
            int channelTable = 256 * c;
            float value;
            if (y >= s.EraseTop && y < s.EraseTop + s.EraseHeight && x >= s.EraseLeft &&
                x < s.EraseLeft + s.EraseWidth)
                value = 0.0f;
            else
            {
                int sourceY = y + s.OffsetY;
                int sourceX = (s.Flip != 0 ? width - 1 - x : x) + s.OffsetX;
                bool inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width;
                long image = s.Index * imageSize + c * plane;
                value = inside
                    ? table[channelTable + images[image + (long)sourceY * width + sourceX]]
                    : table[channelTable];
            }
            output[i] = value;
        }
    }

    public static void GatherLabelsForward(float[] labels, ReadOnlySpan<DeviceBatchSample> samples,
        float[] labelsOut, int batch)
    {
        for (int b = 0; b < batch; b++)
            labelsOut[b] = labels[samples[b].Index];
    }
}
