using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FashionCuda.Autograd;
using FashionCuda.Models;
using FashionCuda.Optim;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Cli.Commands;

/// <summary>
/// <c>fashioncuda bench</c>: training and inference throughput of a model on synthetic batches, warm-up steps
/// excluded, and the backend's peak memory (tensors and kernel scratch).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model")
        {
            Description = "Model to time: " + string.Join(", ", ModelConfig.Names) + ".",
            DefaultValueFactory = _ => "alexnet-fm",
        };
        var width = new Option<int?>("--width")
        {
            Description = "AlexNet-FM width w or ResNet base width (default 64, 16 for resnet-narrow).",
        };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 128 };
        var steps = new Option<int>("--steps") { Description = "Timed steps.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup")
        {
            Description = "Untimed steps first.",
            DefaultValueFactory = _ => 2,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var layers = BenchLayers.Option();
        var onnx = new Option<bool>("--onnx")
        {
            Description = "Also time ONNX Runtime (CPU) on the exported model, beside the engine's inference.",
        };
        var device = Common.DeviceOption();
        var command = new Command("bench", "Measure training and inference images per second.")
        {
            model, width, batch, steps, warmup, json, device, layers, onnx,
        };
        command.SetAction(parsed => Common.Run(() => Execute(parsed.GetValue(model)!, parsed.GetValue(width),
            parsed.GetValue(batch), parsed.GetValue(steps), parsed.GetValue(warmup), parsed.GetValue(json),
            parsed.GetValue(device)!, parsed.GetValue(layers), parsed.GetValue(onnx))));
        return command;
    }

    private static int Execute(string modelName, int? requestedWidth, int batch, int steps, int warmup, bool json,
        string device, bool layers, bool onnx)
    {
        if (!ModelConfig.Names.Contains(modelName))
            throw new UserException(
                $"--model {modelName}: unknown model; use one of {string.Join(", ", ModelConfig.Names)}.");
        int width = requestedWidth ?? ModelConfig.DefaultWidth(modelName);
        if (width is < 1 or > ModelConfig.MaxWidth)
            throw new UserException($"--width {width}: use a width from 1 to {ModelConfig.MaxWidth}.");
        if (batch < 2)
            throw new UserException($"--batch {batch}: use at least 2, because batch norm needs two images.");
        if (steps < 1)
            throw new UserException($"--steps {steps}: time at least 1 step.");
        if (warmup < 0)
            throw new UserException($"--warmup {warmup}: use 0 or more warm-up steps.");
        if (layers && onnx)
            throw new UserException("--layers and --onnx: per-layer timing covers the engine only; run bench " +
                                    "--onnx and bench --layers separately.");
        var backend = Common.CreateBackend(device);
        var config = new TrainConfig { Model = new ModelConfig { Name = modelName, Width = width } };
        var rng = new Rng(7);
        var network = ModelFactory.Create(config, backend, rng);
        var optimizer = new Sgd(network.Parameters(), 0.01f, momentum: 0.9f);
        var images = new float[batch * 28 * 28];
        var labels = new float[batch];
        for (int i = 0; i < images.Length; i++)
            images[i] = (float)rng.NextNormal();
        for (int i = 0; i < batch; i++)
            labels[i] = rng.NextInt(10);
        if (layers)
            return BenchLayers.Print(network, images, labels, [batch, 1, 28, 28], warmup, steps, json,
                $"{modelName} w={width} batch {batch} on {backend.Name}");

        backend.ResetPeakMemory();
        double trainRate = Measure(warmup, steps, batch, () =>
        {
            using var scope = new TensorScope();
            var input = Tensor.FromArray(backend, images, [batch, 1, 28, 28]);
            var target = Tensor.FromArray(backend, labels, [batch]);
            optimizer.ZeroGrad();
            var loss = F.SoftmaxCrossEntropy(network.Call(input), target);
            loss.Backward();
            optimizer.Step();
            loss.Item();
        });
        long peak = backend.PeakBytesInUse;
        network.Eval();
        double inferRate = Measure(warmup, steps, batch, () =>
        {
            using var noGrad = GradMode.NoGrad();
            using var scope = new TensorScope();
            var input = Tensor.FromArray(backend, images, [batch, 1, 28, 28]);
            network.Call(input).ToArray();
        });
        var onnxResult = onnx ? OnnxBench.Measure(network, images, [batch, 1, 28, 28], warmup, steps) : null;
        if (json)
        {
            var text = JsonSerializerText(modelName, width, batch, steps, backend.Name, trainRate, inferRate, peak,
                onnxResult);
            Console.WriteLine(text);
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{modelName} w={width} batch {batch} on {backend.Name}, {Environment.ProcessorCount} threads, " +
                $"{steps} timed steps after {warmup} warm-up"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"train  {trainRate,9:F1} images/s"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"infer  {inferRate,9:F1} images/s"));
            if (onnxResult is not null)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"onnx   {onnxResult.ImagesPerSecond,9:F1} images/s (ONNX Runtime {onnxResult.RuntimeVersion} " +
                    $"CPU); engine / ONNX Runtime = {inferRate / onnxResult.ImagesPerSecond:F2}, max |difference| " +
                    $"{onnxResult.MaxAbsDifference:E1}"));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"peak memory {peak / (1024.0 * 1024.0):F1} MiB (tensors and kernel scratch)"));
        }
        return ExitCodes.Success;
    }

    private static double Measure(int warmup, int steps, int batch, Action step)
    {
        for (int i = 0; i < warmup; i++)
            step();
        var timer = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
            step();
        return steps * batch / timer.Elapsed.TotalSeconds;
    }

    private static string JsonSerializerText(string model, int width, int batch, int steps, string device,
        double trainRate, double inferRate, long peak, OnnxBench.Result? onnx)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            writer.WriteNumber("width", width);
            writer.WriteNumber("batch", batch);
            writer.WriteNumber("steps", steps);
            writer.WriteString("device", device);
            writer.WriteNumber("threads", Environment.ProcessorCount);
            writer.WriteNumber("train_images_per_second", Math.Round(trainRate, 2));
            writer.WriteNumber("infer_images_per_second", Math.Round(inferRate, 2));
            writer.WriteNumber("peak_memory_bytes", peak);
            if (onnx is not null)
            {
                writer.WriteNumber("onnx_images_per_second", Math.Round(onnx.ImagesPerSecond, 2));
                writer.WriteNumber("engine_to_onnx_ratio", Math.Round(inferRate / onnx.ImagesPerSecond, 4));
                writer.WriteNumber("onnx_max_abs_difference", onnx.MaxAbsDifference);
                writer.WriteString("onnx_runtime_version", onnx.RuntimeVersion);
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
