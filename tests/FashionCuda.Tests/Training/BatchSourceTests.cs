using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Cuda;
using FashionCuda.Backends.Reference;
using FashionCuda.Data;
using FashionCuda.Tensors;
using FashionCuda.Tests.Backends;
using FashionCuda.Tests.Studies;
using FashionCuda.Training;

namespace FashionCuda.Tests.Training;

public sealed class BatchSourceTests
{
    /// <summary>Random bytes and labels. The default 37 images leave a last batch of 5 at batch size 8.</summary>
    internal static ImageDataset RandomDataset(int channels, int height, int width, int count = 37, ulong seed = 3)
    {
        var rng = new Rng(seed);
        var pixels = new byte[count * channels * height * width];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)rng.NextInt(256);
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i * 3 % 10)).ToArray();
        return new ImageDataset(pixels, labels, height, width, classCount: 10, channels);
    }

    internal static DataLoaderOptions AugmentedOptions(int batchSize = 8) => new()
    {
        BatchSize = batchSize,
        Seed = 21,
        Augmentation = AugmentationOptions.Standard with { Crop = new CropOptions { Padding = 3 } },
    };

    /// <summary>
    /// Loads every batch of <paramref name="epochs"/> epochs from both sources and requires bit-identical image
    /// and label tensors and equal host labels and sample indices. Returns how many images were erased.
    /// </summary>
    internal static int AssertSameBatches(IBatchSource expected, IBatchSource actual, int epochs)
    {
        Assert.Equal(expected.BatchesPerEpoch, actual.BatchesPerEpoch);
        int erased = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var expectedBatches = new List<(int[] Indices, float[] Labels, float[] Images, float[] LabelTensor)>();
            foreach (Batch batch in expected.Epoch(epoch))
            {
                using var scope = new TensorScope();
                var (images, labels) = expected.Load(batch);
                expectedBatches.Add((batch.SampleIndices.ToArray(), batch.Labels.ToArray(), images.ToArray(),
                    labels.ToArray()));
                erased += batch.Transforms.ToArray().Count(t => t.EraseHeight > 0);
            }
            int b = 0;
            foreach (Batch batch in actual.Epoch(epoch))
            {
                using var scope = new TensorScope();
                var (images, labels) = actual.Load(batch);
                string where = $"epoch {epoch}, batch {b}";
                Assert.True(expectedBatches[b].Indices.SequenceEqual(batch.SampleIndices.ToArray()),
                    $"{where}: indices");
                Assert.True(expectedBatches[b].Labels.SequenceEqual(batch.Labels.ToArray()), $"{where}: host labels");
                Assert.Equal([batch.Count, batch.Channels, batch.Height, batch.Width], images.Dimensions);
                AssertBitIdentical(expectedBatches[b].Images, images.ToArray(), $"{where}: images");
                AssertBitIdentical(expectedBatches[b].LabelTensor, labels.ToArray(), $"{where}: labels");
                b++;
            }
            Assert.Equal(expectedBatches.Count, b);
        }
        return erased;
    }

    /// <summary>Requires equal bit patterns, so -0 differs from 0, and names the first value that differs.</summary>
    internal static void AssertBitIdentical(float[] expected, float[] actual, string description)
    {
        Assert.True(expected.Length == actual.Length,
            $"{description}: {actual.Length} values, expected {expected.Length}");
        int mismatch = -1;
        for (int i = 0; i < expected.Length && mismatch < 0; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                mismatch = i;
        }
        Assert.True(mismatch < 0,
            $"{description}: value {mismatch} is {actual[Math.Max(mismatch, 0)]}, expected " +
            $"{expected[Math.Max(mismatch, 0)]}");
    }

    [Fact]
    public void CpuAndReferenceUseHostSource()
    {
        ImageDataset dataset = RandomDataset(1, 6, 5);
        using var cpu = new CpuBackend(1);
        var reference = new ReferenceBackend();

        using var cpuSource = BatchSources.Create(cpu, dataset, Normalization.Identity, AugmentedOptions());
        using var referenceSource = BatchSources.Create(reference, dataset, Normalization.Identity,
            AugmentedOptions());

        Assert.IsType<HostBatchSource>(cpuSource);
        Assert.IsType<HostBatchSource>(referenceSource);
    }

    [Fact]
    public void DeviceBackendUsesDeviceSource()
    {
        ImageDataset dataset = RandomDataset(1, 6, 5);
        using var cpu = new CpuBackend(1);
        var device = new EmulatedDeviceDatasets();

        using var source = BatchSources.Create(cpu, device, dataset, Normalization.Identity, AugmentedOptions());

        var deviceSource = Assert.IsType<DeviceBatchSource>(source);
        Assert.Equal(1, device.Uploads);
        Assert.Equal(new DeviceDatasetShape(37, 1, 6, 5, 8), deviceSource.Dataset.Shape);
    }

    [Fact]
    public void CudaBackendKeepsDatasetsOnDevice()
    {
        Assert.True(typeof(IDeviceDatasetBackend).IsAssignableFrom(typeof(CudaBackend)));
        Assert.False(typeof(IDeviceDatasetBackend).IsAssignableFrom(typeof(CpuBackend)));
        Assert.False(typeof(IDeviceDatasetBackend).IsAssignableFrom(typeof(ReferenceBackend)));
    }

    [Theory]
    [InlineData(1, 6, 5)]
    [InlineData(3, 7, 9)]
    public void DeviceBatchesEqualHostBatches(int channels, int height, int width)
    {
        ImageDataset dataset = RandomDataset(channels, height, width);
        var normalization = Normalization.Compute(dataset);
        using var cpu = new CpuBackend(1);
        var device = new EmulatedDeviceDatasets();
        using var host = new HostBatchSource(cpu, dataset, normalization, AugmentedOptions());
        using var onDevice = new DeviceBatchSource(cpu, device, dataset, normalization, AugmentedOptions());

        int erased = AssertSameBatches(host, onDevice, epochs: 3);

        Assert.True(erased > 0, "No image was erased, so erasing went unchecked.");
        Assert.Equal(1, device.Uploads); // once for all three epochs
        Assert.Equal(3 * 5, device.Gathers);
    }

    [Fact]
    public void DeviceEvaluationBatchesEqualHost()
    {
        ImageDataset dataset = RandomDataset(1, 6, 5);
        var options = new DataLoaderOptions { BatchSize = 10, Shuffle = false };
        using var cpu = new CpuBackend(1);
        using var host = new HostBatchSource(cpu, dataset, Normalization.Identity, options);
        using var onDevice = new DeviceBatchSource(cpu, new EmulatedDeviceDatasets(), dataset,
            Normalization.Identity, options);

        foreach (Batch batch in onDevice.Epoch(0))
            Assert.All(batch.Transforms.ToArray(), transform => Assert.Equal(default, transform));
        Assert.Equal(0, AssertSameBatches(host, onDevice, epochs: 1));
    }

    [Fact]
    public void SmallDatasetCapsBatchCapacity()
    {
        ImageDataset dataset = RandomDataset(1, 6, 5, count: 3);
        using var cpu = new CpuBackend(1);
        var device = new EmulatedDeviceDatasets();

        using var source = new DeviceBatchSource(cpu, device, dataset, Normalization.Identity, AugmentedOptions(64));

        Assert.Equal(3, source.Dataset.Shape.BatchCapacity);
        Assert.Equal(1, source.BatchesPerEpoch);
    }

    [Fact]
    public void PackRejectsMismatchedLengths()
    {
        var samples = new DeviceBatchSample[2];

        Assert.Throws<ArgumentException>(() => DeviceBatchSource.Pack([1, 2], [default], samples));
        Assert.Throws<ArgumentException>(() => DeviceBatchSource.Pack([1], [default], samples));
    }

    [Fact]
    public void PackKeepsBatchOrder()
    {
        var samples = new DeviceBatchSample[3];
        SampleTransform flipped = new(0, 0, true, 0, 0, 0, 0);

        DeviceBatchSource.Pack([7, 0, 4], [default, flipped, default], samples);

        Assert.Equal([7, 0, 4], samples.Select(s => s.Index));
        Assert.Equal([0, 1, 0], samples.Select(s => s.Flip));
    }

    [Fact]
    public void TrainerChoosesSourceByBackend()
    {
        using var cpu = new CpuBackend(1);
        var config = TrainerConfig();

        var onCpu = new Trainer(config, cpu, StudyRunnerTests.RandomImages(40, 1),
            StudyRunnerTests.RandomImages(12, 2));
        var onReference = new Trainer(config, new ReferenceBackend(), StudyRunnerTests.RandomImages(40, 1),
            StudyRunnerTests.RandomImages(12, 2));

        Assert.Null(onCpu.DeviceDatasets);
        Assert.Null(onReference.DeviceDatasets);
    }

    /// <summary>
    /// The same run with batches built on the host and on an emulated device: every loss and accuracy of every
    /// epoch must be equal, because both paths feed the model bit-identical batches.
    /// </summary>
    [Fact]
    public void EmulatedDeviceTrainingMatchesHost()
    {
        var config = TrainerConfig();
        ImageDataset train = StudyRunnerTests.RandomImages(50, 1), test = StudyRunnerTests.RandomImages(12, 2);
        using var hostBackend = new CpuBackend(1);
        using var deviceBackend = new CpuBackend(1);
        var device = new EmulatedDeviceDatasets();
        var onHost = new Trainer(config, hostBackend, train, test);
        var onDevice = new Trainer(config, deviceBackend, train, test) { DeviceDatasets = device };

        var expected = onHost.Run();
        var actual = onDevice.Run();

        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].TrainLoss, actual[i].TrainLoss);
            Assert.Equal(expected[i].TrainAccuracy, actual[i].TrainAccuracy);
            Assert.Equal(expected[i].TestLoss, actual[i].TestLoss);
            Assert.Equal(expected[i].TestAccuracy, actual[i].TestAccuracy);
            Assert.Equal(expected[i].ValidationLoss, actual[i].ValidationLoss);
            Assert.Equal(expected[i].ValidationAccuracy, actual[i].ValidationAccuracy);
        }
        // Train (40 images), test and validation (10 each), uploaded once for the whole run.
        Assert.Equal([40, 12, 10], device.UploadedShapes.Select(s => s.Count));
        // Per epoch: 40 training images in batches of 16 (3), 12 test images (1), 10 validation images (1).
        Assert.Equal(2 * (3 + 1 + 1), device.Gathers);
    }

    private static TrainConfig TrainerConfig() => TrainConfig.Parse("""
        { "model": { "width": 2, "hidden": 8, "classifier": "linear", "dropout": 0.2 },
          "augmentation": { "flip": true, "crop_padding": 2, "erasing": true },
          "epochs": 2, "batch_size": 16, "validation_count": 10, "seed": 4 }
        """);
}
