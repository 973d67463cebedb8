using FashionCuda.Autograd;
using FashionCuda.Backends.Cpu;
using FashionCuda.Data;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Studies;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Studies;

public class ModelInspectionTests
{
    private static AlexNetFm Model() => new(new CpuBackend(), new Rng(3),
        new AlexNetFmOptions { Width = 2, HiddenFeatures = 8 });

    [Fact]
    public void FirstConvFilters_ReturnsFeatures0Weights()
    {
        var filters = ModelInspection.FirstConvFilters(Model())!;
        Assert.Equal("features.0", filters.Layer);
        Assert.Equal(2, filters.Filters);
        Assert.Equal(1, filters.Channels);
        Assert.Equal(3, filters.Kernel);
        Assert.Equal(2 * 9, filters.Weights.Length);
    }

    [Fact]
    public void Inspect_ReturnsTopFiveAndBlockOutputs()
    {
        var images = StudyRunnerTests.RandomImages(1, 4);
        var inspection = ModelInspection.Inspect(Model(), Normalization.Identity, images.Image(0), 28, 28);
        Assert.Equal(5, inspection.Top.Count);
        for (int i = 1; i < inspection.Top.Count; i++)
            Assert.True(inspection.Top[i - 1].Probability >= inspection.Top[i].Probability);
        Assert.Equal(5, inspection.Top.Select(p => p.Class).Distinct().Count());
        // One ReLU after each of the five convs; the head's ReLUs have 2-D outputs and are left out.
        Assert.Equal(["features.1", "features.4", "features.7", "features.9", "features.11"],
            inspection.Features.Select(f => f.Layer));
        Assert.Equal((2, 28, 28), (inspection.Features[0].Channels, inspection.Features[0].Height,
            inspection.Features[0].Width));
        Assert.Equal(2 * 28 * 28, inspection.Features[0].Values.Length);
        Assert.Empty(inspection.Attention);
    }

    [Fact]
    public void Inspect_WithoutFeatureMapsKeepsTopFive()
    {
        var model = Model();
        var images = StudyRunnerTests.RandomImages(1, 4);
        var full = ModelInspection.Inspect(model, Normalization.Identity, images.Image(0), 28, 28);

        var lean = ModelInspection.Inspect(model, Normalization.Identity, images.Image(0), 28, 28,
            featureMaps: false);

        Assert.Empty(lean.Features);
        Assert.Equal(full.Top, lean.Top);
    }

    /// <summary>Gates its input by a fixed ramp, standing in for CBAM's spatial attention.</summary>
    private sealed class RampGate : Module, ISpatialAttentionMap
    {
        private readonly Conv2d conv;

        public RampGate()
        {
            conv = RegisterModule("conv", new Conv2d(new CpuBackend(), new Rng(1), 1, 10, 28));
        }

        public bool KeepSpatialAttention { get; set; }

        public Tensor? LastSpatialAttention { get; private set; }

        public override Tensor Forward(Tensor input)
        {
            Assert.True(KeepSpatialAttention);
            var ramp = Enumerable.Range(0, 28 * 28).Select(i => i / (28f * 28f)).ToArray();
            LastSpatialAttention = Tensor.FromArray(input.Backend, ramp, [1, 1, 28, 28]);
            return F.Flatten(conv.Call(input));
        }
    }

    [Fact]
    public void Inspect_CollectsSpatialAttentionMaps()
    {
        var images = StudyRunnerTests.RandomImages(1, 4);
        var inspection = ModelInspection.Inspect(new Wrapper(), Normalization.Identity, images.Image(0), 28, 28);
        var map = Assert.Single(inspection.Attention);
        Assert.Equal("gate", map.Module);
        Assert.Equal((28, 28), (map.Height, map.Width));
        Assert.Equal(0f, map.Values[0]);
        Assert.Equal(783f / 784f, map.Values[^1], 6);

        var lean = ModelInspection.Inspect(new Wrapper(), Normalization.Identity, images.Image(0), 28, 28,
            featureMaps: false);
        Assert.Equal(map.Values, Assert.Single(lean.Attention).Values);
    }

    private sealed class Wrapper : Module
    {
        private readonly RampGate gate;

        public Wrapper() => gate = RegisterModule("gate", new RampGate());

        public override Tensor Forward(Tensor input) => gate.Call(input);
    }

    [Fact]
    public void FindErrors_ListsOnlyWrongPredictions()
    {
        var model = Model();
        var images = StudyRunnerTests.RandomImages(40, 5);
        var errors = ModelInspection.FindErrors(model, images, Normalization.Identity, 16, limit: 100);
        var evaluation = FashionCuda.Training.Trainer.Evaluate(model, images, Normalization.Identity, 16);
        Assert.Equal((int)Math.Round((1 - evaluation.Accuracy) * 40), errors.Count);
        Assert.All(errors, e => Assert.NotEqual(e.Actual, e.Predicted));
        Assert.All(errors, e => Assert.Equal(images.Labels[e.Index], e.Actual));
        Assert.True(ModelInspection.FindErrors(model, images, Normalization.Identity, 16, limit: 3).Count <= 3);
    }

    [Fact]
    public void LayerTiming_TimesEveryLeafLayer()
    {
        var model = Model();
        var images = new float[4 * 28 * 28];
        var labels = new float[] { 0, 1, 2, 3 };
        var times = LayerTiming.Measure(model, images, labels, [4, 1, 28, 28], warmup: 0, steps: 1);
        Assert.Equal(model.NamedModules().Count(m => m.Module.Children.Count == 0), times.Layers.Count);
        var conv = times.Layers.First(l => l.Name == "features.3");
        Assert.Equal("Conv2d", conv.Type);
        Assert.True(conv.Forward > TimeSpan.Zero);
        Assert.True(conv.Backward > TimeSpan.Zero);
        Assert.True(times.TotalBackward >= times.Layers.Aggregate(TimeSpan.Zero, (s, l) => s + l.Backward));
        Assert.False(Tape.Current.TimeBackward);
    }

    [Fact]
    public void Inspect_ResNetReluCallsGetDistinctNames()
    {
        var model = new ResNet(new CpuBackend(), new Rng(1), ResNetOptions.Narrow(2));
        var images = StudyRunnerTests.RandomImages(1, 4);

        var inspection = ModelInspection.Inspect(model, Normalization.Identity, images.Image(0), 28, 28);

        var names = inspection.Features.Select(f => f.Layer).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains("layer1.0.relu-1", names);
        Assert.Contains("layer1.0.relu-2", names);
    }

    [Fact]
    public void Inspect_ReadsRgbImages()
    {
        var model = new AlexNetFm(new CpuBackend(), new Rng(3),
            new AlexNetFmOptions { Width = 2, HiddenFeatures = 8, InputChannels = 3, InputSize = 16, Classes = 4 });
        var pixels = new byte[3 * 16 * 16];
        new Random(1).NextBytes(pixels);

        var inspection = ModelInspection.Inspect(model, new Normalization([0.5f, 0.4f, 0.3f], [0.2f, 0.2f, 0.2f]),
            pixels, 16, 16, top: 4);

        Assert.Equal(4, inspection.Top.Count);
        Assert.Equal(16, inspection.Features[0].Height);
    }
}
