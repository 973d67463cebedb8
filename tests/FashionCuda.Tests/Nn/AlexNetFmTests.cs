using FashionCuda.Autograd;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Reference;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Nn;

public class AlexNetFmTests
{
    [Fact]
    public void StateNames_FollowTorchSequentialNumbering()
    {
        var model = new AlexNetFm(new CpuBackend(1), new Rng(1), new AlexNetFmOptions { Width = 2 });
        string[] expected =
        [
            "features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias", "features.6.weight",
            "features.6.bias", "features.8.weight", "features.8.bias", "features.10.weight", "features.10.bias",
            "classifier.1.weight", "classifier.1.bias", "classifier.4.weight", "classifier.4.bias",
            "classifier.6.weight", "classifier.6.bias",
        ];
        Assert.Equal(expected, model.StateDict().Select(e => e.Name).ToArray());
    }

    [Fact]
    public void ParameterCount_W64_MatchesHandCount()
    {
        var model = new AlexNetFm(new CpuBackend(1), new Rng(1), new AlexNetFmOptions());
        long expected =
            (64 * 1 * 9 + 64) + (192 * 64 * 9 + 192) + (384 * 192 * 9 + 384) + (256 * 384 * 9 + 256) +
            (256 * 256 * 9 + 256) + (2304 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * 10 + 10);
        Assert.Equal(5_670_602, expected);
        Assert.Equal(expected, model.ParameterCount());
    }

    [Fact]
    public void Summary_W64_ConvAndLinearFlopsMatchHandCount()
    {
        var model = new AlexNetFm(new CpuBackend(1), new Rng(1), new AlexNetFmOptions());
        var rows = ModelSummary.Trace(model, [1, 1, 28, 28]);
        long macs = 28L * 28 * 64 * 9 + 14L * 14 * 192 * 64 * 9 + 7L * 7 * 384 * 192 * 9 + 7L * 7 * 256 * 384 * 9 +
                    7L * 7 * 256 * 256 * 9 + 2304L * 1024 + 1024L * 1024 + 1024L * 10;
        long biasAdds = 28 * 28 * 64 + 14 * 14 * 192 + 7 * 7 * 384 + 2 * 7 * 7 * 256 + 1024 + 1024 + 10;
        long flops = rows.Where(r => r.Type is "Conv2d" or "Linear").Sum(r => r.Flops);
        Assert.Equal(2 * macs + biasAdds, flops);
        Assert.Equal([1, 10], rows[^1].OutputShape);
        Assert.Equal([1, 256, 3, 3], rows.Single(r => r.Name == "features.12").OutputShape);
    }

    [Fact]
    public void SameSeed_GivesSameInitialWeights()
    {
        var a = new AlexNetFm(new CpuBackend(1), new Rng(9), new AlexNetFmOptions { Width = 2 });
        var b = new AlexNetFm(new CpuBackend(1), new Rng(9), new AlexNetFmOptions { Width = 2 });
        var c = new AlexNetFm(new CpuBackend(1), new Rng(10), new AlexNetFmOptions { Width = 2 });
        var wa = a.Parameters().First().ToArray();
        Assert.Equal(wa, b.Parameters().First().ToArray());
        Assert.NotEqual(wa, c.Parameters().First().ToArray());
    }

    [Fact]
    public void KaimingInit_HasFanInStandardDeviation()
    {
        var model = new AlexNetFm(new CpuBackend(1), new Rng(2), new AlexNetFmOptions { Width = 32 });
        var weight = model.NamedParameters().Single(p => p.Name == "features.8.weight").Parameter.ToArray();
        double fanIn = 6 * 32 * 9;
        double std = Math.Sqrt(weight.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.97 * Math.Sqrt(2 / fanIn), 1.03 * Math.Sqrt(2 / fanIn));
        var linear = model.NamedParameters().Single(p => p.Name == "classifier.1.weight").Parameter.ToArray();
        double bound = 1 / Math.Sqrt(4 * 32 * 9);
        Assert.All(linear, v => Assert.InRange(v, -bound, bound));
        Assert.True(linear.Max() > 0.9 * bound);
    }

    [Theory]
    [InlineData(5, ClassifierHead.ThreeLayer, false)]
    [InlineData(3, ClassifierHead.Linear, true)]
    [InlineData(7, ClassifierHead.GlobalAveragePool, true)]
    public void CpuBackend_MatchesReferenceThroughWholeModel(int convLayers, ClassifierHead head, bool batchNorm)
    {
        // Same weights on both backends; logits and every parameter gradient must agree.
        var options = new AlexNetFmOptions
        {
            Width = 2, HiddenFeatures = 16, Dropout = 0f, ConvLayers = convLayers, Classifier = head,
            BatchNorm = batchNorm,
        };
        var rng = new Rng(5);
        var images = Enumerable.Range(0, 3 * 28 * 28).Select(_ => (float)rng.NextNormal()).ToArray();
        float[] labels = [1, 7, 3];
        var (referenceLogits, referenceGrads) = Run(new ReferenceBackend(), options, images, labels);
        var (cpuLogits, cpuGrads) = Run(new CpuBackend(2), options, images, labels);
        AssertClose(referenceLogits, cpuLogits, "logits");
        foreach (var (name, grad) in referenceGrads)
            AssertClose(grad, cpuGrads[name], name);
    }

    private static (float[] Logits, Dictionary<string, float[]> Grads) Run(FashionCuda.Backends.IBackend backend,
        AlexNetFmOptions options, float[] images, float[] labels)
    {
        var model = new AlexNetFm(backend, new Rng(11), options);
        model.ZeroGrad();
        var input = Tensor.FromArray(backend, images, [3, 1, 28, 28]);
        var target = Tensor.FromArray(backend, labels, [3]);
        var logits = model.Call(input);
        F.SoftmaxCrossEntropy(logits, target).Backward();
        return (logits.ToArray(), model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray()));
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        // float32 sums over up to a few hundred terms: 1e-4 absolute plus 1e-3 relative.
        Assert.Equal(expected.Length, actual.Length);
        Assert.Contains(expected, v => v != 0f);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-4 + 1e-3 * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"{what}[{i}]: reference {expected[i]}, cpu {actual[i]}, tolerance {tolerance}");
        }
    }
}
