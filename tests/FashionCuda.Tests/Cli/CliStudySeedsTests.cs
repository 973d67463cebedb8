using System.Text.Json;

namespace FashionCuda.Tests.Cli;

/// <summary><c>study --seeds</c>: training some seeds of a study's full run now and the others later.</summary>
public sealed class CliStudySeedsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-seeds-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string WriteStudy()
    {
        string path = Path.Combine(directory, "tiny.json");
        File.WriteAllText(path, """
            {
              "name": "tiny",
              "base": { "model": { "width": 2, "hidden": 8 }, "epochs": 1, "batch_size": 16, "train_limit": 64,
                        "test_limit": 32 },
              "seeds": [1, 2],
              "arms": [ { "name": "plain" }, { "name": "flip", "overrides": { "augmentation": { "flip": true } } } ],
              "quick": { "overrides": { "train_limit": 32 } }
            }
            """);
        return path;
    }

    /// <summary>Trains seed 2 of every arm of the tiny study into "out"; returns the study file, folder and result.</summary>
    private (string Study, string Output, CliRunner.Result Result) TrainSeedTwo()
    {
        string study = WriteStudy();
        string output = Path.Combine(directory, "out");
        var result = CliRunner.Run(directory, "study", study, "--data", CliRunner.EmbeddedData(), "--out", output,
            "--seeds", "2");
        return (study, output, result);
    }

    [Fact]
    public void Seeds_TrainsOnlyThoseAndNamesTheRest()
    {
        var (_, output, result) = TrainSeedTwo();

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("2 arms × 1 seed = 2 runs", result.Output);
        foreach (string arm in new[] { "plain", "flip" })
        {
            Assert.True(File.Exists(Path.Combine(output, arm, "seed-2", "results.json")), $"{arm} seed 2 missing");
            Assert.False(Directory.Exists(Path.Combine(output, arm, "seed-1")), $"{arm} seed 1 was trained");
        }
        Assert.Contains("Run the study without --seeds (or with --seeds 1) to train the rest", result.Output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "plain", "seed-2", "results.json")));
        Assert.EndsWith("--seeds 2", json.RootElement.GetProperty("command").GetString());
    }

    [Fact]
    public void Seeds_AdviceOmitsListOfEverySeed()
    {
        var (study, output, trained) = TrainSeedTwo();
        Assert.True(trained.ExitCode == 0, trained.Error);
        // plain seed 2 is unfinished again, so seeds 1 and 2 (every seed of the study) have runs left.
        File.Delete(Path.Combine(output, "plain", "seed-2", "results.json"));

        var result = CliRunner.Run(directory, "study", study, "--out", output, "--seeds", "2", "--report-only");

        Assert.True(result.ExitCode == 0, result.Error);
        string command = $"fashioncuda study {study} --data {CliRunner.EmbeddedData()} --out {output}";
        Assert.Contains($"To train the unfinished runs of the selection, run `{command} --seeds 2`; to train the rest " +
                        $"as well, run `{command}`. Either skips the finished runs.", result.Output);
        Assert.DoesNotContain("--seeds 1,2", result.Output);
    }

    [Fact]
    public void ReportOnlyWithoutData_AdviceKeepsRunsData()
    {
        var (study, output, trained) = TrainSeedTwo();
        Assert.True(trained.ExitCode == 0, trained.Error);

        var result = CliRunner.Run(directory, "study", study, "--out", output, "--report-only");

        Assert.True(result.ExitCode == 0, result.Error);
        string advice = $"To train the rest, run `fashioncuda study {study} --data {CliRunner.EmbeddedData()} --out " +
                        $"{output}`; it skips the finished runs.";
        Assert.Contains(advice, File.ReadAllText(Path.Combine(output, "report.md")));
        Assert.Contains(advice, result.Output);
    }

    [Fact]
    public void ReportOnlyElsewhere_IgnoresRelativeData()
    {
        string study = WriteStudy();
        string output = Path.Combine(directory, "out");
        string relative = Path.GetRelativePath(directory, CliRunner.EmbeddedData());
        var trained = CliRunner.Run(directory, "study", study, "--data", relative, "--out", output, "--seeds", "2");
        Assert.True(trained.ExitCode == 0, trained.Error);
        string elsewhere = Directory.CreateDirectory(Path.Combine(directory, "elsewhere")).FullName;

        var result = CliRunner.Run(elsewhere, "study", study, "--out", output, "--report-only");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"To train the rest, run `fashioncuda study {study} --out {output}`;",
            File.ReadAllText(Path.Combine(output, "report.md")));
    }

    [Theory]
    [InlineData("3", false, "error: --seeds 3: seed 3 not in the study; the seeds of study tiny are 1,2.")]
    [InlineData("1,x", false,
        "error: --seeds 1,x: 'x' is not a seed; seeds are whole numbers from 0 to 2147483647, separated by commas, e.g. --seeds 1.")]
    [InlineData("", false, "error: --seeds \"\": no seed given; list seeds separated by commas, e.g. 1. The seeds of " +
                           "study tiny are 1,2.")]
    [InlineData("1", true, "error: --seeds 1 with --quick: a quick run trains the seeds of the study's quick " +
                           "section; drop --seeds or --quick.")]
    public void Seeds_MistakesGiveOneLine(string seeds, bool quick, string expected)
    {
        string[] args = ["study", WriteStudy(), "--data", CliRunner.EmbeddedData(), "--out",
            Path.Combine(directory, "out"), "--seeds", seeds];
        var result = CliRunner.Run(directory, quick ? [.. args, "--quick"] : args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(expected, result.Error.TrimEnd());
    }
}
