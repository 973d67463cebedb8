using FashionCuda.Checks;

namespace FashionCuda.Tests.Cli;

public sealed class CliCheckBenchTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-check-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Ops that both the gradient checks and the backend comparisons cover, under one name.</summary>
    public static TheoryData<string> SharedOps => new(
        "conv2d", "linear", "relu", "max-pool2d", "avg-pool2d", "global-max-pool", "channel-mean",
        "concat-channels", "batch-norm2d-training", "local-response-norm", "local-response-norm-even",
        "softmax-cross-entropy", "cbam");

    [Theory]
    [MemberData(nameof(SharedOps))]
    public void CheckOpNames_SharedByBothTables(string op)
    {
        Assert.Contains(op, GradientChecks.OpNames);
        Assert.Contains(op, BackendComparisons.OpNames);
    }

    [Fact]
    public void CheckOpNames_NoNearDuplicates()
    {
        // Two names that differ only in hyphens ("max-pool-2d", "max-pool2d") would run different checks.
        var names = GradientChecks.OpNames.Concat(BackendComparisons.OpNames).Distinct().ToList();
        var clashes = names.GroupBy(name => name.Replace("-", "", StringComparison.Ordinal))
            .Where(group => group.Count() > 1).Select(group => string.Join(" / ", group)).ToList();
        Assert.Empty(clashes);
    }

    [Fact]
    public void Check_PoolOpRunsGradientAndComparison()
    {
        var result = CliRunner.Run(directory, "check", "--op", "avg-pool2d");
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        Assert.Contains("gradient (reference)", result.Output);
        Assert.Contains("cpu vs reference", result.Output);
    }

    [Fact]
    public void BenchLayers_RejectsOnnx()
    {
        var result = CliRunner.Run(directory, "bench", "--layers", "--onnx", "--width", "2", "--batch", "4",
            "--steps", "1", "--warmup", "0");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: --layers and --onnx: per-layer timing covers the engine only; run bench --onnx and " +
                     "bench --layers separately.", result.Error.TrimEnd());
    }

    [Fact]
    public void Summary_NamesSecondCallOfCbamMlp()
    {
        string config = Path.Combine(directory, "cbam.json");
        File.WriteAllText(config, """
            { "model": { "name": "alexnet-fm", "width": 2, "hidden": 8,
                         "cbam": { "placement": "after-conv2", "mode": "both", "reduction": 2 } } }
            """);
        var result = CliRunner.Run(directory, "summary", "--config", config);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("features.5.channel.mlp.0 (2nd call)", result.Output);
    }
}
