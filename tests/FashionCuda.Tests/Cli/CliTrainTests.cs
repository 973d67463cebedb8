using System.Text.Json;
using FashionCuda.Training;

namespace FashionCuda.Tests.Cli;

public sealed class CliTrainTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-train-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private const string TinyConfig = """
        { "model": { "width": 2, "hidden": 16 }, "epochs": 2, "batch_size": 32, "train_limit": 200,
          "test_limit": 100, "seed": 3, "augmentation": { "flip": true, "crop_padding": 2, "erasing": true } }
        """;

    private CliRunner.Result Train(string runName)
    {
        string config = Path.Combine(directory, "tiny.json");
        File.WriteAllText(config, TinyConfig);
        string data = Path.Combine(CliRunner.RepositoryRoot(), "data", "fashion-mnist");
        return CliRunner.Run(directory, "train", "--config", config, "--data", data, "--out",
            Path.Combine(directory, runName));
    }

    [Fact]
    public void Train_WritesRunFolder()
    {
        var result = Train("run");
        Assert.True(result.ExitCode == 0, result.Error);
        string run = Path.Combine(directory, "run");
        foreach (var file in new[] { "config.json", "metrics.json", "metrics.csv", "model.safetensors" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} is missing");
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var epochs = metrics.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, epochs.Count);
        foreach (var key in new[] { "epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds" })
            Assert.True(epochs[1].TryGetProperty(key, out _), $"metrics.json lacks {key}");
        Assert.Equal(2, epochs[1].GetProperty("epoch").GetInt32());
        Assert.InRange(epochs[1].GetProperty("test_accuracy").GetDouble(), 0, 1);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);

        var resolved = TrainConfig.Load(Path.Combine(run, "config.json"));
        Assert.Equal(2, resolved.Model.Width);
        Assert.Equal(3UL, resolved.Seed);
        Assert.Contains("epoch  train_loss", result.Output);
    }

    [Fact]
    public void Train_SameSeedReproducesNumbers()
    {
        var first = Train("a");
        var second = Train("b");
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.True(second.ExitCode == 0, second.Error);
        var a = MetricsFiles.ReadJson(Path.Combine(directory, "a", "metrics.json"));
        var b = MetricsFiles.ReadJson(Path.Combine(directory, "b", "metrics.json"));
        Assert.Equal(a.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)),
            b.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)));
        var weightsA = SafeTensors.Read(Path.Combine(directory, "a", "model.safetensors")).Tensors;
        var weightsB = SafeTensors.Read(Path.Combine(directory, "b", "model.safetensors")).Tensors;
        Assert.Equal(weightsA["features.0.weight"].Values, weightsB["features.0.weight"].Values);
    }

    [Fact]
    public void Eval_ReadsCheckpointAndPrintsConfusionMatrix()
    {
        Assert.Equal(0, Train("run").ExitCode);
        string data = Path.Combine(CliRunner.RepositoryRoot(), "data", "fashion-mnist");
        var result = CliRunner.Run(directory, "eval", "--checkpoint", Path.Combine(directory, "run", "model.safetensors"),
            "--data", data);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("accuracy", result.Output);
        Assert.Contains("Ankle boot", result.Output);
        Assert.Contains("confusion matrix", result.Output);
    }

    [Fact]
    public void Summary_PrintsLayersAndTotals()
    {
        string config = Path.Combine(directory, "w64.json");
        File.WriteAllText(config, """{ "model": { "name": "alexnet-fm", "width": 64 } }""");
        var result = CliRunner.Run(directory, "summary", "--config", config);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("features.0", result.Output);
        Assert.Contains("classifier.6", result.Output);
        Assert.Contains("5,670,602", result.Output);
    }

    [Fact]
    public void Check_OneOpPrintsTableAndPasses()
    {
        var result = CliRunner.Run(directory, "check", "--op", "relu");
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        Assert.Contains("gradient (reference)", result.Output);
        Assert.Contains("cpu vs reference", result.Output);
        Assert.Contains("0 failed", result.Output);
        Assert.DoesNotContain("FAIL", result.Output);
    }

    [Fact]
    public void Bench_JsonHasTheDocumentedFields()
    {
        var result = CliRunner.Run(directory, "bench", "--width", "2", "--batch", "8", "--steps", "1", "--warmup",
            "0", "--json");
        Assert.True(result.ExitCode == 0, result.Error);
        using var json = JsonDocument.Parse(result.Output);
        Assert.True(json.RootElement.GetProperty("train_images_per_second").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("infer_images_per_second").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("peak_memory_bytes").GetInt64() > 0);
    }
}
