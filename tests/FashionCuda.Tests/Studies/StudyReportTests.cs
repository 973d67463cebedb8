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
        Assert.Contains("- images per run: 55,000 train, 5,000 validation, 10,000 test; 3 epochs", report);
        Assert.DoesNotContain("different seeds", report);
        Assert.DoesNotContain("†", report);
        Assert.DoesNotContain("‡", report);
        Assert.DoesNotContain("| machine |", report);
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
    public void Markdown_PartialStudyNamesMissingRuns()
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
            MissingRuns = study.Plan(quick: false)
                .Where(run => run.Arm.Name == "close" || (run.Arm.Name == "base" && run.Seed == 2)).ToList(),
        });
        Assert.Contains("- command: `c`", report);
        Assert.Contains("- data: source 1: set X (2 runs); source 2: unrecorded data (1 run)", report);
        Assert.Contains("- hardware: machine 1: machine A (1 run); machine 2: machine B (1 run); machine 3: " +
                        "unrecorded machine (1 run)", report);
        Assert.Contains("## Progress", report);
        Assert.Contains("3 of 6 runs have finished, so this report is partial. Not finished: base seed 2; close seeds " +
                        "1, 2.", report);
        Assert.DoesNotContain("## Progress", Markdown(study, Arms(study)));
        Assert.DoesNotContain("Trained part-way", report);
    }

    [Fact]
    public void Markdown_PartialStudyNamesStoppedRuns()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study, [Result("base", 1, 0.9)]);
        string report = StudyReport.ToMarkdown(study, arms, new ReportContext
        {
            Command = "c", DataSource = "d", Hardware = "h",
            MissingRuns = study.Plan(quick: false).Where(run => run.Arm.Name == "far").ToList(),
            StoppedRuns = ["far seed 1 after epoch 3 of 4", "far seed 2 after epoch 1 of 4"],
        });
        Assert.Contains("Trained part-way, with a saved training state that the next run of the study checks and " +
                        "continues from: far seed 1 after epoch 3 of 4; far seed 2 after epoch 1 of 4.\n",
            report.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Markdown_CommandComesFromRuns()
    {
        var study = Study();
        var recorded = StudyReport.Summarize(study,
        [
            Result("base", 1, 0.9) with { Command = "fashioncuda study s.json --data full" },
            Result("far", 1, 0.95) with { Command = "fashioncuda study s.json --data full" },
        ]);
        var mixed = StudyReport.Summarize(study,
        [
            Result("base", 1, 0.9) with { Command = "fashioncuda study s.json --data full" },
            Result("far", 1, 0.95),
        ]);

        string single = Markdown(study, recorded);
        string numbered = Markdown(study, mixed);

        Assert.Contains("- command: `fashioncuda study s.json --data full`\n", single.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("report.json", single);
        Assert.Contains("- commands: `fashioncuda study s.json --data full` (1 run); " +
                        "`fashioncuda study report.json` (1 run)\n", numbered.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Markdown_MixedEngineBuildsMarkTiming()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
        [
            Result("base", 1, 0.9) with { Engine = "1.0.0+aaa" },
            Result("base", 2, 0.91),
            Result("far", 1, 0.95) with { Engine = "1.0.0+aaa" },
        ]);

        string report = Markdown(study, arms);

        Assert.Contains("- engine: build 1: 1.0.0+aaa (2 runs); build 2: not recorded in results.json (runs made " +
                        "before builds were recorded) (1 run)", report);
        Assert.Contains("The runs were made with more than one engine build", report);
        Assert.Contains("| engine build |", report);
        // base spans two builds, so its seconds per epoch carry the mark; far does not.
        Assert.Matches(@"\| base \| 2 \|[^\n]*\d †", report);
        Assert.DoesNotMatch(@"\| far \| 1 \|[^\n]*†", report);
    }

    [Fact]
    public void Markdown_OneEngineBuildNamesItOnce()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
            [Result("base", 1, 0.9) with { Engine = "1.0.0+aaa" }, Result("far", 1, 0.95) with { Engine = "1.0.0+aaa" }]);

        string report = Markdown(study, arms);

        Assert.Contains("- engine: 1.0.0+aaa\n", report.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("more than one engine build", report);
        Assert.DoesNotContain("| engine build |", report);
    }

    [Fact]
    public void Markdown_OneFinishedArmOfSeveral()
    {
        var study = Study();
        string report = Markdown(study, StudyReport.Summarize(study, [Result("far", 1, 0.95)]));
        Assert.Contains("- Only far has finished runs so far, so there is nothing to compare yet; the study's " +
                        "other arms are base, close.", report);
        Assert.DoesNotContain("The study has one arm", report);

        var single = StudyDefinition.Parse("""{ "name": "single", "arms": [ { "name": "far" } ] }""", "s.json");
        Assert.Contains("- The study has one arm, so there is nothing to compare.",
            Markdown(single, StudyReport.Summarize(single, [Result("far", 1, 0.95)])));
    }

    [Fact]
    public void Markdown_UnequalSeedsNameOneSeedArm()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
            [Result("base", 1, 0.90), Result("base", 2, 0.91), Result("far", 1, 0.95)]);
        string report = Markdown(study, arms);
        Assert.Contains("far vs base (baseline): +4.50 points; far has one seed, so its spread is unknown and " +
                        "this cannot be told from seed noise.", report);
        Assert.Contains("The means cover different seeds (far: 1; base: 1, 2).", report);
        Assert.DoesNotContain("one seed per arm", report);
    }

    [Fact]
    public void Markdown_SameSeedCountDifferentSeeds()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
            [Result("base", 1, 0.90), Result("base", 2, 0.91), Result("far", 2, 0.95), Result("far", 3, 0.951)]);
        string report = Markdown(study, arms);
        Assert.Contains("larger than seed noise", report);
        Assert.Contains("The means cover different seeds (far: 2, 3; base: 1, 2).", report);
    }

    [Fact]
    public void Markdown_MissingBaselineNamesStandIn()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study, [Result("close", 1, 0.904), Result("far", 1, 0.95)]);
        string report = Markdown(study, arms);
        Assert.Contains("- The baseline arm, base, has no finished runs yet, so the differences below are taken " +
                        "against close, the first arm with finished runs.", report);
        Assert.Contains("- far vs close (in place of base): +4.60 points;", report);
        Assert.DoesNotContain("(baseline)", report);
    }

    [Fact]
    public void Markdown_DifferentImageCountsByArm()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
        [
            Result("base", 1, 0.90), Result("close", 1, 0.904),
            Result("far", 1, 0.95, epochs: 5) with { TrainImages = 1000, TestImages = 500 },
        ]);
        string report = Markdown(study, arms);
        Assert.Contains("- images per run differ by arm: 55,000 train, 5,000 validation, 10,000 test, 3 epochs " +
                        "(base, close); 1,000 train, 5,000 validation, 500 test, 5 epochs (far). The Runs table " +
                        "gives the counts of each run.", report);
        Assert.DoesNotContain("- images per run:", report);
        Assert.Contains("| arm | seed | epochs | train / validation / test images | selected epoch |", report);
        Assert.Contains("|---|---:|---:|---:|---:|---:|---:|---:|---|", report);
        Assert.Contains("| base | 1 | 3 | 55,000 / 5,000 / 10,000 | 3 |", report);
        Assert.Contains("| far | 1 | 5 | 1,000 / 5,000 / 500 | 5 |", report);
        Assert.Contains("- far vs base (baseline): +5.00 points; one seed per arm cannot tell this from seed noise. " +
                        "The two arms trained and tested on different image counts or epochs (far: 1,000 / 5,000 / " +
                        "500 images, 5 epochs; base: 55,000 / 5,000 / 10,000 images, 3 epochs), so the difference " +
                        "is not the arm's effect alone.", report);
        string close = report.Split('\n').Single(line => line.StartsWith("- close vs base"));
        Assert.DoesNotContain("image counts", close);
    }

    [Theory]
    [InlineData(new[] { 0.80, 0.90, 0.919, 0.920, 0.921 }, 3)]
    [InlineData(new[] { 0.80, 0.90, 0.918, 0.920, 0.921 }, 4)]
    [InlineData(new[] { 0.95, 0.90, 0.91 }, 1)]
    [InlineData(new[] { 0.5 }, 1)]
    public void PlateauEpoch_FirstEpochNearHighest(double[] accuracy, int expected) =>
        Assert.Equal(expected, StudyReport.PlateauEpoch(accuracy));

    [Fact]
    public void Markdown_EpochBudgetPerArm()
    {
        var study = Study();
        // The validation accuracy of Result rises by 0.02 per epoch, so only the last epoch is within 0.002 of it.
        var arms = StudyReport.Summarize(study,
            [Result("base", 1, 0.90), Result("base", 2, 0.91), Result("far", 1, 0.95, epochs: 5)]);
        string report = Markdown(study, arms);
        Assert.Contains("- Epoch budget: mean validation accuracy comes within 0.2 points of its highest value at " +
                        "epoch 3 of 3 for base, 5 of 5 for far; later epochs add less than that.", report);
        Assert.Contains("With a learning rate that decays over the run", report);
    }

    [Fact]
    public void Markdown_ConstantRateDropsDecayCaveat()
    {
        var study = Study();
        RunResult Constant(string arm, int seed, double accuracy) => Result(arm, seed, accuracy) with
        {
            Config = new JsonObject { ["schedule"] = new JsonObject { ["name"] = "constant" } },
        };
        var constant = StudyReport.Summarize(study, [Constant("base", 1, 0.90), Constant("far", 1, 0.95)]);
        var mixed = StudyReport.Summarize(study, [Constant("base", 1, 0.90), Result("far", 1, 0.95)]);

        string report = Markdown(study, constant);

        Assert.Contains("- Epoch budget:", report);
        Assert.DoesNotContain("decays over the run", report);
        Assert.Contains("decays over the run", Markdown(study, mixed));
    }

    [Fact]
    public void Markdown_NoEpochBudgetWithoutValidation()
    {
        var study = Study();
        var history = Result("base", 1, 0.90).History.Select(e => e with { ValidationAccuracy = null,
            ValidationLoss = null }).ToList();
        var arms = StudyReport.Summarize(study,
            [Result("base", 1, 0.90) with { History = history }, Result("far", 1, 0.95)]);
        string report = Markdown(study, arms);
        Assert.Contains("epoch 3 of 3 for far;", report);
        Assert.DoesNotContain("for base", report);
    }

    [Fact]
    public void Markdown_RunsOnSeveralMachinesFlagged()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
        [
            Result("base", 1, 0.90) with { Hardware = "machine A" },
            Result("base", 2, 0.91) with { Hardware = "machine A" },
            Result("close", 1, 0.904) with { Hardware = "machine B", SecondsPerEpoch = 4 },
            Result("far", 1, 0.95) with { Hardware = "machine A" },
            Result("far", 2, 0.95) with { Hardware = "machine B", SecondsPerEpoch = 4.5 },
        ]);
        string report = Markdown(study, arms);
        Assert.Contains("- hardware: machine 1: machine A (3 runs); machine 2: machine B (2 runs)", report);
        Assert.Contains("| base | 2 | 0.9050 ± 0.0071 | 3, 3 | 12,345 | 2.5 M | 12.5 | cpu |", report);
        Assert.Contains("| close | 1 | 0.9040 | 3 | 12,345 | 2.5 M | 4.0 | cpu |", report);
        Assert.Contains("| far | 2 | 0.9500 ± 0.0000 | 3, 3 | 12,345 | 2.5 M | 8.5 † | cpu |", report);
        Assert.Contains("so seconds per epoch compare arms only where the Runs table shows the same machine", report);
        Assert.Contains("† This arm's runs span machines, engine builds or devices", report);
        Assert.Contains("| last-epoch test accuracy | seconds per epoch | device | machine | folder |", report);
        Assert.Contains("| far | 2 | 3 | 0.9500 | 0.9500 | 0.9500 | 4.5 | cpu | 2 | `far/seed-2` |", report);
        Assert.DoesNotContain("‡", report);
    }

    [Fact]
    public void Markdown_MixedDevicesInOneArmFlagged()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
            [Result("base", 1, 0.90), Result("base", 2, 0.91) with { Device = "cuda", SecondsPerEpoch = 1.5 }]);
        string report = Markdown(study, arms);
        Assert.Contains("| base | 2 | 0.9050 ± 0.0071 | 3, 3 | 12,345 | 2.5 M | 7.0 † | cpu, cuda |", report);
        Assert.Contains("| base | 2 | 3 | 0.9100 | 0.9100 | 0.9100 | 1.5 | cuda | `base/seed-2` |", report);
        Assert.DoesNotContain("more than one machine", report);
    }

    [Fact]
    public void Markdown_RunsWithDifferentDataFlagged()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
        [
            Result("base", 1, 0.90) with { Data = "set X" },
            Result("base", 2, 0.91) with { Data = "set X" },
            Result("far", 1, 0.95) with { Data = "set X" },
            Result("far", 2, 0.95) with { Data = "set Y" },
        ]);
        string report = Markdown(study, arms);
        Assert.Contains("- data: source 1: set X (3 runs); source 2: set Y (1 run)", report);
        Assert.Contains("| base | 2 | 0.9050 ± 0.0071 | 3, 3 |", report);
        Assert.Contains("| far | 2 | 0.9500 ± 0.0000 ‡ | 3, 3 |", report);
        Assert.Contains("‡ This arm's runs read their images from more than one data source", report);
        Assert.Contains("| last-epoch test accuracy | data source | folder |", report);
        Assert.Contains("| far | 2 | 3 | 0.9500 | 0.9500 | 0.9500 | 2 | `far/seed-2` |", report);
        Assert.DoesNotContain("†", report);
    }

    [Fact]
    public void Curve_SkipsRunWithoutHistory()
    {
        var study = Study();
        var arms = StudyReport.Summarize(study,
            [Result("base", 1, 0.90) with { History = [] }, Result("base", 2, 0.91)]);
        var curve = arms[0].Curve();
        Assert.Equal(1, curve.Seeds);
        Assert.Equal(3, curve.HeldOutAccuracy.Length);
        Assert.Equal(0.91, curve.HeldOutAccuracy[^1], 12);

        var empty = StudyReport.Summarize(study, [Result("base", 1, 0.90) with { History = [] }])[0].Curve();
        Assert.Equal(0, empty.Seeds);
        Assert.Empty(empty.TrainLoss);
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
