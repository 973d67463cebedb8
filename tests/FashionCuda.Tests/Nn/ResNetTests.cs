using FashionCuda.Backends.Reference;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Nn;

public class ResNetTests
{
    [Fact]
    public void ResNet18_StateNamesFollowTorchvision()
    {
        var model = new ResNet(new ReferenceBackend(), new Rng(1), ResNetOptions.ResNet18(4));
        var names = model.StateDict().Select(e => e.Name).ToList();
        Assert.Equal("conv1.weight", names[0]);
        Assert.Contains("bn1.running_var", names);
        Assert.Contains("layer1.0.conv1.weight", names);
        Assert.Contains("layer4.1.bn2.bias", names);
        Assert.Contains("layer2.0.downsample.0.weight", names);
        Assert.Contains("layer2.0.downsample.1.running_mean", names);
        Assert.DoesNotContain("layer1.0.downsample.0.weight", names);
        Assert.DoesNotContain("layer2.1.downsample.0.weight", names);
        Assert.DoesNotContain(names, n => n.EndsWith("conv1.bias", StringComparison.Ordinal));
        Assert.Equal(["fc.weight", "fc.bias"], names[^2..]);
    }

    [Fact]
    public void ResNet18_ParameterCount_MatchesHandCount()
    {
        var model = new ResNet(new ReferenceBackend(), new Rng(1), ResNetOptions.ResNet18());
        // A 3×3 conv C→K has 9·C·K weights, a batch norm 2 parameters per channel, a 1×1 projection C·K weights.
        long stem = 9 * 1 * 64 + 2 * 64;
        long Block(int c, int k) => 9L * c * k + 2 * k + 9L * k * k + 2 * k + (c == k ? 0 : (long)c * k + 2 * k);
        long layer1 = Block(64, 64) + Block(64, 64);
        long layer2 = Block(64, 128) + Block(128, 128);
        long layer3 = Block(128, 256) + Block(256, 256);
        long layer4 = Block(256, 512) + Block(512, 512);
        long fc = 512 * 10 + 10;
        long expected = stem + layer1 + layer2 + layer3 + layer4 + fc;
        // 704 + 147,968 + 525,568 + 2,099,712 + 8,393,728 + 5,130. The 3-channel CIFAR ResNet-18 has
        // 11,173,962: 2·9·64 = 1,152 more stem weights.
        Assert.Equal(11_172_810, expected);
        Assert.Equal(expected, model.ParameterCount());
    }

    [Fact]
    public void ResNet18_SummaryShapesAndParameterTotal()
    {
        var model = new ResNet(new ReferenceBackend(), new Rng(1), ResNetOptions.ResNet18());
        var rows = ModelSummary.Trace(model, [1, 1, 28, 28]);
        Assert.Equal([1, 64, 28, 28], rows.Last(r => r.Name == "layer1.1").OutputShape);
        Assert.Equal([1, 128, 14, 14], rows.Last(r => r.Name == "layer2.1").OutputShape);
        Assert.Equal([1, 256, 7, 7], rows.Last(r => r.Name == "layer3.1").OutputShape);
        Assert.Equal([1, 512, 4, 4], rows.Last(r => r.Name == "layer4.1").OutputShape);
        Assert.Equal([1, 10], rows[^1].OutputShape);
        Assert.Equal(model.ParameterCount(), rows.Sum(r => r.Parameters));
    }

    [Fact]
    public void Narrow_ParameterCount_MatchesHandCount()
    {
        var model = new ResNet(new ReferenceBackend(), new Rng(1), ResNetOptions.Narrow());
        long stem = 9 * 16 + 2 * 16;
        long Block(int c, int k) => 9L * c * k + 2 * k + 9L * k * k + 2 * k + (c == k ? 0 : (long)c * k + 2 * k);
        long stage1 = 3 * Block(16, 16);
        long stage2 = Block(16, 32) + 2 * Block(32, 32);
        long stage3 = Block(32, 64) + 2 * Block(64, 64);
        long fc = 64 * 10 + 10;
        long expected = stem + stage1 + stage2 + stage3 + fc;
        // 176 + 14,016 + 51,648 + 205,696 + 650.
        Assert.Equal(272_186, expected);
        Assert.Equal(expected, model.ParameterCount());
    }

    [Fact]
    public void NarrowWithCbam_AddsCbamParametersPerBlock()
    {
        var cbam = new CbamOptions { Reduction = 16, KernelSize = 7 };
        var model = new ResNet(new ReferenceBackend(), new Rng(1), ResNetOptions.Narrow() with { Cbam = cbam });
        // Per block with C channels and h = max(1, C/16): MLP C·h + h + h·C + C, spatial conv 2·7·7, batch norm 2.
        long Cbam(int c, int h) => 2L * c * h + h + c + 2 * 7 * 7 + 2;
        long added = 3 * Cbam(16, 1) + 3 * Cbam(32, 2) + 3 * Cbam(64, 4);
        // 3·149 + 3·262 + 3·680 = 3,273.
        Assert.Equal(3_273, added);
        Assert.Equal(272_186 + added, model.ParameterCount());
        Assert.Equal(9, model.NamedModules().Count(m => m.Module is Cbam));
    }

    [Fact]
    public void Narrow_ConvAndLinearFlops_MatchHandCount()
    {
        var model = new ResNet(new ReferenceBackend(), new Rng(1), ResNetOptions.Narrow());
        var rows = ModelSummary.Trace(model, [1, 1, 28, 28]);
        // Multiply-adds of a conv: P·Q·K·C·R·S. The convs have no bias; the linear layer adds 10 biases.
        long stem = 28L * 28 * 16 * 1 * 9;
        long stage1 = 6 * (28L * 28 * 16 * 16 * 9);
        long stage2 = 14L * 14 * 32 * 16 * 9 + 5 * (14L * 14 * 32 * 32 * 9) + 14L * 14 * 32 * 16;
        long stage3 = 7L * 7 * 64 * 32 * 9 + 5 * (7L * 7 * 64 * 64 * 9) + 7L * 7 * 64 * 32;
        long fc = 64 * 10;
        long expected = 2 * (stem + stage1 + stage2 + stage3 + fc) + 10;
        long flops = rows.Where(r => r.Type is "Conv2d" or "Linear").Sum(r => r.Flops);
        Assert.Equal(expected, flops);
        Assert.Equal([1, 64, 7, 7], rows.Single(r => r.Name == "layer3.0.downsample.0").OutputShape);
    }

    [Fact]
    public void BasicBlock_RowCountsOnlyTheResidualAddition()
    {
        var model = new ResNet(new ReferenceBackend(), new Rng(1), ResNetOptions.Narrow());
        var rows = ModelSummary.Trace(model, [1, 1, 28, 28]);
        var block = rows.Single(r => r.Name == "layer2.0");
        Assert.Equal("BasicBlock", block.Type);
        Assert.Equal(32 * 14 * 14, block.Flops);
        Assert.Equal(0, block.Parameters);
    }

    [Fact]
    public void AlexNetFmCbam_Parameters_MatchHandCount()
    {
        var options = new AlexNetFmOptions { Cbam = new CbamOptions(), CbamPlacement = CbamPlacement.EveryConv };
        var model = new AlexNetFm(new ReferenceBackend(), new Rng(1), options);
        // The baseline's 5,670,602 (AlexNetFmTests) plus one CBAM per conv, with C = 64, 192, 384, 256, 256 and
        // h = C / 16 = 4, 12, 24, 16, 16: MLP 2·C·h + h + C, spatial conv 2·7·7 and batch norm 2.
        long Cbam(int c) => 2L * c * (c / 16) + c / 16 + c + 2 * 7 * 7 + 2;
        long added = Cbam(64) + Cbam(192) + Cbam(384) + 2 * Cbam(256);
        // 680 + 4,912 + 18,940 + 2·8,564.
        Assert.Equal(41_660, added);
        Assert.Equal(5_670_602 + added, model.ParameterCount());
        var rows = ModelSummary.Trace(model, [1, 1, 28, 28]);
        Assert.Equal(model.ParameterCount(), rows.Sum(r => r.Parameters));
        Assert.Equal([1, 10], rows[^1].OutputShape);
    }

    [Fact]
    public void CbamRows_CountPoolingAndGating()
    {
        var options = new AlexNetFmOptions
        {
            Width = 2, Cbam = new CbamOptions { Reduction = 2 }, CbamPlacement = CbamPlacement.AfterConv2,
        };
        var model = new AlexNetFm(new ReferenceBackend(), new Rng(1), options);
        var rows = ModelSummary.Trace(model, [1, 1, 28, 28]);
        // CBAM after conv 2 gets (1, 6, 14, 14): 1,176 elements, 6 descriptors, 196 pixels.
        long elements = 6 * 14 * 14;
        Assert.Equal(2 * elements + 6 + 4 * 6 + elements, rows.Single(r => r.Name == "features.5.channel").Flops);
        Assert.Equal(2 * elements + 4 * 196 + elements, rows.Single(r => r.Name == "features.5.spatial").Flops);
        // The shared MLP runs twice, once per descriptor, and its parameters count once.
        Assert.Equal(1, rows.Count(r => r.Name == "features.5.channel.mlp.0"));
        Assert.Equal(1, rows.Count(r => r.Name == "features.5.channel.mlp.0 (2nd call)"));
        Assert.Equal(model.ParameterCount(), rows.Sum(r => r.Parameters));
    }

    [Fact]
    public void ResNet_AdaptsToInputShape()
    {
        var options = ResNetOptions.Narrow(4) with { InputChannels = 3, InputSize = 20, Classes = 7 };
        var model = new ResNet(new ReferenceBackend(), new Rng(1), options);
        var rows = ModelSummary.Trace(model, [1, 3, 20, 20]);
        Assert.Equal([1, 16, 5, 5], rows.Last(r => r.Name == "layer3.2").OutputShape);
        Assert.Equal([1, 7], rows[^1].OutputShape);
        Assert.Equal([4, 3, 3, 3], model.Conv1.Weight.Dimensions);
    }
}
