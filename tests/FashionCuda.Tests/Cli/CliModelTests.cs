using System.Text.Json;

namespace FashionCuda.Tests.Cli;

public sealed class CliModelTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-models-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Summary_ResNet18PrintsHandCountedTotal()
    {
        string config = Path.Combine(directory, "resnet18.json");
        File.WriteAllText(config, """{ "model": { "name": "resnet-18" } }""");
        var result = CliRunner.Run(directory, "summary", "--config", config);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("layer4.1.conv2", result.Output);
        Assert.Contains("layer2.0.downsample.0", result.Output);
        // The total of ResNetTests.ResNet18_ParameterCount_MatchesHandCount.
        Assert.Contains("11,172,810", result.Output);
    }

    [Fact]
    public void Summary_AlexNetWithCbamListsAttentionRows()
    {
        string config = Path.Combine(directory, "cbam.json");
        File.WriteAllText(config, """{ "model": { "width": 4, "cbam": { "placement": "after-conv2" } } }""");
        var result = CliRunner.Run(directory, "summary", "--config", config);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("features.5.channel.mlp.0", result.Output);
        Assert.Contains("SpatialAttention", result.Output);
        Assert.Contains("CBAM both r=16 k=7 after-conv2", result.Output);
    }

    [Fact]
    public void Bench_AcceptsResNetNarrow()
    {
        var result = CliRunner.Run(directory, "bench", "--model", "resnet-narrow", "--width", "2", "--batch", "4",
            "--steps", "1", "--warmup", "0", "--json");
        Assert.True(result.ExitCode == 0, result.Error);
        using var json = JsonDocument.Parse(result.Output);
        Assert.Equal("resnet-narrow", json.RootElement.GetProperty("model").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("width").GetInt32());
        Assert.True(json.RootElement.GetProperty("train_images_per_second").GetDouble() > 0);
    }

    [Fact]
    public void Bench_StudyArmTimesThatArmsLayers()
    {
        string study = Path.Combine(CliRunner.RepositoryRoot(), "studies", "study2-alexnet-cbam.json");
        var result = CliRunner.Run(directory, "bench", "--config", study, "--arm", "every-conv-spatial", "--layers",
            "--batch", "4", "--steps", "1", "--warmup", "0");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("CBAM spatial r=16 k=7", result.Output);
        Assert.Contains("batch 4 on", result.Output);
        Assert.Contains("SpatialAttention", result.Output);
        Assert.Contains("BatchNorm2d", result.Output);
        Assert.DoesNotContain("ChannelAttention", result.Output);
    }

    [Fact]
    public void Bench_ConfigGivesModelAndDefaultBatch()
    {
        string config = Path.Combine(directory, "bench.json");
        File.WriteAllText(config, """
            { "model": { "name": "resnet-narrow", "width": 2, "cbam": { "mode": "channel" } },
              "data": { "kind": "folder", "path": "photos", "channels": 3, "size": 12 }, "batch_size": 6 }
            """);
        var result = CliRunner.Run(directory, "bench", "--config", config, "--steps", "1", "--warmup", "0",
            "--json");
        Assert.True(result.ExitCode == 0, result.Error);
        using var json = JsonDocument.Parse(result.Output);
        Assert.Equal("resnet-narrow", json.RootElement.GetProperty("model").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("width").GetInt32());
        Assert.Equal(6, json.RootElement.GetProperty("batch").GetInt32());
        Assert.Contains("CBAM channel", json.RootElement.GetProperty("description").GetString());
    }

    [Fact]
    public void Bench_StudyWithCommentsKeepsArms()
    {
        string study = Path.Combine(directory, "commented.json");
        File.WriteAllText(study, "// study 2, commented\n" +
            File.ReadAllText(Path.Combine(CliRunner.RepositoryRoot(), "studies", "study2-alexnet-cbam.json")));
        var result = CliRunner.Run(directory, "bench", "--config", study, "--arm", "after-conv5", "--batch", "4",
            "--steps", "1", "--warmup", "0", "--json");
        Assert.True(result.ExitCode == 0, result.Error);
        using var json = JsonDocument.Parse(result.Output);
        Assert.Contains("after-conv5", json.RootElement.GetProperty("description").GetString());
    }

    [Theory]
    [InlineData(new[] { "--arm", "nope", "--config", "study" },
        "error: --arm nope: study study2-alexnet-cbam has no such arm; its arms are no-cbam, after-conv2, " +
        "after-conv5, every-conv, every-conv-channel, every-conv-spatial.")]
    [InlineData(new[] { "--arm", "no-cbam" },
        "error: --arm no-cbam: an arm belongs to a study; pass the study file with --config as well.")]
    [InlineData(new[] { "--config", "study", "--width", "8" },
        "error: --config study with --model or --width: the config names the model; drop --model and --width, " +
        "or drop --config.")]
    [InlineData(new[] { "--config", "" },
        "error: --config '': pass the path of a training config or study file, e.g. studies/quickstart.json.")]
    [InlineData(new[] { "--config", "train", "--arm", "no-cbam" },
        "error: --arm no-cbam: 'train' is a training config, not a study file with arms; drop --arm.")]
    public void Bench_ConfigMistakesGiveOneLine(string[] options, string expected)
    {
        File.Copy(Path.Combine(CliRunner.RepositoryRoot(), "studies", "study2-alexnet-cbam.json"),
            Path.Combine(directory, "study"));
        File.WriteAllText(Path.Combine(directory, "train"), """{ "model": { "width": 2 } }""");
        var result = CliRunner.Run(directory, ["bench", .. options, "--steps", "1", "--warmup", "0"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(expected, result.Error.TrimEnd());
    }

    [Fact]
    public void Summary_WarnsAboutReplacedClasses()
    {
        string config = Path.Combine(directory, "classes.json");
        File.WriteAllText(config, """{ "model": { "width": 4, "classes": 3 } }""");
        var result = CliRunner.Run(directory, "summary", "--config", config);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal($"warning: {config}: model.classes is 3 but the data has 10 classes, so the model is built " +
                     "for 10; remove model.classes from the config.", result.Error.TrimEnd());
        Assert.Contains("10 classes", result.Output);
    }

    [Fact]
    public void Summary_RejectsPlacementOnResNet()
    {
        string config = Path.Combine(directory, "bad.json");
        File.WriteAllText(config, """{ "model": { "name": "resnet-narrow", "cbam": { "placement": "every-conv" } } }""");
        var result = CliRunner.Run(directory, "summary", "--config", config);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("$.model.cbam.placement", result.Error + result.Output);
    }
}
