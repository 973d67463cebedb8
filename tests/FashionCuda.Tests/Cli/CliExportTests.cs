using System.Text.Json;
using FashionCuda.Backends.Cpu;
using FashionCuda.Inference;
using FashionCuda.Onnx;
using FashionCuda.Training;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace FashionCuda.Tests.Cli;

public sealed class CliExportTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-export-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static void AssertUserError(CliRunner.Result result, params string[] fragments)
    {
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: ", result.Error);
        foreach (var fragment in fragments)
            Assert.Contains(fragment, result.Error);
    }

    private string TrainTinyModel()
    {
        string config = Path.Combine(directory, "tiny.json");
        File.WriteAllText(config, """
            { "model": { "width": 2, "hidden": 16, "batch_norm": true }, "epochs": 1, "batch_size": 32,
              "train_limit": 128, "test_limit": 32 }
            """);
        string data = Path.Combine(CliRunner.RepositoryRoot(), "data", "fashion-mnist");
        string run = Path.Combine(directory, "run");
        var result = CliRunner.Run(directory, "train", "--config", config, "--data", data, "--out", run);
        Assert.True(result.ExitCode == 0, result.Error);
        return Path.Combine(run, Checkpoint.FileName);
    }

    [Fact]
    public void Export_WritesFileOnnxRuntimeAgreesWith()
    {
        string checkpoint = TrainTinyModel();
        string onnx = Path.Combine(directory, "model.onnx");

        var result = CliRunner.Run(directory, "export", "--checkpoint", checkpoint, "--onnx", onnx);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("opset 13", result.Output);
        using var backend = new CpuBackend();
        var loaded = Checkpoint.Load(checkpoint, backend);
        var predictor = new Predictor(loaded);
        var images = Enumerable.Range(0, 4).Select(i =>
            Enumerable.Range(0, 28 * 28).Select(p => (byte)((p * 7 + i * 31) % 256)).ToArray()).ToList();
        var batch = predictor.ToBatch(images);
        var expected = predictor.Logits(batch, 4);
        using var session = new InferenceSession(onnx);
        using var outputs = session.Run(
            [NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, new DenseTensor(batch, [4, 1, 28, 28]))]);
        var actual = outputs.Single().AsTensor<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 + 1e-4 * Math.Abs(expected[i]),
                $"logit {i}: engine {expected[i]}, ONNX Runtime {actual[i]}");
        Assert.Contains("T-shirt/top", session.ModelMetadata.CustomMetadataMap["class_names"]);
    }

    [Fact]
    public void Export_BadPathsAreUsageErrors()
    {
        string missing = Path.Combine(directory, "none.safetensors");
        AssertUserError(CliRunner.Run(directory, "export", "--checkpoint", missing, "--onnx",
            Path.Combine(directory, "m.onnx")), missing, "not found");
        string noFolder = Path.Combine(directory, "no", "such", "m.onnx");
        AssertUserError(CliRunner.Run(directory, "export", "--checkpoint", missing, "--onnx", noFolder),
            "does not exist");
    }

    [Fact]
    public void Bench_OnnxReportsBothRates()
    {
        var result = CliRunner.Run(directory, "bench", "--onnx", "--json", "--width", "2", "--batch", "8",
            "--steps", "2", "--warmup", "1");

        Assert.True(result.ExitCode == 0, result.Error);
        using var document = JsonDocument.Parse(result.Output);
        var root = document.RootElement;
        Assert.True(root.GetProperty("onnx_images_per_second").GetDouble() > 0);
        Assert.True(root.GetProperty("engine_to_onnx_ratio").GetDouble() > 0);
        Assert.InRange(root.GetProperty("onnx_max_abs_difference").GetDouble(), 0, 1e-3);
    }
}
