using System.Globalization;
using System.Text;
using FashionCuda.Training;

namespace FashionCuda.Studies;

/// <summary>Per-epoch means over an arm's seeds; "held-out" is validation when the runs have a split, else test.</summary>
public sealed record LearningCurve(double[] TrainLoss, double[] HeldOutLoss, double[] TrainAccuracy,
    double[] HeldOutAccuracy, bool HeldOutIsValidation);

/// <summary>The runs of one arm and their figures over seeds.</summary>
public sealed class ArmSummary
{
    public ArmSummary(StudyArm arm, IReadOnlyList<RunResult> runs)
    {
        if (runs.Count == 0)
            throw new ArgumentException($"Arm '{arm.Name}' has no runs.", nameof(runs));
        Arm = arm;
        Runs = runs;
        Accuracies = runs.Select(r => r.TestAccuracy).ToArray();
        MeanAccuracy = Statistics.Mean(Accuracies);
        AccuracyStandardDeviation = Statistics.StandardDeviation(Accuracies);
    }

    public StudyArm Arm { get; }

    public IReadOnlyList<RunResult> Runs { get; }

    /// <summary>Test accuracy of each seed's selected epoch, in seed order.</summary>
    public IReadOnlyList<double> Accuracies { get; }

    public double MeanAccuracy { get; }

    /// <summary>Sample standard deviation over seeds; NaN with one seed.</summary>
    public double AccuracyStandardDeviation { get; }

    /// <summary>Sums the test confusion matrices of the selected epochs over seeds.</summary>
    public int[,] Confusion()
    {
        int classes = Runs[0].Confusion.Length;
        var sum = new int[classes, classes];
        foreach (var run in Runs)
        {
            for (int row = 0; row < classes; row++)
            {
                for (int column = 0; column < classes; column++)
                    sum[row, column] += run.Confusion[row][column];
            }
        }
        return sum;
    }

    /// <summary>Averages the per-epoch figures over seeds, up to the shortest run's epoch count.</summary>
    public LearningCurve Curve()
    {
        int epochs = Runs.Min(r => r.History.Count);
        bool validation = Runs.All(r => r.History.All(e => e.ValidationLoss is not null));
        double[] Mean(Func<EpochMetrics, double> select) =>
            Enumerable.Range(0, epochs).Select(i => Runs.Average(r => select(r.History[i]))).ToArray();
        return new LearningCurve(
            Mean(e => e.TrainLoss),
            Mean(e => validation ? e.ValidationLoss!.Value : e.TestLoss),
            Mean(e => e.TrainAccuracy),
            Mean(e => validation ? e.ValidationAccuracy!.Value : e.TestAccuracy),
            validation);
    }
}

/// <summary>Where and how a report's runs were made, and the plots beside it.</summary>
public sealed record ReportContext
{
    /// <summary>The command line that made the study, shown so a reader can repeat it.</summary>
    public required string Command { get; init; }

    /// <summary>
    /// Data folder and image counts, e.g. "/usr/share/datasets/fashion-mnist", for runs whose results.json does
    /// not record them.
    /// </summary>
    public required string DataSource { get; init; }

    /// <summary>Processor, core count and OS, for runs whose results.json does not record the machine.</summary>
    public required string Hardware { get; init; }

    /// <summary>Runs of the study plan without a finished result, as "arm seed n"; empty when the study is complete.</summary>
    public IReadOnlyList<string> MissingRuns { get; init; } = [];

    /// <summary>
    /// The missing runs whose folders hold a damaged result or one of another config, each with the reason, e.g.
    /// "flip seed 1 (…/results.json: $.confusion is missing)".
    /// </summary>
    public IReadOnlyList<string> SetAsideRuns { get; init; } = [];

    /// <summary>The sentence that tells how to train the missing runs.</summary>
    public string ContinueAdvice { get; init; } = "Rerun the same command to train the rest; it skips the finished runs.";

    public bool Quick { get; init; }

    /// <summary>Plot files beside report.md with their captions, in display order.</summary>
    public IReadOnlyList<(string File, string Caption)> Plots { get; init; } = [];
}

/// <summary>Groups study results by arm and writes <c>report.md</c>.</summary>
public static class StudyReport
{
    public const string FileName = "report.md";

    /// <summary>Groups results by arm, in the study's arm order; arms without results are left out.</summary>
    public static List<ArmSummary> Summarize(StudyDefinition study, IReadOnlyList<RunResult> results) =>
        study.Arms
            .Select(arm => (arm, runs: results.Where(r => r.Arm == arm.Name).OrderBy(r => r.Seed).ToList()))
            .Where(entry => entry.runs.Count > 0)
            .Select(entry => new ArmSummary(entry.arm, entry.runs))
            .ToList();

    /// <summary>Returns the arm with the highest mean test accuracy (the first on ties).</summary>
    public static ArmSummary Best(IReadOnlyList<ArmSummary> arms) =>
        arms.Aggregate((best, arm) => arm.MeanAccuracy > best.MeanAccuracy ? arm : best);

    public static void Write(string directory, StudyDefinition study, IReadOnlyList<ArmSummary> arms,
        ReportContext context) =>
        AtomicFile.WriteText(Path.Combine(directory, FileName), ToMarkdown(study, arms, context));

    public static string ToMarkdown(StudyDefinition study, IReadOnlyList<ArmSummary> arms, ReportContext context)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Study {study.Name}{(context.Quick ? " (--quick smoke test)" : "")}");
        text.AppendLine();
        if (study.Description.Length > 0)
            text.AppendLine(study.Description).AppendLine();
        if (context.Quick)
        {
            text.AppendLine("These numbers come from `--quick`: a few batches on a small subset, to check that " +
                            "every arm runs. They say nothing about which arm is better.");
            text.AppendLine();
        }
        var runs = arms.SelectMany(a => a.Runs).ToList();
        text.AppendLine($"- command: `{context.Command}`");
        text.AppendLine($"- data: {Distinct(runs.Select(r => r.Data), context.DataSource)}");
        text.AppendLine($"- hardware: {Distinct(runs.Select(r => r.Hardware), context.Hardware)}");
        var first = runs[0];
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- images per run: {first.TrainImages:N0} train, {first.ValidationImages:N0} " +
                                  $"validation, {first.TestImages:N0} test; {first.Epochs} epochs"));
        text.AppendLine();
        if (context.MissingRuns.Count > 0)
        {
            int planned = runs.Count + context.MissingRuns.Count;
            text.AppendLine("## Progress");
            text.AppendLine();
            text.AppendLine($"{runs.Count} of {planned} runs have finished, so this report is partial. Not finished: " +
                            $"{string.Join(", ", context.MissingRuns)}. {context.ContinueAdvice} Until then every " +
                            "figure below covers the finished runs only.");
            text.AppendLine();
            if (context.SetAsideRuns.Count > 0)
            {
                text.AppendLine("Left out, with the reason. The next run of the study trains a damaged run again; a " +
                                "result made with another config stops it until that folder is moved or deleted.");
                text.AppendLine();
                foreach (string run in context.SetAsideRuns)
                    text.AppendLine($"- {run}");
                text.AppendLine();
            }
        }
        AppendArmTable(text, arms);
        AppendFindings(text, study, arms);
        AppendPlots(text, context);
        AppendRunTable(text, arms);
        return text.ToString();
    }

    private static void AppendArmTable(StringBuilder text, IReadOnlyList<ArmSummary> arms)
    {
        bool validation = arms.All(a => a.Runs.All(r => r.SelectedByValidation));
        text.AppendLine("## Results");
        text.AppendLine();
        text.AppendLine(validation
            ? "Test accuracy is that of the epoch with the best validation accuracy in each run; the test set " +
              "took no part in choosing it. ± is the sample standard deviation over seeds."
            : "The runs have no validation split, so test accuracy is that of the last epoch. ± is the sample " +
              "standard deviation over seeds.");
        text.AppendLine();
        text.AppendLine("| arm | seeds | test accuracy | best validation epoch | parameters | FLOPs per image | " +
                        "seconds per epoch | device |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var arm in arms)
        {
            string epochs = arm.Runs.All(r => r.SelectedByValidation)
                ? string.Join(", ", arm.Runs.Select(r => r.SelectedEpoch.ToString(CultureInfo.InvariantCulture)))
                : "–";
            string devices = string.Join(", ", arm.Runs.Select(r => r.Device).Distinct());
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {arm.Arm.Name} | {arm.Runs.Count} | {FormatMeanStd(arm)} | {epochs} | " +
                $"{arm.Runs[0].Parameters:N0} | {FormatFlops(arm.Runs[0].FlopsPerImage)} | " +
                $"{arm.Runs.Average(r => r.SecondsPerEpoch):F1} | {devices} |"));
        }
        text.AppendLine();
        text.AppendLine("Seconds per epoch are wall-clock time, evaluation of the validation and test sets included.");
        text.AppendLine();
    }

    /// <summary>
    /// States the best arm and compares each arm with the baseline. A difference counts as within seed noise
    /// when it is at most two standard errors of the difference of the means.
    /// </summary>
    private static void AppendFindings(StringBuilder text, StudyDefinition study, IReadOnlyList<ArmSummary> arms)
    {
        text.AppendLine("## What the numbers say");
        text.AppendLine();
        var best = Best(arms);
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- Highest mean test accuracy: **{best.Arm.Name}**, {FormatMeanStd(best)} over {best.Runs.Count} " +
            $"seed{(best.Runs.Count == 1 ? "" : "s")}."));
        var baseline = arms.FirstOrDefault(a => a.Arm.Name == study.Baseline) ?? arms[0];
        foreach (var arm in arms.Where(a => a != baseline))
        {
            double difference = arm.MeanAccuracy - baseline.MeanAccuracy;
            double error = Statistics.StandardErrorOfDifference(arm.Accuracies, baseline.Accuracies);
            string verdict = double.IsNaN(error)
                ? "one seed per arm cannot tell this from seed noise"
                : Math.Abs(difference) <= 2 * error
                    ? string.Create(CultureInfo.InvariantCulture,
                        $"within seed noise (standard error of the difference {error * 100:F2} points)")
                    : string.Create(CultureInfo.InvariantCulture,
                        $"larger than seed noise: {Math.Abs(difference) / error:F1} standard errors " +
                        $"({error * 100:F2} points) {(difference > 0 ? "above" : "below")} it");
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"- {arm.Arm.Name} vs {baseline.Arm.Name} (baseline): {difference * 100:+0.00;-0.00;0.00} " +
                $"points; {verdict}."));
        }
        if (arms.Count == 1)
            text.AppendLine("- The study has one arm, so there is nothing to compare.");
        else
            text.AppendLine("- Differences and standard errors are in percentage points of test accuracy " +
                            "(0.01 accuracy is 1 point).");
        text.AppendLine();
    }

    private static void AppendPlots(StringBuilder text, ReportContext context)
    {
        if (context.Plots.Count == 0)
            return;
        text.AppendLine("## Plots");
        text.AppendLine();
        foreach (var (file, caption) in context.Plots)
        {
            text.AppendLine($"![{caption}]({file})");
            text.AppendLine();
            text.AppendLine($"*{caption}*");
            text.AppendLine();
        }
    }

    private static void AppendRunTable(StringBuilder text, IReadOnlyList<ArmSummary> arms)
    {
        text.AppendLine("## Runs");
        text.AppendLine();
        text.AppendLine("| arm | seed | selected epoch | validation accuracy | test accuracy | last-epoch test " +
                        "accuracy | folder |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var run in arms.SelectMany(a => a.Runs))
        {
            string validation = run.ValidationAccuracy is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:F4}") : "–";
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run.Arm} | {run.Seed} | {run.SelectedEpoch} | {validation} | {run.TestAccuracy:F4} | " +
                $"{run.FinalTestAccuracy:F4} | `{run.Arm}/seed-{run.Seed}` |"));
        }
    }

    /// <summary>Joins the distinct recorded values, with <paramref name="fallback"/> in place of unrecorded ones.</summary>
    private static string Distinct(IEnumerable<string?> recorded, string fallback) =>
        string.Join("; ", recorded.Select(value => value ?? fallback).Distinct());

    public static string FormatMeanStd(ArmSummary arm) =>
        double.IsNaN(arm.AccuracyStandardDeviation)
            ? string.Create(CultureInfo.InvariantCulture, $"{arm.MeanAccuracy:F4}")
            : string.Create(CultureInfo.InvariantCulture, $"{arm.MeanAccuracy:F4} ± {arm.AccuracyStandardDeviation:F4}");

    /// <summary>Formats a FLOP count with an SI prefix, e.g. 12.3 M.</summary>
    public static string FormatFlops(long flops) => flops switch
    {
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{flops / 1e9:F2} G"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{flops / 1e6:F1} M"),
        >= 1_000 => string.Create(CultureInfo.InvariantCulture, $"{flops / 1e3:F1} k"),
        _ => flops.ToString(CultureInfo.InvariantCulture),
    };
}
