using FashionCuda.Training;

namespace FashionCuda.Tests.Cli;

/// <summary>Unfinished studies: <c>--report-only</c>, a study stopped by Ctrl+C or SIGTERM, and its rerun.</summary>
public sealed class CliStudyProgressTests(PilotQuickRun pilot) : IClassFixture<PilotQuickRun>, IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-progress-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static string PilotFile => Path.Combine(CliRunner.RepositoryRoot(), "studies", "pilot.json");

    /// <summary>Copies the result files of the pilot's --quick run, leaving out the checkpoints.</summary>
    private string CopyPilotResults()
    {
        string copy = Path.Combine(directory, "pilot");
        foreach (string file in Directory.EnumerateFiles(pilot.Study, "*.json", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy, Path.GetRelativePath(pilot.Study, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    [Fact]
    public void ReportOnly_NamesMissingRuns()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string study = CopyPilotResults();
        File.Delete(Path.Combine(study, "flip", "seed-1", "results.json"));

        var result = CliRunner.Run(directory, "study", PilotFile, "--quick", "--report-only", "--out", study);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.DoesNotContain("epoch  train_loss", result.Output);
        // Without --data, the commands name the --data that trained the runs.
        string advice = $"To train the rest, run `fashioncuda study {PilotFile} --quick --data " +
                        $"{CliRunner.EmbeddedData()} --out {study}`; it skips the finished runs.";
        Assert.Contains($"Finished runs: 3 of 4. The report covers those. {advice}", result.Output);
        string report = File.ReadAllText(Path.Combine(study, "report.md"));
        Assert.Contains($"3 of 4 runs have finished, so this report is partial. Not finished: flip seed 1. {advice}",
            report);
        Assert.Contains("| none | 1 | ", report);
        Assert.DoesNotContain("| flip | 1 | ", report);
        // The machine and the data come from results.json, written when the runs trained.
        Assert.Contains("logical cores", report);
        Assert.Contains("2,000 training and 1,000 test images before limits", report);
        string command = report.Split('\n').Single(line => line.StartsWith("- command:"));
        Assert.DoesNotContain("--report-only", command);
        // The command is the one that trained the runs, so it names the data that this command left out.
        Assert.Contains($"--data {CliRunner.EmbeddedData()}", command);
        Assert.True(File.Exists(Path.Combine(study, "accuracy.png")));
    }

    [Fact]
    public void ReportOnly_WithoutFinishedRunsIsUsageError()
    {
        string empty = Path.Combine(directory, "empty");
        Directory.CreateDirectory(empty);
        var result = CliRunner.Run(directory, "study", PilotFile, "--report-only", "--out", empty);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: No finished run of study pilot in {empty}: --report-only needs runs to report on. " +
                     "Run the study without --report-only first, or pass the folder it wrote with --out.",
            result.Error.TrimEnd());
    }

    [Fact]
    public void ReportOnly_ListsDamagedRunWithReason()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string study = CopyPilotResults();
        string damaged = Path.Combine(study, "flip-crop", "seed-1", "results.json");
        File.WriteAllText(damaged, """{ "arm": "flip-crop",""");

        var result = CliRunner.Run(directory, "study", PilotFile, "--quick", "--report-only", "--out", study);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.StartsWith($"warning: {damaged}: ", result.Error);
        Assert.Contains("the report leaves out arm flip-crop, seed 1.", result.Error);
        string report = File.ReadAllText(Path.Combine(study, "report.md"));
        Assert.Contains($"- flip-crop seed 1 ({damaged}: ", report);
    }

    [Fact]
    public void ReportOnly_AdviceNamesArmsLeftOut()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string study = CopyPilotResults();
        File.Delete(Path.Combine(study, "flip", "seed-1", "results.json"));

        var result = CliRunner.Run(directory, "study", PilotFile, "--quick", "--report-only", "--arms", "none",
            "--out", study);

        Assert.True(result.ExitCode == 0, result.Error);
        // The console and the report write the command out, because the command that wrote them is not the one to
        // run, and the report's reader does not see it.
        string advice = $"To train the rest, run `fashioncuda study {PilotFile} --quick --data " +
                        $"{CliRunner.EmbeddedData()} --out {study} --arms flip`; it skips the finished runs.";
        Assert.Contains(advice, result.Output);
        Assert.Contains(advice, File.ReadAllText(Path.Combine(study, "report.md")));
    }

    [Fact]
    public void ReportOnly_AdviceAlsoNamesSelectedArms()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string study = CopyPilotResults();
        File.Delete(Path.Combine(study, "flip-crop", "seed-1", "results.json"));
        File.Delete(Path.Combine(study, "flip", "seed-1", "results.json"));

        var result = CliRunner.Run(directory, "study", PilotFile, "--quick", "--report-only", "--arms", "flip-crop",
            "--out", study);

        Assert.True(result.ExitCode == 0, result.Error);
        string command = $"fashioncuda study {PilotFile} --quick --data {CliRunner.EmbeddedData()} --out {study}";
        string advice = $"To train the unfinished runs of the selection, run `{command} --arms flip-crop`; to train " +
                        $"the rest as well, run `{command} --arms flip,flip-crop`. Either skips the finished runs.";
        Assert.Contains(advice, result.Output);
        Assert.Contains(advice, File.ReadAllText(Path.Combine(study, "report.md")));
    }

    [Fact]
    public void Study_FullRunRejectsQuickResults()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string study = CopyPilotResults();

        var result = CliRunner.Run(directory, "study", PilotFile, "--data", CliRunner.EmbeddedData(), "--out", study);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: {Path.Combine(study, "none", "seed-1")} holds a finished run made with a different " +
                     "config: $.config.epochs is 2 in results.json, 20 now. Pass --out with another folder for this " +
                     $"version of the study, or delete {Path.Combine(study, "none", "seed-1")} to train the run " +
                     $"again. 3 more run folders of this study differ too. The runs in {study} were made with " +
                     "--quick; add --quick to use them.", result.Error.TrimEnd());
        Assert.DoesNotContain("epoch  train_loss", result.Output);
        foreach (string arm in new[] { "none", "flip", "flip-crop", "flip-crop-erasing" })
            Assert.True(File.Exists(Path.Combine(study, arm, "seed-1", "results.json")), $"{arm} lost its result");
    }

    [Fact]
    public void ReportOnly_QuickRunsAdviseQuick()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string study = CopyPilotResults();

        var result = CliRunner.Run(directory, "study", PilotFile, "--report-only", "--out", study);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"warning: {Path.Combine(study, "none", "seed-1")} was made with a different config: ",
            result.Error);
        Assert.Contains("the report leaves out arm none, seed 1.", result.Error);
        Assert.EndsWith($"The runs in {study} were made with --quick; add --quick to use them.",
            result.Error.TrimEnd());
        Assert.False(File.Exists(Path.Combine(study, "report.md")));
    }

    [Fact]
    public void ReportOnly_WarnsAboutRunsOfOtherArms()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string study = CopyPilotResults();
        string other = Path.Combine(study, "old-arm", "seed-1");
        Directory.CreateDirectory(other);
        File.Copy(Path.Combine(study, "none", "seed-1", "results.json"), Path.Combine(other, "results.json"));
        Directory.CreateDirectory(Path.Combine(study, "notes"));

        var result = CliRunner.Run(directory, "study", PilotFile, "--quick", "--report-only", "--out", study);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal($"warning: {study} also holds runs of arm old-arm, which study pilot does not have; the " +
                     "report leaves them out. Pass --out with another folder to keep each study's runs apart.",
            result.Error.TrimEnd());
        Assert.DoesNotContain("| old-arm |", File.ReadAllText(Path.Combine(study, "report.md")));
    }

    [Fact]
    public void ReportOnly_MissingFolderCreatesNothing()
    {
        string missing = Path.Combine(directory, "missing");
        var result = CliRunner.Run(directory, "study", PilotFile, "--report-only", "--out", missing);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"error: Study folder {missing} not found: --report-only reads the runs", result.Error);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void Study_OutFileIsUsageError()
    {
        string file = Path.Combine(directory, "file.txt");
        File.WriteAllText(file, "keep");
        var result = CliRunner.Run(directory, "study", PilotFile, "--quick", "--out", file);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: --out {file} is a file, not a folder; pass a folder for the results, e.g. --out " +
                     "runs/mine.", result.Error.TrimEnd());
        Assert.Equal("keep", File.ReadAllText(file));
    }

    [Fact]
    public void Study_OutBelowFileNamesFile()
    {
        string file = Path.Combine(directory, "file.txt");
        File.WriteAllText(file, "keep");
        var result = CliRunner.Run(directory, "study", PilotFile, "--quick", "--out", Path.Combine(file, "sub"));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: --out {Path.Combine(file, "sub")}: {file} is a file, so no folder can be made below " +
                     "it; pass a folder for the results, e.g. --out runs/mine.", result.Error.TrimEnd());
    }

    [Fact]
    public void ReportOnly_AllDamagedKeepsOldReport()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string study = CopyPilotResults();
        File.WriteAllText(Path.Combine(study, "report.md"), "earlier report");
        foreach (string results in Directory.EnumerateFiles(study, "results.json", SearchOption.AllDirectories))
            File.WriteAllText(results, "[1, 2]");

        var result = CliRunner.Run(directory, "study", PilotFile, "--quick", "--report-only", "--out", study);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("results.json: $ has a value of the wrong type, or null where a value is required (line 1)",
            result.Error);
        Assert.Contains($"error: No finished run of study pilot in {study}: 4 runs there are damaged or of another " +
                        "config (see the warnings above), so report.md was not written again.", result.Error);
        Assert.Equal("earlier report", File.ReadAllText(Path.Combine(study, "report.md")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Interrupt_WritesReportOfFinishedRuns(bool twice)
    {
        // NOTE: sends SIGINT with the kill command, so on Windows this test checks nothing.
        if (OperatingSystem.IsWindows())
            return;
        // The first arm takes a fraction of a second; the second trains long enough to be interrupted.
        string file = Path.Combine(directory, "two-arms.json");
        File.WriteAllText(file, """
            { "name": "two-arms",
              "base": { "model": { "name": "alexnet-fm", "width": 4, "hidden": 16 }, "batch_size": 32,
                        "train_limit": 64, "test_limit": 32, "validation_count": 16, "epochs": 1 },
              "seeds": [1],
              "arms": [ { "name": "short" },
                        { "name": "long", "overrides": { "epochs": 200, "train_limit": 1000 } } ] }
            """);
        string study = Path.Combine(directory, "two-arms");
        var result = CliRunner.RunUntilFileExists(directory, Path.Combine(study, "long", "seed-1", "metrics.json"),
            twice ? CliRunner.Stop.InterruptTwice : CliRunner.Stop.Interrupt, "study", file, "--data",
            CliRunner.EmbeddedData(), "--out", study);

        Assert.Equal(130, result.ExitCode);
        Assert.Contains("Interrupted; rerun the same command to continue the study.", result.Error);
        string report = File.ReadAllText(Path.Combine(study, "report.md"));
        Assert.Contains("1 of 2 runs has finished, so this report is partial. Not finished: long seed 1.", report);
        Assert.Contains("| short | 1 | ", report);
        Assert.False(File.Exists(Path.Combine(study, "long", "seed-1", "results.json")));
        // The stopped run kept its state, so the next run of the command continues it after its last epoch.
        Assert.True(File.Exists(Path.Combine(study, "long", "seed-1", "training-state.safetensors")));
        Assert.Matches(@"Trained part-way, with a saved training state that the next run of the study checks and " +
                       @"continues from: long seed 1 after epoch [1-9]\d* of 200\.", report);
    }

    [Fact]
    public void Rerun_ContinuesStoppedRun()
    {
        // NOTE: sends SIGTERM with the kill command, so on Windows this test checks nothing.
        if (OperatingSystem.IsWindows())
            return;
        string file = Path.Combine(directory, "one-arm.json");
        File.WriteAllText(file, """
            { "name": "one-arm",
              "base": { "model": { "name": "alexnet-fm", "width": 4, "hidden": 16 }, "batch_size": 32,
                        "train_limit": 2000, "test_limit": 100, "validation_count": 100, "epochs": 8 },
              "seeds": [1],
              "arms": [ { "name": "only" } ] }
            """);
        string study = Path.Combine(directory, "one-arm");
        string run = Path.Combine(study, "only", "seed-1");
        string[] args = ["study", file, "--data", CliRunner.EmbeddedData(), "--out", study];
        var stopped = CliRunner.RunUntilFileExists(directory, Path.Combine(run, "training-state.safetensors"),
            CliRunner.Stop.Terminate, args);
        Assert.Equal(130, stopped.ExitCode);

        var rerun = CliRunner.Run(directory, args);

        Assert.True(rerun.ExitCode == 0, rerun.Error);
        Assert.Matches(@"\[1/1\] only seed 1: .*\n  continues after epoch [1-7], from the training state it saved\n",
            rerun.Output.ReplaceLineEndings("\n"));
        Assert.Equal(8, MetricsFiles.ReadJson(Path.Combine(run, "metrics.json")).Count);
        Assert.True(File.Exists(Path.Combine(run, "results.json")));
        Assert.False(File.Exists(Path.Combine(run, "training-state.safetensors")));
        Assert.DoesNotContain("warning", rerun.Error);
    }
}
