using System.Text.Json.Nodes;
using FashionCuda.Studies;
using FashionCuda.Training;

namespace FashionCuda.Tests.Studies;

public class StudyReportTests
{
    private static StudyDefinition Study() => StudyDefinition.Parse("""
        { "name": "report", "description": "Synthetic results.", "seeds": [1, 2],
          "arms": [ { "name": "base" }, { "name": "close" }, { "name": "far" } ] }
        """, "report.json");

    internal static RunResult Result(string arm, int seed, double accuracy, int epochs = 3)
    {
        var history = Enumerable.Range(1, epochs).Select(e => new EpochMetrics(e, 2.0 / e, 0.5 + 0.1 * e, 1.5 / e,
            accuracy - 0.01 * (epochs - e), 10, 0.05, 1000, 1.6 / e, accuracy - 0.02 * (epochs - e))).ToList();
        var confusion = Enumerable.Range(0, 10).Select(row =>
            Enumerable.Range(0, 10).Select(column => row == column ? 90 : 1).ToArray()).ToArray();
        return new RunResult
        {
            Arm = arm, Seed = seed, Device = "cpu", TestAccuracy = accuracy, TestLoss = 0.3,
            FinalTestAccuracy = accuracy, SelectedEpoch = epochs, SelectedByValidation = true,
            ValidationAccuracy = accuracy, Epochs = epochs, Parameters = 12345, FlopsPerImage = 2_500_000,
            SecondsPerEpoch = 12.5, TrainImages = 55000, ValidationImages = 5000, TestImages = 10000,
            Confusion = confusion, Config = new JsonObject(), History = history,
        };
    }

    internal static List<ArmSummary> Arms(StudyDefinition study) => StudyReport.Summarize(study,
    [
        Result("base", 1, 0.900), Result("base", 2, 0.910),
        Result("close", 1, 0.904), Result("close", 2, 0.912),
        Result("far", 1, 0.950), Result("far", 2, 0.951),
    ]);

    private static string Markdown(StudyDefinition study, IReadOnlyList<ArmSummary> arms) =>
        StudyReport.ToMarkdown(study, arms, new ReportContext
        {
            Command = "fashioncuda study report.json", DataSource = "synthetic", Hardware = "test machine",
            Plots = [("accuracy.png", "Accuracy bars")],
        });

    [Fact]
    public void Summarize_ComputesMeanAndStd()
    {
        var arms = Arms(Study());
        Assert.Equal(["base", "close", "far"], arms.Select(a => a.Arm.Name));
        Assert.Equal(0.905, arms[0].MeanAccuracy, 12);
        Assert.Equal(Math.Sqrt(0.00005), arms[0].AccuracyStandardDeviation, 12);
        Assert.Equal("far", StudyReport.Best(arms).Arm.Name);
        Assert.Equal(180, arms[0].Confusion()[3, 3]);
        Assert.Equal(3, arms[0].Curve().HeldOutAccuracy.Length);
        Assert.True(arms[0].Curve().HeldOutIsValidation);
    }

    [Fact]
    public void Markdown_HasRowPerArmAndFindings()
    {
        string report = Markdown(Study(), Arms(Study()));
        Assert.Contains("# Study report", report);
        Assert.Contains("Synthetic results.", report);
        Assert.Contains("| arm | seeds | test accuracy | best validation epoch | parameters | FLOPs per image | " +
                        "seconds per epoch | device |", report);
        Assert.Contains("| base | 2 | 0.9050 ± 0.0071 | 3, 3 | 12,345 | 2.5 M | 12.5 | cpu |", report);
        Assert.Contains("| close | 2 | 0.9080 ± 0.0057 |", report);
        Assert.Contains("| far | 2 | 0.9505 ± 0.0007 |", report);
        Assert.Contains("Highest mean test accuracy: **far**", report);
        Assert.Contains("close vs base (baseline): +0.30 points; within seed noise (standard error of the " +
                        "difference 0.64 points)", report);
        Assert.Contains("Differences and standard errors are in percentage points", report);
        Assert.Contains("far vs base (baseline): +4.55 points; larger than seed noise", report);
        Assert.Contains("![Accuracy bars](accuracy.png)", report);
        Assert.Contains("| far | 2 | 3 | 0.9510 | 0.9510 | 0.9510 | `far/seed-2` |", report);
        Assert.Contains("`fashioncuda study report.json`", report);
    }

    [Fact]
    public void Markdown_OneSeedCannotJudgeNoise()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study, [Result("base", 1, 0.9), Result("far", 1, 0.95)]);
        string report = Markdown(study, arms);
        Assert.Contains("| base | 1 | 0.9000 |", report);
        Assert.Contains("far vs base (baseline): +5.00 points; one seed per arm cannot tell this from seed noise",
            report);
        Assert.DoesNotContain("close", report);
    }

    [Fact]
    public void Markdown_PartialStudyNamesMissingRunsAndRecordedMachine()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
        [
            Result("base", 1, 0.9) with { Hardware = "machine A", Data = "set X" },
            Result("far", 1, 0.95) with { Hardware = "machine B", Data = "set X" },
            Result("far", 2, 0.95),
        ]);
        string report = StudyReport.ToMarkdown(study, arms, new ReportContext
        {
            Command = "c", DataSource = "unrecorded data", Hardware = "unrecorded machine",
            MissingRuns = ["base seed 2", "close seed 1", "close seed 2"],
        });
        Assert.Contains("- data: set X; unrecorded data", report);
        Assert.Contains("- hardware: machine A; machine B; unrecorded machine", report);
        Assert.Contains("## Progress", report);
        Assert.Contains("3 of 6 runs have finished, so this report is partial. Not finished: base seed 2, close seed " +
                        "1, close seed 2.", report);
        Assert.DoesNotContain("## Progress", Markdown(study, Arms(study)));
    }

    [Fact]
    public void Write_ReplacesReportAtomically()
    {
        string directory = Directory.CreateTempSubdirectory("fashioncuda-report-").FullName;
        try
        {
            var study = Study();
            StudyReport.Write(directory, study, Arms(study), new ReportContext
            {
                Command = "c", DataSource = "d", Hardware = "h",
            });
            Assert.Contains("| far |", File.ReadAllText(Path.Combine(directory, StudyReport.FileName)));
            Assert.Empty(Directory.GetFiles(directory, "*.tmp"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
