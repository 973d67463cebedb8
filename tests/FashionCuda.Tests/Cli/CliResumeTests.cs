using FashionCuda.Training;

namespace FashionCuda.Tests.Cli;

public sealed class CliResumeTests : IDisposable
{
    private const int Epochs = 5;

    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-resume-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string WriteConfig()
    {
        string path = Path.Combine(directory, "resume.json");
        File.WriteAllText(path, $$"""
            { "model": { "width": 4, "hidden": 32 }, "epochs": {{Epochs}}, "batch_size": 32,
              "train_limit": 1024, "test_limit": 64, "seed": 11,
              "schedule": { "name": "cosine" }, "augmentation": { "flip": true, "crop_padding": 2 } }
            """);
        return path;
    }

    private static string DataFolder() => Path.Combine(CliRunner.RepositoryRoot(), "data", "fashion-mnist");

    /// <summary>Starts a training run and kills it as soon as the checkpoint of its first epoch exists.</summary>
    private static int TrainAndKillAfterFirstEpoch(string workingDirectory, string config, string run)
    {
        string checkpoint = Path.Combine(run, Checkpoint.FileName);
        CliRunner.RunUntilFileExists(workingDirectory, checkpoint, CliRunner.Stop.Kill, "train", "--config", config,
            "--data", DataFolder(), "--out", run);
        var (_, metadata) = SafeTensors.Read(checkpoint);
        return Checkpoint.ReadEpoch(metadata, checkpoint) ?? -1;
    }

    [Fact]
    public void Train_ResumeAfterKillMatchesUninterruptedRun()
    {
        string config = WriteConfig();
        string interrupted = Path.Combine(directory, "interrupted");
        string complete = Path.Combine(directory, "complete");

        int savedEpoch = TrainAndKillAfterFirstEpoch(directory, config, interrupted);
        Assert.InRange(savedEpoch, 1, Epochs - 1);
        var resumed = CliRunner.Run(directory, "train", "--resume", interrupted);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains($"resuming   after epoch {savedEpoch} of {Epochs}", resumed.Output);
        var full = CliRunner.Run(directory, "train", "--config", config, "--data", DataFolder(), "--out", complete);
        Assert.True(full.ExitCode == 0, full.Error);

        var (expected, _) = SafeTensors.Read(Path.Combine(complete, Checkpoint.FileName));
        var (actual, metadata) = SafeTensors.Read(Path.Combine(interrupted, Checkpoint.FileName));
        Assert.Equal(Epochs.ToString(), metadata["epoch"]);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, (_, values)) in expected)
            Assert.True(values.AsSpan().SequenceEqual(actual[name].Values), $"{name} differs after the resume");
        Assert.Equal(Epochs, MetricsFiles.ReadJson(Path.Combine(interrupted, "metrics.json")).Count);
    }

    [Fact]
    public void Train_ResumeOfMissingFolderIsUsageError()
    {
        string missing = Path.Combine(directory, "nothing-here");

        var result = CliRunner.Run(directory, "train", "--resume", missing);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(missing, result.Error);
        Assert.Contains("--resume", result.Error);
    }

    [Fact]
    public void Train_ConfigAndResumeTogetherIsUsageError()
    {
        var result = CliRunner.Run(directory, "train", "--config", "a.json", "--resume", "run");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("either --config", result.Error);
    }

    [Theory]
    [InlineData("interrupted", false)]
    [InlineData("run 2", true)]
    public void Train_InterruptNamesTheResumeCommand(string folder, bool quoted)
    {
        // NOTE: sends SIGINT with the kill command, so on Windows this test checks nothing.
        if (OperatingSystem.IsWindows())
            return;
        string config = WriteConfig();
        string run = Path.Combine(directory, folder);
        var result = CliRunner.RunUntilFileExists(directory, Path.Combine(run, Checkpoint.FileName),
            CliRunner.Stop.Interrupt, "train", "--config", config, "--data", DataFolder(), "--out", run);

        Assert.Equal(130, result.ExitCode);
        // A folder with a space is quoted, so the command can be pasted as printed.
        string command = result.Error.Split('\n').Select(line => line.Trim()).Last(line => line.Length > 0);
        Assert.Equal(quoted ? $"fashioncuda train --resume '{run}'" : $"fashioncuda train --resume {run}", command);
    }

    [Fact]
    public void Train_TerminateStopsLikeInterrupt()
    {
        // NOTE: sends SIGTERM with the kill command, so on Windows this test checks nothing.
        if (OperatingSystem.IsWindows())
            return;
        string config = WriteConfig();
        string run = Path.Combine(directory, "terminated");
        var result = CliRunner.RunUntilFileExists(directory, Path.Combine(run, Checkpoint.FileName),
            CliRunner.Stop.Terminate, "train", "--config", config, "--data", DataFolder(), "--out", run);

        Assert.Equal(130, result.ExitCode);
        Assert.EndsWith($"fashioncuda train --resume {run}", result.Error.TrimEnd());
        var resumed = CliRunner.Run(directory, "train", "--resume", run);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
    }

    [Fact]
    public void Train_ResumeLongerNamesCosineEnd()
    {
        string config = WriteConfig();
        string run = Path.Combine(directory, "longer");
        TrainAndKillAfterFirstEpoch(directory, config, run);

        var resumed = CliRunner.Run(directory, "train", "--resume", run, "--epochs", $"{Epochs + 1}");
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains($"--epochs {Epochs + 1}: the run was set up for {Epochs}; its cosine schedule now ends at " +
                        $"epoch {Epochs + 1}", resumed.Output);
        Assert.Contains("training-state.safetensors", resumed.Output);
    }
}
