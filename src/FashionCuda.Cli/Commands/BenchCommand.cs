using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FashionCuda.Autograd;
using FashionCuda.Models;
using FashionCuda.Optim;
using FashionCuda.Studies;
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
        var model = new Option<string?>("--model")
        {
            Description = "Model to time: " + string.Join(", ", ModelConfig.Names) + " (default alexnet-fm).",
        };
        var config = new Option<string?>("--config")
        {
            Description = "Time the model of a training config or study file instead of --model, e.g. with CBAM " +
                          "or batch norm; its batch_size is the default batch.",
        };
        var arm = new Option<string?>("--arm")
        {
            Description = "With a study file as --config: the arm whose model to time (default the baseline).",
        };
        var width = new Option<int?>("--width")
        {
            Description = "AlexNet-FM width w or ResNet base width (default 64, 16 for resnet-narrow).",
        };
        var batch = new Option<int?>("--batch") { Description = "Batch size (default 128)." };
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
            model, width, config, arm, batch, steps, warmup, json, device, layers, onnx,
        };
        command.SetAction(parsed => Common.Run(() =>
        {
            var (modelConfig, batchSize, studyArm) = ChooseModel(parsed.GetValue(model), parsed.GetValue(width),
                parsed.GetValue(config), parsed.GetValue(arm));
            return Execute(modelConfig, studyArm, parsed.GetValue(batch) ?? batchSize, parsed.GetValue(steps),
                parsed.GetValue(warmup), parsed.GetValue(json), parsed.GetValue(device)!, parsed.GetValue(layers),
                parsed.GetValue(onnx));
        }));
        return command;
    }

    /// <summary>
    /// Returns the model to time and its default batch size: from <c>--model</c> and <c>--width</c>, or from a
    /// training config or one arm of a study file. A photo-folder config keeps its image size, channels and the
    /// folder's class count, as <c>train</c> sets them, so the timed model is the one that trains. StudyArm names
    /// the study and arm, e.g. "study2-alexnet-cbam arm every-conv", and is null for a training config.
    /// </summary>
    private static (ModelConfig Model, int BatchSize, string? StudyArm) ChooseModel(string? modelName, int? requestedWidth,
        string? configPath, string? armName)
    {
        if (configPath is null)
        {
            if (armName is not null)
                throw new UserException($"--arm {armName}: an arm belongs to a study; pass the study file with " +
                                        "--config as well.");
            modelName ??= "alexnet-fm";
            if (!ModelConfig.Names.Contains(modelName))
                throw new UserException(
                    $"--model {modelName}: unknown model; use one of {string.Join(", ", ModelConfig.Names)}.");
            int width = requestedWidth ?? ModelConfig.DefaultWidth(modelName);
            if (width is < 1 or > ModelConfig.MaxWidth)
                throw new UserException($"--width {width}: use a width from 1 to {ModelConfig.MaxWidth}.");
            return (new ModelConfig { Name = modelName, Width = width }, 128, null);
        }
        if (string.IsNullOrWhiteSpace(configPath))
            throw new UserException($"--config '{configPath}': pass the path of a training config or study file, " +
                                    "e.g. studies/quickstart.json.");
        if (modelName is not null || requestedWidth is not null)
            throw new UserException($"--config {configPath} with --model or --width: the config names the model; " +
                                    "drop --model and --width, or drop --config.");
        var (loaded, studyArm) = LoadConfig(configPath, armName);
        var (train, _) = SummaryCommand.ForData(loaded);
        return (train.Model, train.BatchSize, studyArm);
    }

    private static (TrainConfig Config, string? StudyArm) LoadConfig(string path, string? armName)
    {
        if (!StudyDefinition.IsStudyFile(path))
        {
            if (armName is not null)
                throw new UserException($"--arm {armName}: '{path}' is a training config, not a study file with " +
                                        "arms; drop --arm.");
            return (TrainConfig.Load(path), null);
        }
        var study = StudyDefinition.Load(path);
        string name = armName ?? study.Baseline;
        if (study.Arms.All(a => a.Name != name))
            throw new UserException($"--arm {name}: study {study.Name} has no such arm; its arms are " +
                                    $"{string.Join(", ", study.Arms.Select(a => a.Name))}.");
        return (study.Plan(quick: false).First(run => run.Arm.Name == name).Config, $"{study.Name} arm {name}");
    }

    private static int Execute(ModelConfig modelConfig, string? studyArm, int batch, int steps, int warmup, bool json, string device,
        bool layers, bool onnx)
    {
        if (batch < 2)
            throw new UserException($"--batch {batch}: use at least 2, because batch norm needs two images per batch.");
        if (steps < 1)
            throw new UserException($"--steps {steps}: time at least 1 step.");
        if (warmup < 0)
            throw new UserException($"--warmup {warmup}: use 0 or more warm-up steps.");
        if (layers && onnx)
            throw new UserException("--layers and --onnx: per-layer timing covers the engine only; run bench " +
                                    "--onnx and bench --layers separately.");
        var backend = Common.CreateBackend(device);
        var rng = new Rng(7);
        var network = ModelFactory.Create(new TrainConfig { Model = modelConfig }, backend, rng);
        var optimizer = new Sgd(network.Parameters(), 0.01f, momentum: 0.9f);
        int[] shape = [batch, modelConfig.InputChannels, modelConfig.InputSize, modelConfig.InputSize];
        var images = new float[shape.Aggregate(1, (a, b) => checked(a * b))];
        var labels = new float[batch];
        for (int i = 0; i < images.Length; i++)
            images[i] = (float)rng.NextNormal();
        for (int i = 0; i < batch; i++)
            labels[i] = rng.NextInt(modelConfig.Classes);
        string title = (studyArm is null ? "" : studyArm + ": ") +
                       $"{modelConfig.Describe()}, batch {batch} on {backend.Name}";
        if (layers)
            return BenchLayers.Print(network, images, labels, shape, warmup, steps, json, title);

        backend.ResetPeakMemory();
        double trainRate = Measure(warmup, steps, batch, () =>
        {
            using var scope = new TensorScope();
            var input = Tensor.FromArray(backend, images, shape);
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
            var input = Tensor.FromArray(backend, images, shape);
            network.Call(input).ToArray();
        });
        var onnxResult = onnx ? OnnxBench.Measure(network, images, shape, warmup, steps) : null;
        if (json)
        {
            var text = JsonSerializerText(modelConfig, studyArm, batch, steps, backend.Name, trainRate, inferRate, peak,
                onnxResult);
            Console.WriteLine(text);
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{title}, {Environment.ProcessorCount} threads, " +
                $"{Common.Plural(steps, "timed step")} after {warmup} warm-up"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"train  {trainRate,9:F1} images/s"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"infer  {inferRate,9:F1} images/s"));
            if (onnxResult is not null)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"onnx   {onnxResult.ImagesPerSecond,9:F1} images/s (ONNX Runtime {onnxResult.RuntimeVersion} " +
                    $"CPU); engine / ONNX Runtime = {inferRate / onnxResult.ImagesPerSecond:F2}, max |difference| " +
                    $"{onnxResult.MaxAbsDifference.ToString("0.0E+00", CultureInfo.InvariantCulture)}"));
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

    private static string JsonSerializerText(ModelConfig model, string? studyArm, int batch, int steps, string device,
        double trainRate, double inferRate, long peak, OnnxBench.Result? onnx)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model.Name);
            writer.WriteNumber("width", model.Width);
            writer.WriteString("description", model.Describe());
            if (studyArm is not null)
                writer.WriteString("study_arm", studyArm);
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
