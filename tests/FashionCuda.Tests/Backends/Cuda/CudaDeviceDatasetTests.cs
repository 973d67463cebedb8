using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Cuda;
using FashionCuda.Data;
using FashionCuda.Tests.Studies;
using FashionCuda.Tests.Training;
using FashionCuda.Training;

namespace FashionCuda.Tests.Backends.Cuda;

// The device-resident dataset on a real GPU; each test is skipped with the probe's reason where no GPU is usable.
// NOTE: none of these has run yet, because no GPU was available where they were written.
public sealed class CudaDeviceDatasetTests
{
    /// <summary>
    /// kernels/augment.cu against the host pipeline: exact equality, because both normalize through the same
    /// table and do no arithmetic on the values.
    /// </summary>
    [CudaTheory]
    [InlineData(1, 28, 28)]
    [InlineData(3, 7, 9)]
    public void DeviceBatchesEqualHostBatches(int channels, int height, int width)
    {
        ImageDataset dataset = BatchSourceTests.RandomDataset(channels, height, width, count: 301);
        var normalization = Normalization.Compute(dataset);
        using var cpu = new CpuBackend(2);
        using var gpu = new CudaBackend();
        var options = BatchSourceTests.AugmentedOptions(batchSize: 64);
        using var host = new HostBatchSource(cpu, dataset, normalization, options);
        using var device = new DeviceBatchSource(gpu, gpu, dataset, normalization, options);

        int erased = BatchSourceTests.AssertSameBatches(host, device, epochs: 2);

        Assert.True(erased > 0, "No image was erased, so erasing went unchecked.");
    }

    [CudaFact]
    public void TrainerKeepsDatasetsOnGpu()
    {
        using var gpu = new CudaBackend();
        var config = TrainConfig.Parse("""{ "model": { "width": 2, "hidden": 8 }, "epochs": 1, "batch_size": 16 }""");
        var trainer = new Trainer(config, gpu, StudyRunnerTests.RandomImages(48, 1),
            StudyRunnerTests.RandomImages(16, 2));

        Assert.Same(gpu, trainer.DeviceDatasets);
        var epoch = Assert.Single(trainer.Run());
        Assert.True(double.IsFinite(epoch.TrainLoss), $"train loss {epoch.TrainLoss}");
        // A second run uploads the datasets again; both runs must return their blocks when they end.
        long afterFirstRun = gpu.BytesInUse;
        trainer.Run();
        Assert.Equal(afterFirstRun, gpu.BytesInUse);
    }
}
