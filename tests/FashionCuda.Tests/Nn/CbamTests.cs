using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Reference;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Nn;

public class CbamTests
{
    [Fact]
    public void StateNames_FollowTorchPort()
    {
        var block = new Cbam(new ReferenceBackend(), new Rng(1), 32, new CbamOptions());
        string[] expected =
        [
            "channel.mlp.0.weight", "channel.mlp.0.bias", "channel.mlp.2.weight", "channel.mlp.2.bias",
            "spatial.conv.weight", "spatial.bn.weight", "spatial.bn.bias", "spatial.bn.running_mean",
            "spatial.bn.running_var",
        ];
        Assert.Equal(expected, block.StateDict().Select(e => e.Name).ToArray());
        var shapes = block.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Dimensions);
        Assert.Equal([2, 32], shapes["channel.mlp.0.weight"]);
        Assert.Equal([32, 2], shapes["channel.mlp.2.weight"]);
        Assert.Equal([1, 2, 7, 7], shapes["spatial.conv.weight"]);
    }

    [Theory]
    [InlineData(CbamMode.Channel, "channel.", "spatial.")]
    [InlineData(CbamMode.Spatial, "spatial.", "channel.")]
    public void Mode_LeavesOutTheOtherPart(CbamMode mode, string present, string absent)
    {
        var block = new Cbam(new ReferenceBackend(), new Rng(1), 8, new CbamOptions { Mode = mode });
        var names = block.StateDict().Select(e => e.Name).ToList();
        Assert.Contains(names, n => n.StartsWith(present, StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.StartsWith(absent, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(8, 16, 1)]
    [InlineData(64, 16, 4)]
    [InlineData(100, 16, 6)]
    [InlineData(16, 4, 4)]
    public void HiddenWidth_IsChannelsOverReductionAtLeastOne(int channels, int reduction, int hidden)
    {
        var attention = new ChannelAttention(new ReferenceBackend(), new Rng(1), channels, reduction);
        Assert.Equal(hidden, attention.HiddenFeatures);
    }

    [Theory]
    [InlineData(0, 7)]
    [InlineData(16, 5)]
    public void Options_RejectInvalidSettings(int reduction, int kernelSize)
    {
        var options = new CbamOptions { Reduction = reduction, KernelSize = kernelSize };
        Assert.Throws<ArgumentException>(() => new Cbam(new ReferenceBackend(), new Rng(1), 8, options));
    }

    [Fact]
    public void NewSpatialAttention_GatesEveryPixelByHalf()
    {
        // The batch norm's weight starts at 0, so its output is its bias 0 and the sigmoid gives 0.5.
        var backend = new ReferenceBackend();
        var attention = new SpatialAttention(backend, new Rng(1), 7) { KeepAttentionMap = true };
        var rng = new Rng(2);
        var values = Enumerable.Range(0, 2 * 3 * 5 * 5).Select(_ => (float)rng.NextNormal()).ToArray();
        var output = attention.Call(Tensor.FromArray(backend, values, [2, 3, 5, 5])).ToArray();

        Assert.Equal(0f, attention.Bn.Weight.ToArray().Single());
        for (int i = 0; i < values.Length; i++)
            Assert.Equal(0.5f * values[i], output[i], 6);
        Assert.NotNull(attention.LastAttentionMap);
        Assert.Equal([2, 1, 5, 5], attention.LastAttentionMap.Dimensions);
    }

    [Fact]
    public void ChannelAttention_MatchesHandComputedGate()
    {
        // One channel, reduction 1: gate = σ(w2·relu(w1·avg + b1) + b2 + w2·relu(w1·max + b1) + b2).
        var backend = new ReferenceBackend();
        var attention = new ChannelAttention(backend, new Rng(1), 1, 1);
        var parameters = attention.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        backend.Upload([0.5f], parameters["mlp.0.weight"]);
        backend.Upload([0.1f], parameters["mlp.0.bias"]);
        backend.Upload([-2f], parameters["mlp.2.weight"]);
        backend.Upload([0.3f], parameters["mlp.2.bias"]);
        float[] x = [1f, 3f, -2f, 6f];
        var output = attention.Call(Tensor.FromArray(backend, x, [1, 1, 2, 2])).ToArray();

        double average = 2, maximum = 6;
        double logit = -2 * Math.Max(0, 0.5 * average + 0.1) + 0.3 - 2 * Math.Max(0, 0.5 * maximum + 0.1) + 0.3;
        double gate = 1 / (1 + Math.Exp(-logit));
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(x[i] * gate, output[i], 6);
    }

    [Theory]
    [InlineData(CbamMode.Both, 7)]
    [InlineData(CbamMode.Channel, 7)]
    [InlineData(CbamMode.Spatial, 3)]
    public void CpuBackend_MatchesReferenceForCbam(CbamMode mode, int kernelSize)
    {
        var options = new CbamOptions { Mode = mode, Reduction = 4, KernelSize = kernelSize };
        BlockComparison.AssertCpuMatchesReference(
            backend => WithSpatialGate(new Cbam(backend, new Rng(3), 12, options), backend), [3, 12, 9, 7]);
    }

    [Theory]
    [InlineData(8, 8, 1, false)]
    [InlineData(8, 16, 2, false)]
    [InlineData(6, 12, 2, true)]
    public void CpuBackend_MatchesReferenceForBasicBlock(int inChannels, int outChannels, int stride, bool cbam)
    {
        var options = cbam ? new CbamOptions { Reduction = 4, KernelSize = 7 } : null;
        BlockComparison.AssertCpuMatchesReference(
            backend => WithSpatialGate(new BasicBlock(backend, new Rng(4), inChannels, outChannels, stride, options),
                backend), [2, inChannels, 10, 10]);
    }

    [Fact]
    public void AlexNetFm_CbamAfterConv2_SitsBeforePool()
    {
        var options = new AlexNetFmOptions
        {
            Width = 2, Cbam = new CbamOptions { Reduction = 2 }, CbamPlacement = CbamPlacement.AfterConv2,
        };
        var model = new AlexNetFm(new ReferenceBackend(), new Rng(1), options);
        Assert.IsType<ReLU>(model.Features[4]);
        Assert.IsType<Cbam>(model.Features[5]);
        Assert.IsType<MaxPool2d>(model.Features[6]);
        Assert.Single(model.NamedModules(), m => m.Module is Cbam);
        Assert.Contains(model.StateDict(), e => e.Name == "features.5.channel.mlp.0.weight");
    }

    [Theory]
    [InlineData(CbamPlacement.EveryConv, 5, 5)]
    [InlineData(CbamPlacement.EveryConv, 7, 7)]
    [InlineData(CbamPlacement.AfterConv5, 7, 1)]
    [InlineData(CbamPlacement.AfterConv2, 3, 1)]
    public void AlexNetFm_PlacesOneCbamPerChosenConv(CbamPlacement placement, int convLayers, int blocks)
    {
        var options = new AlexNetFmOptions
        {
            Width = 2, ConvLayers = convLayers, Cbam = new CbamOptions { Reduction = 2 }, CbamPlacement = placement,
        };
        var model = new AlexNetFm(new ReferenceBackend(), new Rng(1), options);
        var cbamBlocks = model.Features.Children.Where(c => c.Module is Cbam).ToList();
        Assert.Equal(blocks, cbamBlocks.Count);
        foreach (var (name, _) in cbamBlocks)
        {
            int index = int.Parse(name, System.Globalization.CultureInfo.InvariantCulture);
            Assert.IsType<ReLU>(model.Features[index - 1]);
        }
    }

    [Fact]
    public void AlexNetFm_AfterConv5_RejectsThreeConvs()
    {
        var options = new AlexNetFmOptions
        {
            ConvLayers = 3, Cbam = new CbamOptions(), CbamPlacement = CbamPlacement.AfterConv5,
        };
        var error = Assert.Throws<ArgumentException>(() => new AlexNetFm(new ReferenceBackend(), new Rng(1), options));
        Assert.Contains("conv 5", error.Message);
    }

    [Fact]
    public void AlexNetFm_AdaptsToInputShape()
    {
        var options = new AlexNetFmOptions
        {
            Width = 2, HiddenFeatures = 8, InputChannels = 3, InputSize = 32, Classes = 5,
            Cbam = new CbamOptions { Reduction = 2 },
        };
        var model = new AlexNetFm(new ReferenceBackend(), new Rng(1), options);
        var rows = ModelSummary.Trace(model, [1, 3, 32, 32]);
        Assert.Equal([1, 5], rows[^1].OutputShape);
        // 32 → 16 → 8 → 4 after the three pools, so the first linear layer reads 4w·4·4 = 128 features.
        var first = model.Classifier.Children.Select(c => c.Module).OfType<Linear>().First();
        Assert.Equal(8 * 4 * 4, first.InFeatures);
    }

    /// <summary>Gives spatial batch norms weight 1, so their gates vary and the spatial conv's gradient is not 0.</summary>
    private static Module WithSpatialGate(Module module, IBackend backend)
    {
        foreach (var (_, child) in module.NamedModules())
        {
            if (child is SpatialAttention spatial)
                backend.Fill(spatial.Bn.Weight, 1f);
        }
        return module;
    }
}

/// <summary>Runs one block forward and backward on both backends with the same weights and input.</summary>
internal static class BlockComparison
{
    /// <summary>
    /// Builds the block on the reference and CPU backends (the same seed gives the same weights), runs it in
    /// training mode on one input with L = Σ output·G, and compares the output, dInput and every parameter
    /// gradient.
    /// </summary>
    public static void AssertCpuMatchesReference(Func<IBackend, Module> build, int[] inputShape)
    {
        var rng = new Rng(21);
        var input = Enumerable.Range(0, (int)Shape.Elements(inputShape)).Select(_ => (float)rng.NextNormal()).ToArray();
        var reference = Run(new ReferenceBackend(), build, inputShape, input);
        using var cpu = new CpuBackend(2);
        var candidate = Run(cpu, build, inputShape, input);
        Assert.Equal(reference.Keys.Order(), candidate.Keys.Order());
        foreach (var (name, expected) in reference)
            AssertClose(expected, candidate[name], name);
    }

    private static Dictionary<string, float[]> Run(IBackend backend, Func<IBackend, Module> build, int[] shape,
        float[] values)
    {
        var block = build(backend);
        block.ZeroGrad();
        var input = Tensor.FromArray(backend, values, shape, persistent: true);
        input.RequiresGrad = true;
        var output = block.Call(input);
        var rng = new Rng(22);
        var gradOutput = Enumerable.Range(0, (int)output.Length).Select(_ => (float)rng.NextNormal()).ToArray();
        var weights = Tensor.FromArray(backend, gradOutput, [1, gradOutput.Length]);
        var results = new Dictionary<string, float[]> { ["output"] = output.ToArray() };
        F.Linear(F.Reshape(output, 1, -1), weights, null).Backward();
        results["dInput"] = input.Grad!.ToArray();
        foreach (var (name, parameter) in block.NamedParameters())
            results["d " + name] = parameter.Grad!.ToArray();
        return results;
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
