using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Cuda;
using FashionCuda.Checks;
using FashionCuda.Models;
using FashionCuda.Optim;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Tests.Backends.Cuda;

// Tests that run the CUDA backend itself; each is skipped with the probe's reason where no GPU is usable.
// NOTE: none of these has run yet, because no GPU was available where they were written.
public sealed class CudaBackendTests
{
    public static TheoryData<string> Ops => new(BackendComparisons.OpNames);

    [CudaTheory]
    [MemberData(nameof(Ops))]
    public void OpMatchesReference(string op)
    {
        using var backend = new CudaBackend();
        var results = BackendComparisons.Run(backend, op);
        Assert.NotEmpty(results);
        foreach (var result in results)
            Assert.True(result.Passed,
                $"{result.Op} {result.Quantity}: max abs error {result.MaxAbsError:E3}, max rel error " +
                $"{result.MaxRelError:E3}, tolerance {result.Tolerance:E3}.");
    }

    [CudaFact]
    public void OtherSeedsMatchReference()
    {
        using var backend = new CudaBackend();
        foreach (ulong seed in new ulong[] { 2, 3, 4 })
        {
            var failures = BackendComparisons.Run(backend, seed: seed).Where(r => !r.Passed)
                .Select(r => $"{r.Op} {r.Quantity}");
            Assert.Empty(failures);
        }
    }

    /// <summary>
    /// Twenty SGD steps of a small AlexNet-FM with dropout on the same batches. Tolerance per step:
    /// |gpu − cpu| ≤ 1e-3 + 1e-3·|cpu|; float32 sums in a different order drift apart slowly over steps.
    /// </summary>
    [CudaFact]
    public void TrainingTracksCpuLosses()
    {
        using var gpu = new CudaBackend();
        using var cpu = new CpuBackend(threadCount: 2);
        float[] gpuLosses = TrainLosses(gpu, seed: 5), cpuLosses = TrainLosses(cpu, seed: 5);
        for (int step = 0; step < cpuLosses.Length; step++)
        {
            double allowed = 1e-3 + 1e-3 * Math.Abs(cpuLosses[step]);
            Assert.True(Math.Abs(gpuLosses[step] - cpuLosses[step]) <= allowed,
                $"step {step}: gpu loss {gpuLosses[step]}, cpu loss {cpuLosses[step]}, allowed {allowed:E2}.");
        }
        Assert.True(gpuLosses[^1] < gpuLosses[0], "The loss did not go down over 20 steps.");
    }

    [CudaFact]
    public void SameSeedGivesSameLosses()
    {
        using var first = new CudaBackend();
        using var second = new CudaBackend();
        Assert.Equal(TrainLosses(first, seed: 9), TrainLosses(second, seed: 9));
    }

    [CudaFact]
    public void TrainingStopsAllocatingAfterFirstStep()
    {
        using var backend = new CudaBackend();
        TrainLosses(backend, seed: 1, steps: 2);
        long afterWarmUp = backend.RawAllocations;
        TrainLosses(backend, seed: 1, steps: 3);
        // A second model has its own parameters, so only those may be new allocations.
        Assert.True(backend.RawAllocations - afterWarmUp <= 40,
            $"{backend.RawAllocations - afterWarmUp} raw allocations after warm-up.");
    }

    private static float[] TrainLosses(IBackend backend, ulong seed, int steps = 20)
    {
        const int batch = 16;
        var config = new TrainConfig { Model = new ModelConfig { Name = "alexnet-fm", Width = 8 } };
        var rng = new Rng(seed);
        var network = ModelFactory.Create(config, backend, rng);
        var optimizer = new Sgd(network.Parameters(), 0.01f, momentum: 0.9f);
        var data = new Rng(seed + 100);
        var losses = new float[steps];
        for (int step = 0; step < steps; step++)
        {
            var images = new float[batch * 28 * 28];
            var labels = new float[batch];
            for (int i = 0; i < images.Length; i++)
                images[i] = (float)data.NextNormal();
            for (int i = 0; i < batch; i++)
                labels[i] = data.NextInt(10);
            using var scope = new TensorScope();
            var input = Tensor.FromArray(backend, images, [batch, 1, 28, 28]);
            var target = Tensor.FromArray(backend, labels, [batch]);
            optimizer.ZeroGrad();
            var loss = F.SoftmaxCrossEntropy(network.Call(input), target);
            loss.Backward();
            optimizer.Step();
            losses[step] = loss.Item();
        }
        return losses;
    }
}
