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
    public void Summary_RejectsPlacementOnResNet()
    {
        string config = Path.Combine(directory, "bad.json");
        File.WriteAllText(config, """{ "model": { "name": "resnet-narrow", "cbam": { "placement": "every-conv" } } }""");
        var result = CliRunner.Run(directory, "summary", "--config", config);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("$.model.cbam.placement", result.Error + result.Output);
    }
}
