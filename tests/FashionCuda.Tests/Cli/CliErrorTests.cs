namespace FashionCuda.Tests.Cli;

public sealed class CliErrorTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string WriteConfig(string json)
    {
        string path = Path.Combine(directory, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static void AssertUserError(CliRunner.Result result, params string[] fragments)
    {
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: ", result.Error);
        foreach (var fragment in fragments)
            Assert.Contains(fragment, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public void Train_UnknownKeyNamesPathAndAllowedKeys()
    {
        string config = WriteConfig("""{ "model": { "name": "alexnet-fm", "widht": 8 } }""");
        var result = CliRunner.Run(directory, "train", "--config", config, "--out", Path.Combine(directory, "run"));
        AssertUserError(result, "$.model.widht", "unknown key", "width", config);
    }

    [Fact]
    public void Train_ValidationSplitErrorNamesConfig()
    {
        string config = WriteConfig("""{ "epochs": 1, "train_limit": 100, "validation_count": 100 }""");
        var result = CliRunner.Run(directory, "train", "--config", config, "--data", CliRunner.EmbeddedData(),
            "--out", Path.Combine(directory, "run"));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: {config}: $.validation_count: 100 leaves no training images, because the training " +
                     "set has 100; hold out fewer images.", result.Error.TrimEnd());
        Assert.False(Directory.Exists(Path.Combine(directory, "run")), "a rejected config left a run folder");
    }

    [Fact]
    public void Train_StudyFileSaysToUseStudy()
    {
        string config = WriteConfig("""{ "name": "s", "base": { "epochs": 1 }, "arms": [ { "name": "a" } ] }""");
        var result = CliRunner.Run(directory, "train", "--config", config);
        AssertUserError(result, $"{config}: $: this is a study file", "'fashioncuda study FILE'");
    }

    [Fact]
    public void Train_UnknownModelListsChoices()
    {
        string config = WriteConfig("""{ "model": { "name": "resnet-1000" } }""");
        var result = CliRunner.Run(directory, "train", "--config", config);
        AssertUserError(result, "$.model.name", "'resnet-1000'", "'alexnet-fm'");
    }

    [Fact]
    public void Train_MissingConfigFileNamesIt()
    {
        string config = Path.Combine(directory, "nope.json");
        var result = CliRunner.Run(directory, "train", "--config", config);
        AssertUserError(result, config);
    }

    [Fact]
    public void Train_MissingDataFolderSaysHowToGetData()
    {
        string config = WriteConfig("""{ "epochs": 1 }""");
        var result = CliRunner.Run(directory, "train", "--config", config, "--data", Path.Combine(directory, "none"));
        AssertUserError(result, Path.Combine(directory, "none"));
    }

    [Fact]
    public void Train_CorruptDataFileNamesTheFile()
    {
        string data = Path.Combine(directory, "fm");
        Directory.CreateDirectory(data);
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                     "t10k-labels-idx1-ubyte" })
            File.WriteAllBytes(Path.Combine(data, name), [0, 0, 8, 3, 0, 0]);
        string config = WriteConfig("""{ "epochs": 1 }""");
        var result = CliRunner.Run(directory, "train", "--config", config, "--data", data);
        AssertUserError(result, "train-images-idx3-ubyte");
    }

    [Fact]
    public void Train_UnwritableOutputFolderSaysSo()
    {
        string blocker = Path.Combine(directory, "file");
        File.WriteAllText(blocker, "");
        string config = WriteConfig("""{ "epochs": 1, "train_limit": 8, "test_limit": 8 }""");
        var result = CliRunner.Run(directory, "train", "--config", config, "--out", Path.Combine(blocker, "run"));
        AssertUserError(result, $"{blocker} is a file, so no folder can be made below it", "--out");
    }

    [Fact]
    public void Train_BadEpochOverrideIsRejected()
    {
        string config = WriteConfig("""{ "epochs": 1 }""");
        var result = CliRunner.Run(directory, "train", "--config", config, "--epochs", "0");
        AssertUserError(result, "--epochs 0");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("99999999999")]
    public void Train_NonNumericEpochsIsRejected(string epochs)
    {
        string config = WriteConfig("""{ "epochs": 1 }""");
        var result = CliRunner.Run(directory, "train", "--config", config, "--epochs", epochs);
        AssertUserError(result, $"--epochs {epochs}", "1 to 100000");
        Assert.DoesNotContain("System.", result.Error);
    }

    [Fact]
    public void Train_EmptyOutIsRejected()
    {
        string config = WriteConfig("""{ "epochs": 1 }""");
        var result = CliRunner.Run(directory, "train", "--config", config, "--out", "");
        AssertUserError(result, "--out is empty");
    }

    [Fact]
    public void Train_ConfigFolderIsRejected()
    {
        var result = CliRunner.Run(directory, "train", "--config", directory);
        AssertUserError(result, "is a folder");
    }

    [Fact]
    public void Train_DivergingRunStopsWithHint()
    {
        string config = WriteConfig("""
            { "model": { "width": 2, "hidden": 8 }, "optimizer": { "lr": 10, "weight_decay": 0 }, "epochs": 3,
              "batch_size": 16, "train_limit": 64, "test_limit": 16 }
            """);
        string data = Path.Combine(CliRunner.RepositoryRoot(), "data", "fashion-mnist");
        var result = CliRunner.Run(directory, "train", "--config", config, "--data", data, "--out",
            Path.Combine(directory, "run"));
        AssertUserError(result, "optimizer.lr");
    }

    [Fact]
    public void Eval_CheckpointFolderIsRejected()
    {
        var result = CliRunner.Run(directory, "eval", "--checkpoint", directory);
        AssertUserError(result, "is a folder", "model.safetensors");
    }

    [Fact]
    public void Eval_CorruptCheckpointIsReportedWithPath()
    {
        string checkpoint = Path.Combine(directory, "model.safetensors");
        File.WriteAllBytes(checkpoint, [1, 2, 3]);
        var result = CliRunner.Run(directory, "eval", "--checkpoint", checkpoint);
        AssertUserError(result, checkpoint, "truncated");
    }

    [Fact]
    public void UnknownDevice_IsUsageError()
    {
        var result = CliRunner.Run(directory, "bench", "--device", "tpu", "--width", "1", "--steps", "1");
        AssertUserError(result, "--device tpu", "cpu");
    }

    [Fact]
    public void Check_UnknownOpListsKnownOps()
    {
        var result = CliRunner.Run(directory, "check", "--op", "softmaxx");
        AssertUserError(result, "--op softmaxx", "conv2d");
    }

    [Fact]
    public void UnknownOption_IsUsageError()
    {
        var result = CliRunner.Run(directory, "train", "--confg", "x.json");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--confg", result.Error);
    }
}
