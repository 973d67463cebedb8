using FashionCuda.Autograd;
using FashionCuda.Backends.Cpu;
using FashionCuda.Models;
using FashionCuda.Optim;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Training;

public class AllocationTests
{
    [Fact]
    public void TrainingStep_ReusesPooledArraysAfterFirstSteps()
    {
        var backend = new CpuBackend(2);
        var model = new AlexNetFm(backend, new Rng(3), new AlexNetFmOptions { Width = 2, HiddenFeatures = 16 });
        var optimizer = new Sgd(model.Parameters(), 0.01f, momentum: 0.9f);
        var rng = new Rng(4);
        var images = Enumerable.Range(0, 8 * 28 * 28).Select(_ => (float)rng.NextNormal()).ToArray();
        float[] labels = [0, 1, 2, 3, 4, 5, 6, 7];
        long created = 0;
        for (int step = 0; step < 6; step++)
        {
            using (new TensorScope())
            {
                var input = Tensor.FromArray(backend, images, [8, 1, 28, 28]);
                var target = Tensor.FromArray(backend, labels, [8]);
                optimizer.ZeroGrad();
                F.SoftmaxCrossEntropy(model.Call(input), target).Backward();
                optimizer.Step();
            }
            // The first step creates gradients and momentum buffers, the second finds them all in the pool.
            if (step == 1)
                created = backend.ArraysCreated;
        }
        Assert.True(created > 0);
        Assert.Equal(created, backend.ArraysCreated);
    }
}
