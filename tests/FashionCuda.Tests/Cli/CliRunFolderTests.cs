using FashionCuda.Backends.Cuda;
using FashionCuda.Cli.Commands;

namespace FashionCuda.Tests.Cli;

/// <summary>Run-folder protection and the one-line form of multi-line errors.</summary>
public sealed class CliRunFolderTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-run-folder-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string WriteConfig()
    {
        string path = Path.Combine(directory, "tiny.json");
        File.WriteAllText(path, """
            { "model": { "width": 2, "hidden": 8, "classifier": "linear" }, "epochs": 1, "batch_size": 16,
              "train_limit": 64, "test_limit": 32 }
            """);
        return path;
    }

    private static void AssertOneLineError(CliRunner.Result result, params string[] fragments)
    {
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: ", result.Error);
        Assert.Single(result.Error.TrimEnd().Split('\n'));
        foreach (var fragment in fragments)
            Assert.Contains(fragment, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public void Train_RejectsFolderWithFinishedRun()
    {
        string config = WriteConfig();
        string run = Path.Combine(directory, "run");
        var first = CliRunner.Run(directory, "train", "--config", config, "--data", CliRunner.EmbeddedData(),
            "--out", run);
        Assert.True(first.ExitCode == 0, first.Error);
        byte[] model = File.ReadAllBytes(Path.Combine(run, "model.safetensors"));

        var second = CliRunner.Run(directory, "train", "--config", config, "--data", CliRunner.EmbeddedData(),
            "--out", run);
        AssertOneLineError(second, "already contains a run (training-state.safetensors)", $"--resume {run}",
            "another --out");
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(run, "model.safetensors")));
    }

    [Fact]
    public void Train_RejectsFolderWithPartialRun()
    {
        string run = Path.Combine(directory, "partial");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "config.json"), "{}");
        var result = CliRunner.Run(directory, "train", "--config", WriteConfig(), "--data",
            CliRunner.EmbeddedData(), "--out", run);
        AssertOneLineError(result, "already contains a run (config.json)", "another --out");
        Assert.DoesNotContain("--resume", result.Error);
    }

    [Fact]
    public void Train_FolderAtRunFilePath()
    {
        string run = Path.Combine(directory, "blocked");
        Directory.CreateDirectory(Path.Combine(run, "metrics.csv"));
        var result = CliRunner.Run(directory, "train", "--config", WriteConfig(), "--data",
            CliRunner.EmbeddedData(), "--out", run);
        AssertOneLineError(result, $"{Path.Combine(run, "metrics.csv")} is a folder", "move or delete that folder");
        Assert.DoesNotContain("epoch", result.Output);
        Assert.False(File.Exists(Path.Combine(run, "config.json")));
    }

    [Fact]
    public void Study_FolderAtReportPath()
    {
        string folder = Path.Combine(directory, "study");
        Directory.CreateDirectory(Path.Combine(folder, "report.md"));
        string pilot = Path.Combine(CliRunner.RepositoryRoot(), "studies", "pilot.json");
        var result = CliRunner.Run(directory, "study", pilot, "--quick", "--data", CliRunner.EmbeddedData(),
            "--out", folder);
        AssertOneLineError(result, $"{Path.Combine(folder, "report.md")} is a folder", "move or delete that folder");
        Assert.False(Directory.Exists(Path.Combine(folder, "none")));
    }

    [Fact]
    public void Train_AcceptsEmptyExistingFolder()
    {
        string run = Path.Combine(directory, "empty");
        Directory.CreateDirectory(run);
        var result = CliRunner.Run(directory, "train", "--config", WriteConfig(), "--data",
            CliRunner.EmbeddedData(), "--out", run);
        Assert.True(result.ExitCode == 0, result.Error);
    }

    [Fact]
    public void Train_MissingDataFolderIsOneLine()
    {
        string missing = Path.Combine(directory, "none");
        var result = CliRunner.Run(directory, "train", "--config", WriteConfig(), "--data", missing);
        AssertOneLineError(result, missing, "the folder does not exist", "--data DIR");
    }

    [Theory]
    [InlineData("check", "--device", "cuda", "--op", "relu")]
    [InlineData("kernels", "bench")]
    public void DeviceCuda_WithoutGpuIsOneLine(params string[] args)
    {
        // With a usable GPU these commands run, so there is no error to check.
        if (CudaProbe.Current.Usable)
            return;
        var result = CliRunner.Run(directory, args);
        AssertOneLineError(result, "--device cuda: the CUDA backend is not usable here", "fashioncuda devices");
    }

    [Fact]
    public void OneLine_JoinsListLines()
    {
        Assert.Equal("The folder cannot be used: /x: missing. Install it.",
            Common.OneLine("The folder cannot be used:\n  /x: missing\nInstall it."));
        Assert.Equal("a; b", Common.OneLine("a\r\nb\n"));
        Assert.Equal("single line.", Common.OneLine("single line."));
    }
}
