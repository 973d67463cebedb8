using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FashionCuda.Training;

namespace FashionCuda.Studies;

/// <summary>
/// Per-epoch means over the seeds of an arm that have a per-epoch history; "held-out" is validation when those
/// runs have a split, else test.
/// </summary>
/// <param name="Seeds">Number of runs averaged; zero, with empty arrays, when no run of the arm has a history.</param>
public sealed record LearningCurve(double[] TrainLoss, double[] HeldOutLoss, double[] TrainAccuracy,
    double[] HeldOutAccuracy, bool HeldOutIsValidation, int Seeds);

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

    /// <summary>
    /// Averages the per-epoch figures over the seeds that have a history, up to the shortest of those histories.
    /// A run with an empty history (its metrics.json listed no epoch) is left out, so it does not cut the curve
    /// of its arm to nothing. <see cref="LearningCurve.Seeds"/> is the number of runs the curve covers.
    /// </summary>
    public LearningCurve Curve()
    {
        var runs = Runs.Where(r => r.History.Count > 0).ToList();
        int epochs = runs.Count == 0 ? 0 : runs.Min(r => r.History.Count);
        bool validation = runs.All(r => r.History.All(e => e.ValidationLoss is not null));
        double[] Mean(Func<EpochMetrics, double> select) =>
            Enumerable.Range(0, epochs).Select(i => runs.Average(r => select(r.History[i]))).ToArray();
        return new LearningCurve(
            Mean(e => e.TrainLoss),
            Mean(e => validation ? e.ValidationLoss!.Value : e.TestLoss),
            Mean(e => e.TrainAccuracy),
            Mean(e => validation ? e.ValidationAccuracy!.Value : e.TestAccuracy),
            validation,
            runs.Count);
    }
}

/// <summary>Where and how a report's runs were made, and the plots beside it.</summary>
public sealed record ReportContext
{
    /// <summary>
    /// The command line that made the study, shown so a reader can repeat it, for runs whose results.json does
    /// not record the command that trained them.
    /// </summary>
    public required string Command { get; init; }

    /// <summary>
    /// Data folder and image counts, e.g. "/usr/share/datasets/fashion-mnist", for runs whose results.json does
    /// not record them.
    /// </summary>
    public required string DataSource { get; init; }

    /// <summary>Processor, core count and OS, for runs whose results.json does not record the machine.</summary>
    public required string Hardware { get; init; }

    /// <summary>Runs of the study plan without a finished result, in plan order. Empty when the study is complete.</summary>
    public IReadOnlyList<StudyRun> MissingRuns { get; init; } = [];

    /// <summary>
    /// The missing runs whose folders hold a damaged result or one of another config, each with the reason, e.g.
    /// "flip seed 1 (…/results.json: $.confusion is missing)".
    /// </summary>
    public IReadOnlyList<string> SetAsideRuns { get; init; } = [];

    /// <summary>
    /// The missing runs trained part-way (stopped, or still training) with a saved training state, each with its
    /// progress, e.g. "narrow seed 2 after epoch 9 of 15". The next run of the study continues them there.
    /// </summary>
    public IReadOnlyList<string> StoppedRuns { get; init; } = [];

    /// <summary>The sentence that names the command that trains the missing runs.</summary>
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

    /// <summary>
    /// Returns the runs named arm by arm, in the study's arm order with each arm's seeds in run order, e.g.
    /// "narrow seeds 2, 3; narrow-cbam seed 1".
    /// </summary>
    public static string DescribeRuns(IEnumerable<StudyRun> runs)
    {
        var parts = new List<string>();
        foreach (var arm in runs.GroupBy(run => run.Arm.Name).OrderBy(arm => arm.First().Arm.Index))
        {
            var seeds = arm.Select(run => run.Seed.ToString(CultureInfo.InvariantCulture)).ToList();
            parts.Add($"{arm.Key} {(seeds.Count == 1 ? "seed" : "seeds")} {string.Join(", ", seeds)}");
        }
        return string.Join("; ", parts);
    }

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
        var commands = new NumberedValues(runs, r => r.Command is { } command ? $"`{command}`" : null,
            $"`{context.Command}`");
        text.AppendLine($"- command{(commands.Mixed ? "s" : "")}: {commands.Describe(null)}");
        var data = new NumberedValues(runs, r => r.Data, context.DataSource);
        var machines = new NumberedValues(runs, r => r.Hardware, context.Hardware);
        var engines = new NumberedValues(runs, r => r.Engine, UnrecordedEngine);
        text.AppendLine($"- data: {data.Describe("source")}");
        text.AppendLine($"- hardware: {machines.Describe("machine")}");
        text.AppendLine($"- engine: {engines.Describe("build")}");
        text.AppendLine(DescribeImages(runs));
        text.AppendLine();
        if (context.MissingRuns.Count > 0)
        {
            int planned = runs.Count + context.MissingRuns.Count;
            text.AppendLine("## Progress");
            text.AppendLine();
            text.AppendLine($"{runs.Count} of {planned} runs {(runs.Count == 1 ? "has" : "have")} finished, so this " +
                            "report is partial. Not finished: " +
                            $"{DescribeRuns(context.MissingRuns)}. {context.ContinueAdvice} Until then every " +
                            "figure below covers the finished runs only.");
            text.AppendLine();
            if (context.StoppedRuns.Count > 0)
            {
                text.AppendLine("Trained part-way, with a saved training state that the next run of the study checks " +
                                $"and continues from: {string.Join("; ", context.StoppedRuns)}.");
                text.AppendLine();
            }
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
        AppendArmTable(text, arms, machines, engines, data);
        AppendFindings(text, study, arms);
        AppendPlots(text, context);
        AppendRunTable(text, arms, machines, engines, data);
        return text.ToString();
    }

    /// <summary>
    /// Returns the header line on images and epochs per run. When runs differ in them, the line gives each
    /// combination with its arms.
    /// </summary>
    private static string DescribeImages(IReadOnlyList<RunResult> runs)
    {
        var groups = runs.GroupBy(RunShape).ToList();
        if (groups.Count == 1)
        {
            var first = runs[0];
            return string.Create(CultureInfo.InvariantCulture,
                $"- images per run: {first.TrainImages:N0} train, {first.ValidationImages:N0} validation, " +
                $"{first.TestImages:N0} test; {Plural(first.Epochs, "epoch")}");
        }
        var parts = groups.Select(group => string.Create(CultureInfo.InvariantCulture,
            $"{group.Key.Train:N0} train, {group.Key.Validation:N0} validation, {group.Key.Test:N0} test, " +
            $"{Plural(group.Key.Epochs, "epoch")} ({string.Join(", ", group.Select(r => r.Arm).Distinct())})"));
        return $"- images per run differ by arm: {string.Join("; ", parts)}. The Runs table gives the counts of each run.";
    }

    private static string Plural(int count, string noun) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? "" : "s");

    private static (int Train, int Validation, int Test, int Epochs) RunShape(RunResult run) =>
        (run.TrainImages, run.ValidationImages, run.TestImages, run.Epochs);

    /// <summary>
    /// Writes one row per arm. A † after the seconds per epoch marks an arm whose runs span machines, engine builds
    /// or devices, and a ‡ after the test accuracy one whose runs read different data sources.
    /// </summary>
    private static void AppendArmTable(StringBuilder text, IReadOnlyList<ArmSummary> arms, NumberedValues machines,
        NumberedValues engines, NumberedValues data)
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
        bool anyTimingMixed = false;
        bool anyDataMixed = false;
        foreach (var arm in arms)
        {
            string epochs = arm.Runs.All(r => r.SelectedByValidation)
                ? string.Join(", ", arm.Runs.Select(r => r.SelectedEpoch.ToString(CultureInfo.InvariantCulture)))
                : "–";
            var devices = arm.Runs.Select(r => r.Device).Distinct().ToList();
            bool timingMixed = devices.Count > 1 || arm.Runs.Select(machines.NumberOf).Distinct().Count() > 1 ||
                               arm.Runs.Select(engines.NumberOf).Distinct().Count() > 1;
            bool dataMixed = arm.Runs.Select(data.NumberOf).Distinct().Count() > 1;
            anyTimingMixed |= timingMixed;
            anyDataMixed |= dataMixed;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {arm.Arm.Name} | {arm.Runs.Count} | {FormatMeanStd(arm)}{(dataMixed ? " ‡" : "")} | {epochs} | " +
                $"{arm.Runs[0].Parameters:N0} | {FormatFlops(arm.Runs[0].FlopsPerImage)} | " +
                $"{arm.Runs.Average(r => r.SecondsPerEpoch):F1}{(timingMixed ? " †" : "")} | " +
                $"{string.Join(", ", devices)} |"));
        }
        text.AppendLine();
        text.AppendLine("Seconds per epoch are wall-clock time, evaluation of the validation and test sets included.");
        if (machines.Mixed)
        {
            text.AppendLine("The runs were made on more than one machine (see hardware above), so seconds per epoch " +
                            "compare arms only where the Runs table shows the same machine and device.");
        }
        if (engines.Mixed)
        {
            text.AppendLine("The runs were made with more than one engine build (see engine above), and a faster " +
                            "build lowers seconds per epoch, so compare them only between runs of one build (the " +
                            "Runs table gives each run's). Builds compute the same ops but may round sums differently, " +
                            "so a rerun with another build need not repeat a run's figures exactly.");
        }
        if (anyTimingMixed)
            text.AppendLine("† This arm's runs span machines, engine builds or devices, so its seconds per epoch " +
                            "average over them.");
        if (anyDataMixed)
        {
            text.AppendLine("‡ This arm's runs read their images from more than one data source (see data above); " +
                            "the Runs table gives the source of each run.");
        }
        text.AppendLine();
    }

    /// <summary>
    /// States the best arm and compares each arm with the baseline, or with the first arm that has runs while the
    /// baseline has none. A difference counts as within seed noise when it is at most two standard errors of the
    /// difference of the means.
    /// </summary>
    private static void AppendFindings(StringBuilder text, StudyDefinition study, IReadOnlyList<ArmSummary> arms)
    {
        text.AppendLine("## What the numbers say");
        text.AppendLine();
        var best = Best(arms);
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- Highest mean test accuracy: **{best.Arm.Name}**, {FormatMeanStd(best)} over {best.Runs.Count} " +
            $"seed{(best.Runs.Count == 1 ? "" : "s")}."));
        if (arms.Count == 1)
        {
            var others = study.Arms.Where(a => a.Name != arms[0].Arm.Name).Select(a => a.Name).ToList();
            text.AppendLine(others.Count == 0
                ? "- The study has one arm, so there is nothing to compare."
                : $"- Only {arms[0].Arm.Name} has finished runs so far, so there is nothing to compare yet; the " +
                  $"study's other arms are {string.Join(", ", others)}.");
            text.AppendLine();
            return;
        }
        var baseline = arms.FirstOrDefault(a => a.Arm.Name == study.Baseline);
        string role = "baseline";
        if (baseline is null)
        {
            baseline = arms[0];
            role = $"in place of {study.Baseline}";
            text.AppendLine($"- The baseline arm, {study.Baseline}, has no finished runs yet, so the differences " +
                            $"below are taken against {baseline.Arm.Name}, the first arm with finished runs.");
        }
        foreach (var arm in arms.Where(a => a != baseline))
        {
            double difference = arm.MeanAccuracy - baseline.MeanAccuracy;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"- {arm.Arm.Name} vs {baseline.Arm.Name} ({role}): {difference * 100:+0.00;-0.00;0.00} points; " +
                $"{NoiseVerdict(arm, baseline, difference)}.{DescribeSeedMismatch(arm, baseline)}" +
                $"{DescribeShapeMismatch(arm, baseline)}"));
        }
        text.AppendLine("- Differences and standard errors are in percentage points of test accuracy " +
                        "(0.01 accuracy is 1 point).");
        AppendEpochBudget(text, arms);
        text.AppendLine();
    }

    /// <summary>Distance from the highest validation accuracy within which the accuracy counts as level.</summary>
    public const double PlateauAccuracy = 0.002;

    /// <summary>
    /// Returns the first epoch (1-based) at which the accuracy comes within <see cref="PlateauAccuracy"/> of its
    /// highest value, so the later epochs add less than that.
    /// </summary>
    public static int PlateauEpoch(IReadOnlyList<double> accuracy)
    {
        double level = accuracy.Max() - PlateauAccuracy;
        for (int epoch = 0; epoch < accuracy.Count; epoch++)
        {
            if (accuracy[epoch] >= level)
                return epoch + 1;
        }
        // Reached only when every value is NaN.
        return accuracy.Count;
    }

    /// <summary>
    /// Appends the epoch at which the mean validation accuracy of each arm stopped rising. A pilot study uses this
    /// figure to choose the epoch budget of later studies.
    /// </summary>
    private static void AppendEpochBudget(StringBuilder text, IReadOnlyList<ArmSummary> arms)
    {
        var plateaus = arms.Select(arm => (arm.Arm.Name, Curve: arm.Curve()))
            .Where(entry => entry.Curve.HeldOutIsValidation && entry.Curve.HeldOutAccuracy.Length >= 2)
            .Select(entry => Invariant(
                $"{PlateauEpoch(entry.Curve.HeldOutAccuracy)} of {entry.Curve.HeldOutAccuracy.Length} for {entry.Name}"))
            .ToList();
        if (plateaus.Count == 0)
            return;
        text.Append(string.Create(CultureInfo.InvariantCulture,
            $"- Epoch budget: mean validation accuracy comes within {PlateauAccuracy * 100:0.0#} points of its " +
            $"highest value at epoch {string.Join(", ", plateaus)}; later epochs add less than that."));
        if (!arms.All(arm => arm.Runs.All(HasConstantRate)))
        {
            text.Append(" With a learning rate that decays over the run, a shorter run is not the same as these runs " +
                        "cut short, so these epochs bound a shorter budget only loosely.");
        }
        text.AppendLine();
    }

    /// <summary>Returns whether the run's recorded config keeps the learning rate constant (schedule "constant").</summary>
    private static bool HasConstantRate(RunResult run) =>
        run.Config["schedule"]?["name"] is JsonValue name && name.TryGetValue(out string? schedule) &&
        schedule == "constant";

    /// <summary>Judges a difference of means against seed noise, or names the arm with one seed.</summary>
    private static string NoiseVerdict(ArmSummary arm, ArmSummary baseline, double difference)
    {
        double error = Statistics.StandardErrorOfDifference(arm.Accuracies, baseline.Accuracies);
        if (double.IsNaN(error))
        {
            // The standard deviation, and so the error, is NaN for an arm with fewer than two seeds.
            var single = new[] { arm, baseline }.Where(a => a.Runs.Count < 2).ToList();
            return single.Count == 2
                ? "one seed per arm cannot tell this from seed noise"
                : $"{single[0].Arm.Name} has one seed, so its spread is unknown and this cannot be told from " +
                  "seed noise";
        }
        if (Math.Abs(difference) <= 2 * error)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"within seed noise (standard error of the difference {error * 100:F2} points)");
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"larger than seed noise: {Math.Abs(difference) / error:F1} standard errors ({error * 100:F2} points) " +
            $"{(difference > 0 ? "above" : "below")} it");
    }

    /// <summary>Returns a sentence naming each arm's seeds when the two means cover different seeds, else "".</summary>
    private static string DescribeSeedMismatch(ArmSummary arm, ArmSummary baseline)
    {
        var seeds = arm.Runs.Select(r => r.Seed).ToList();
        var baselineSeeds = baseline.Runs.Select(r => r.Seed).ToList();
        if (seeds.SequenceEqual(baselineSeeds))
            return "";
        return $" The means cover different seeds ({arm.Arm.Name}: {string.Join(", ", seeds)}; " +
               $"{baseline.Arm.Name}: {string.Join(", ", baselineSeeds)}).";
    }

    /// <summary>
    /// Returns a sentence that names the image counts and epochs of both arms when they differ, else "". The
    /// difference of the means then mixes the arm's own effect with that of the data or the budget.
    /// </summary>
    private static string DescribeShapeMismatch(ArmSummary arm, ArmSummary baseline)
    {
        var shapes = arm.Runs.Select(RunShape).Distinct().ToList();
        var baselineShapes = baseline.Runs.Select(RunShape).Distinct().ToList();
        if (shapes.SequenceEqual(baselineShapes))
            return "";
        static string Describe(IEnumerable<(int Train, int Validation, int Test, int Epochs)> list) =>
            string.Join(" or ", list.Select(shape => string.Create(CultureInfo.InvariantCulture,
                $"{shape.Train:N0} / {shape.Validation:N0} / {shape.Test:N0} images, {Plural(shape.Epochs, "epoch")}")));
        return $" The two arms trained and tested on different image counts or epochs ({arm.Arm.Name}: " +
               $"{Describe(shapes)}; {baseline.Arm.Name}: {Describe(baselineShapes)}), so the difference is not the " +
               "arm's effect alone.";
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

    /// <summary>
    /// Writes one row per run. Columns for epochs and image counts appear when runs differ in them, columns for
    /// timing, device, machine and engine build when runs span machines, builds or devices, and a data source
    /// column when runs read different data.
    /// </summary>
    private static void AppendRunTable(StringBuilder text, IReadOnlyList<ArmSummary> arms, NumberedValues machines,
        NumberedValues engines, NumberedValues data)
    {
        var runs = arms.SelectMany(a => a.Runs).ToList();
        var columns = new List<(string Title, bool Numeric, Func<RunResult, string> Cell)>
        {
            ("arm", false, r => r.Arm),
            ("seed", true, r => Invariant($"{r.Seed}")),
        };
        if (runs.Select(RunShape).Distinct().Count() > 1)
        {
            columns.Add(("epochs", true, r => Invariant($"{r.Epochs}")));
            columns.Add(("train / validation / test images", true,
                r => Invariant($"{r.TrainImages:N0} / {r.ValidationImages:N0} / {r.TestImages:N0}")));
        }
        columns.Add(("selected epoch", true, r => Invariant($"{r.SelectedEpoch}")));
        columns.Add(("validation accuracy", true,
            r => r.ValidationAccuracy is { } v ? Invariant($"{v:F4}") : "–"));
        columns.Add(("test accuracy", true, r => Invariant($"{r.TestAccuracy:F4}")));
        columns.Add(("last-epoch test accuracy", true, r => Invariant($"{r.FinalTestAccuracy:F4}")));
        if (machines.Mixed || engines.Mixed || runs.Select(r => r.Device).Distinct().Count() > 1)
        {
            columns.Add(("seconds per epoch", true, r => Invariant($"{r.SecondsPerEpoch:F1}")));
            columns.Add(("device", false, r => r.Device));
            if (machines.Mixed)
                columns.Add(("machine", true, r => Invariant($"{machines.NumberOf(r)}")));
            if (engines.Mixed)
                columns.Add(("engine build", true, r => Invariant($"{engines.NumberOf(r)}")));
        }
        if (data.Mixed)
            columns.Add(("data source", true, r => Invariant($"{data.NumberOf(r)}")));
        columns.Add(("folder", false, r => $"`{r.Arm}/seed-{r.Seed}`"));

        text.AppendLine("## Runs");
        text.AppendLine();
        text.AppendLine($"| {string.Join(" | ", columns.Select(c => c.Title))} |");
        text.AppendLine($"|{string.Join("|", columns.Select(c => c.Numeric ? "---:" : "---"))}|");
        foreach (var run in runs)
            text.AppendLine($"| {string.Join(" | ", columns.Select(c => c.Cell(run)))} |");
    }

    /// <summary>The engine of runs whose results.json predates the record of the engine build.</summary>
    private const string UnrecordedEngine = "not recorded in results.json (runs made before builds were recorded)";

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

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
