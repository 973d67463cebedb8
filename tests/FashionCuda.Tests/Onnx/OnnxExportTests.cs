using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Onnx;
using FashionCuda.Tensors;
using FashionCuda.Training;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = FashionCuda.Tensors.Tensor;

namespace FashionCuda.Tests.Onnx;

public sealed class OnnxExportTests : IDisposable
{
    // Float32 sums in another order differ by a few ulps per layer; 1e-4 absolute plus 1e-4 relative bounds
    // what ten layers add up to with room to spare, while any wrong attribute moves logits by far more.
    private const double AbsoluteTolerance = 1e-4;
    private const double RelativeTolerance = 1e-4;

    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-onnx-").FullName;
    private readonly CpuBackend backend = new();

    public void Dispose()
    {
        backend.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    private static float[] RandomInput(int count, int channels, int size, ulong seed)
    {
        var rng = new Rng(seed);
        var values = new float[count * channels * size * size];
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)rng.NextNormal();
        return values;
    }

    private static float[] EngineOutput(Module model, float[] input, int[] shape)
    {
        model.Eval();
        using var noGrad = GradMode.NoGrad();
        using var scope = new TensorScope();
        var backend = model.Parameters().First().Backend;
        return model.Call(Tensor.FromArray(backend, input, shape)).ToArray();
    }

    private static float[] RuntimeOutput(string path, float[] input, int[] shape)
    {
        using var session = new InferenceSession(path);
        var tensor = new DenseTensor(input, shape);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, tensor)]);
        return results.Single(r => r.Name == OnnxExporter.OutputName).AsTensor<float>().ToArray();
    }

    /// <summary>
    /// Exports <paramref name="model"/>, runs a batch of 3 random images through ONNX Runtime and the engine, and
    /// checks every output within |engine − runtime| ≤ atol + rtol·|engine|.
    /// </summary>
    private OnnxGraph ExportAndCompare(Module model, int channels, int size, ulong seed = 9)
    {
        string path = Path.Combine(directory, "model.onnx");
        OnnxExporter.Export(model, channels, size, path);
        int[] shape = [3, channels, size, size];
        var input = RandomInput(3, channels, size, seed);

        var expected = EngineOutput(model, input, shape);
        var actual = RuntimeOutput(path, input, shape);

        Assert.Equal(expected.Length, actual.Length);
        Assert.Contains(expected, value => Math.Abs(value) > 1e-3);
        double maxError = 0;
        int worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]) - RelativeTolerance * Math.Abs(expected[i]);
            if (error > maxError)
                (maxError, worst) = (error, i);
        }
        Assert.True(maxError <= AbsoluteTolerance,
            $"output {worst}: engine {expected[worst]}, ONNX Runtime {actual[worst]} (excess {maxError:E2})");
        return OnnxExporter.Trace(model, channels, size);
    }

    /// <summary>Gives batch-norm layers non-trivial running statistics, so a wrong mapping shows.</summary>
    private static void RandomizeBuffers(Module model, ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var (name, tensor) in model.StateDict())
        {
            if (!name.EndsWith("running_mean", StringComparison.Ordinal) &&
                !name.EndsWith("running_var", StringComparison.Ordinal) &&
                !(name.Contains("bias", StringComparison.Ordinal) && tensor.Rank == 1))
                continue;
            var values = new float[tensor.Length];
            for (int i = 0; i < values.Length; i++)
                values[i] = name.EndsWith("running_var", StringComparison.Ordinal)
                    ? 0.5f + (float)rng.NextDouble()
                    : 0.2f * (float)rng.NextNormal();
            tensor.Backend.Upload(values, tensor);
        }
    }

    private Module Build(string json, ulong seed = 3)
    {
        var config = TrainConfig.Parse(json);
        var model = ModelFactory.Create(config, backend, new Rng(seed));
        RandomizeBuffers(model, seed + 1);
        return model;
    }

    [Fact]
    public void AlexNetFm_MatchesOnnxRuntime()
    {
        var model = Build("""{ "model": { "width": 4, "hidden": 32 } }""");

        var graph = ExportAndCompare(model, 1, 28);

        Assert.Equal(["Conv", "Relu", "MaxPool"], graph.Nodes.Take(3).Select(n => n.OpType));
        Assert.Equal(3, graph.Nodes.Count(n => n.OpType == "Gemm"));
        Assert.Single(graph.Nodes, n => n.OpType == "Flatten");
        Assert.Contains(graph.Initializers, i => i.Name == "features.0.weight");
        Assert.Contains(graph.Initializers, i => i.Name == "classifier.6.bias");
    }

    [Fact]
    public void AlexNetFmBatchNormGap_MatchesOnnxRuntime()
    {
        var model = Build("""
            { "model": { "width": 3, "conv_layers": 3, "classifier": "gap", "batch_norm": true,
                         "input_channels": 3, "input_size": 20, "classes": 4 } }
            """);

        var graph = ExportAndCompare(model, 3, 20);

        Assert.Equal(3, graph.Nodes.Count(n => n.OpType == "BatchNormalization"));
        Assert.Single(graph.Nodes, n => n.OpType == "GlobalAveragePool");
        Assert.Contains(graph.Initializers, i => i.Name == "features.1.running_var");
        Assert.Equal([4], graph.OutputShape);
    }

    [Fact]
    public void AlexNetFmLinearHead_MatchesOnnxRuntime()
    {
        var model = Build("""{ "model": { "width": 2, "conv_layers": 7, "classifier": "linear" } }""");

        var graph = ExportAndCompare(model, 1, 28);

        Assert.Single(graph.Nodes, n => n.OpType == "Gemm");
    }

    /// <summary>
    /// A CBAM-style block written with the engine's ops, as a model author would: channel attention from average
    /// and max pooling through a shared two-layer 1×1-conv MLP, then spatial attention from the channel mean and
    /// max through a 7×7 conv, then a residual add, LRN and average pooling.
    /// </summary>
    private sealed class AttentionBlock : Module
    {
        private readonly Conv2d stem;
        private readonly Conv2d reduce;
        private readonly Conv2d expand;
        private readonly Conv2d spatial;
        private readonly Linear head;

        public AttentionBlock(IBackend backend, Rng rng)
        {
            stem = RegisterModule("stem", new Conv2d(backend, rng, 3, 8, 3, 1, 1));
            reduce = RegisterModule("reduce", new Conv2d(backend, rng, 8, 2, 1));
            expand = RegisterModule("expand", new Conv2d(backend, rng, 2, 8, 1));
            spatial = RegisterModule("spatial", new Conv2d(backend, rng, 2, 1, 7, 1, 3));
            head = RegisterModule("head", new Linear(backend, rng, 8 * 6 * 6, 5));
        }

        public override Tensor Forward(Tensor input)
        {
            var x = F.Relu(stem.Call(input));
            var average = expand.Call(F.Relu(reduce.Call(F.GlobalAvgPool2d(x))));
            var max = expand.Call(F.Relu(reduce.Call(F.GlobalMaxPool2d(x))));
            var channelAttended = F.Multiply(x, F.Sigmoid(F.Add(average, max)));
            var pooled = F.ConcatChannels(F.ChannelMean(channelAttended), F.ChannelMax(channelAttended));
            var attended = F.Multiply(channelAttended, F.Sigmoid(spatial.Call(pooled)));
            var residual = F.LocalResponseNorm(F.Add(attended, x), 5, 1e-2f, 0.75f, 2f);
            return head.Call(F.Flatten(F.AvgPool2d(residual, 2, 2)));
        }
    }

    [Fact]
    public void AttentionAndResidualOps_MatchOnnxRuntime()
    {
        var model = new AttentionBlock(backend, new Rng(5));
        RandomizeBuffers(model, 6);

        var graph = ExportAndCompare(model, 3, 12);

        var ops = graph.Nodes.Select(n => n.OpType).ToHashSet();
        foreach (var op in new[]
                 {
                     "GlobalAveragePool", "GlobalMaxPool", "Sigmoid", "Mul", "Add", "ReduceMean", "ReduceMax",
                     "Concat", "LRN", "AveragePool", "Flatten", "Gemm",
                 })
            Assert.Contains(op, ops);
    }

    private sealed class ReshapeBlock : Module
    {
        private readonly Linear squeeze;

        public ReshapeBlock(IBackend backend, Rng rng)
        {
            squeeze = RegisterModule("squeeze", new Linear(backend, rng, 4, 4));
        }

        public override Tensor Forward(Tensor input)
        {
            var vector = F.Reshape(F.GlobalAvgPool2d(input), input[0], 4);
            var weights = F.Reshape(F.Sigmoid(squeeze.Call(vector)), input[0], 4, 1, 1);
            return F.Flatten(F.Multiply(input, weights));
        }
    }

    [Fact]
    public void Reshape_KeepsTheBatchDimensionFree()
    {
        var model = new ReshapeBlock(backend, new Rng(8));

        var graph = ExportAndCompare(model, 4, 3);

        Assert.Single(graph.Nodes, n => n.OpType == "Reshape");
        var shape = graph.Initializers.Single(i => i.Int64s is not null);
        Assert.Equal([0L, 4, 1, 1], shape.Int64s!);
    }

    private sealed class UnrecordedOp : Module
    {
        private readonly Linear linear;

        public UnrecordedOp(IBackend backend, Rng rng)
        {
            linear = RegisterModule("linear", new Linear(backend, rng, 4, 2));
        }

        public override Tensor Forward(Tensor input)
        {
            // A tensor made inside the forward pass, which the recorder cannot know.
            var made = Tensor.FromArray(input.Backend, new float[input[0] * 4], [input[0], 4]);
            return linear.Call(made);
        }
    }

    [Fact]
    public void Trace_UnrecordedTensorIsAnError()
    {
        var model = new UnrecordedOp(backend, new Rng(1));

        var error = Assert.Throws<NotSupportedException>(() => OnnxExporter.Trace(model, 1, 2));

        Assert.Contains("does not record", error.Message);
    }

    [Fact]
    public void ResNetNarrowCbam_MatchesOnnxRuntime()
    {
        var model = Build("""
            { "model": { "name": "resnet-narrow", "cbam": { "mode": "both" }, "input_channels": 3,
                         "input_size": 32, "classes": 10 } }
            """);

        var graph = ExportAndCompare(model, 3, 32);

        Assert.Contains(graph.Nodes, n => n.OpType == "Add");
        Assert.Contains(graph.Nodes, n => n.OpType == "ReduceMax");
    }

    [Fact]
    public void ResNet18_MatchesOnnxRuntime()
    {
        var model = Build("""{ "model": { "name": "resnet-18", "width": 8 } }""");

        var graph = ExportAndCompare(model, 1, 28);

        Assert.Contains(graph.Nodes, n => n.OpType == "Add");
    }

    [Fact]
    public void AlexNetFmCbam_MatchesOnnxRuntime()
    {
        var model = Build("""
            { "model": { "width": 4, "hidden": 32, "cbam": { "placement": "every-conv", "mode": "both" } } }
            """);

        var graph = ExportAndCompare(model, 1, 28);

        Assert.Contains(graph.Nodes, n => n.OpType == "ReduceMean");
        Assert.Contains(graph.Nodes, n => n.OpType == "Sigmoid");
    }
}
