using FashionCuda.Studies;
using ScottPlot;

namespace FashionCuda.Cli.Plots;

/// <summary>The PNG plots beside a study's report.md, drawn with ScottPlot 5.</summary>
public static class StudyPlots
{
    public const string LearningCurvesFile = "learning-curves.png";
    public const string AccuracyFile = "accuracy.png";
    public const string ConfusionFile = "confusion.png";

    /// <summary>The PNG files <see cref="WriteAll"/> writes into a study folder.</summary>
    public static readonly IReadOnlyList<string> Files = [LearningCurvesFile, AccuracyFile, ConfusionFile];

    public const int LearningCurvesWidth = 1200;
    public const int LearningCurvesHeight = 500;
    public const int AccuracyWidth = 1600;
    public const int AccuracyHeight = 500;
    public const int ConfusionWidth = 800;
    public const int ConfusionHeight = 720;

    /// <summary>Writes the three plots into <paramref name="directory"/>; returns their file names and captions.</summary>
    /// <param name="study">The study of the arms; each arm's colour follows its index in the study's arm list.</param>
    public static IReadOnlyList<(string File, string Caption)> WriteAll(string directory, StudyDefinition study,
        IReadOnlyList<ArmSummary> arms, IReadOnlyList<string> classNames)
    {
        var best = StudyReport.Best(arms);
        string heldOut = arms.All(a => a.Curve().HeldOutIsValidation) ? "validation" : "test";
        WriteLearningCurves(Path.Combine(directory, LearningCurvesFile), study, arms);
        WriteAccuracy(Path.Combine(directory, AccuracyFile), study, arms);
        WriteConfusion(Path.Combine(directory, ConfusionFile), best, classNames);
        return
        [
            (LearningCurvesFile, $"Learning curves, mean over seeds: training (dashed, open squares) and " +
                                 $"{heldOut} (solid, filled circles) loss and accuracy per epoch."),
            (AccuracyFile, "Test accuracy per arm. Left: mean over seeds on an axis from zero, error bars ± one " +
                           "standard deviation. Right: the same zoomed in, each seed an open circle, the dashed " +
                           "line the baseline's mean."),
            (ConfusionFile, $"Test confusion matrix of the best arm ({best.Arm.Name}), summed over " +
                            $"{SeedCount(best.Runs.Count)}; cells are counts, colour is the share of the true class."),
        ];
    }

    /// <summary>
    /// Loss (left) and accuracy (right) per epoch for every arm: held-out solid with filled circles, training
    /// dashed with open squares, so the two stay apart even when a run has one epoch and its lines are points.
    /// Each arm's curve comes from its own runs, so an arm with a short history does not cut the others.
    /// </summary>
    public static void WriteLearningCurves(string path, StudyDefinition study, IReadOnlyList<ArmSummary> arms) =>
        Save(path, LearningCurves(study, arms).Render(LearningCurvesWidth, LearningCurvesHeight));

    /// <summary>Builds the plots that <see cref="WriteLearningCurves"/> draws.</summary>
    public static Multiplot LearningCurves(StudyDefinition study, IReadOnlyList<ArmSummary> arms)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var loss = multiplot.GetPlot(0);
        var accuracy = multiplot.GetPlot(1);
        bool validation = true;
        int maxEpochs = 1;
        var withoutHistory = new List<LegendItem>();
        foreach (var arm in arms)
        {
            var curve = arm.Curve();
            var color = ArmColor(study, arm);
            if (curve.Seeds == 0)
            {
                // The arm has no line to carry its legend entry, so a manual entry explains the missing curve.
                withoutHistory.Add(new LegendItem
                {
                    LabelText = $"{arm.Arm.Name} ({SeedCount(arm.Runs.Count)}, no per-epoch history)",
                    MarkerShape = MarkerShape.FilledCircle,
                    MarkerColor = color,
                    MarkerSize = 7,
                });
                continue;
            }
            validation &= curve.HeldOutIsValidation;
            maxEpochs = Math.Max(maxEpochs, curve.TrainLoss.Length);
            string label = curve.Seeds == arm.Runs.Count
                ? SeedLabel(arm)
                : $"{arm.Arm.Name} (curve from {curve.Seeds} of {SeedCount(arm.Runs.Count)})";
            double[] epochs = Enumerable.Range(1, curve.TrainLoss.Length).Select(e => (double)e).ToArray();
            AddLine(loss, epochs, curve.HeldOutLoss, color, label, training: false);
            AddLine(loss, epochs, curve.TrainLoss, color, null, training: true);
            AddLine(accuracy, epochs, curve.HeldOutAccuracy, color, label, training: false);
            AddLine(accuracy, epochs, curve.TrainAccuracy, color, null, training: true);
        }
        string heldOut = validation ? "validation" : "test";
        loss.Title($"Loss ({heldOut} and training)");
        loss.XLabel("epoch");
        loss.YLabel("cross-entropy loss");
        accuracy.Title($"Accuracy ({heldOut} and training)");
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy");
        loss.HideLegend();
        accuracy.Legend.ManualItems.AddRange(withoutHistory);
        accuracy.Legend.ManualItems.Add(StyleKey($"{heldOut}: solid, filled circles", training: false));
        accuracy.Legend.ManualItems.Add(StyleKey("training: dashed, open squares", training: true));
        accuracy.ShowLegend(Edge.Right);
        foreach (var plot in new[] { loss, accuracy })
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.Axes.SetLimitsX(0.5, maxEpochs + 0.5);
        }
        return multiplot;
    }

    /// <summary>
    /// Writes two panels side by side, one row per arm, first arm at the top: <see cref="AccuracyBars"/> on an axis
    /// from zero, and <see cref="AccuracyDetail"/> zoomed in so that differences of a few tenths of a point,
    /// the size of seed noise, can be seen.
    /// </summary>
    public static void WriteAccuracy(string path, StudyDefinition study, IReadOnlyList<ArmSummary> arms) =>
        Save(path, Accuracy(study, arms).Render(AccuracyWidth, AccuracyHeight));

    /// <summary>Builds the two panels that <see cref="WriteAccuracy"/> draws.</summary>
    public static Multiplot Accuracy(StudyDefinition study, IReadOnlyList<ArmSummary> arms)
    {
        var multiplot = new Multiplot(AccuracyBars(study, arms));
        multiplot.AddPlot(AccuracyDetail(study, arms));
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        return multiplot;
    }

    /// <summary>
    /// Builds one horizontal bar per arm from zero: mean test accuracy with ± one standard deviation (no whisker with a
    /// single seed). Arm names with their seed counts sit on the left axis, so long names never overlap, and each
    /// "mean ± std" label sits right of its whisker.
    /// </summary>
    public static Plot AccuracyBars(StudyDefinition study, IReadOnlyList<ArmSummary> arms)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        double labelRight = 0;
        for (int i = 0; i < arms.Count; i++)
        {
            double std = arms[i].AccuracyStandardDeviation;
            double error = double.IsNaN(std) ? 0 : std;
            double position = arms.Count - 1 - i;
            bars.Add(new Bar
            {
                Position = position,
                Value = arms[i].MeanAccuracy,
                Error = error,
                FillColor = ArmColor(study, arms[i]),
            });
            var label = plot.Add.Text(StudyReport.FormatMeanStd(arms[i]), arms[i].MeanAccuracy + error, position);
            label.LabelAlignment = Alignment.MiddleLeft;
            label.LabelFontSize = 12;
            label.OffsetX = 6;
            labelRight = Math.Max(labelRight, arms[i].MeanAccuracy + error);
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        var ticks = arms.Select((arm, i) => new Tick(arms.Count - 1 - i, SeedLabel(arm))).ToArray();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        // Ticks stop at 1, the highest accuracy; the axis runs on so the labels right of the bars fit inside.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, 11).Select(t => new Tick(t / 10.0, (t / 10.0).ToString("0.0",
                System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        // A "0.9123 ± 0.0012" label is about a quarter of the axis wide in a panel of half the image.
        plot.Axes.SetLimitsX(0, Math.Max(1.0, labelRight + 0.27));
        plot.Axes.SetLimitsY(-0.6, arms.Count - 0.4);
        plot.Title("Test accuracy (mean ± std over seeds)");
        plot.XLabel("test accuracy");
        return plot;
    }

    /// <summary>
    /// Plots the accuracies of <see cref="AccuracyBars"/> on an axis that spans the results only. Each seed's test
    /// accuracy is an open circle and the mean a filled circle with a ± one standard deviation whisker. A dashed
    /// vertical line marks the baseline arm's mean when the baseline has finished runs.
    /// </summary>
    public static Plot AccuracyDetail(StudyDefinition study, IReadOnlyList<ArmSummary> arms)
    {
        var plot = new Plot();
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        for (int i = 0; i < arms.Count; i++)
        {
            var arm = arms[i];
            var color = ArmColor(study, arm);
            double row = arms.Count - 1 - i;
            double std = double.IsNaN(arm.AccuracyStandardDeviation) ? 0 : arm.AccuracyStandardDeviation;
            if (std > 0)
            {
                var whisker = plot.Add.Line(arm.MeanAccuracy - std, row, arm.MeanAccuracy + std, row);
                whisker.LineColor = color;
                whisker.LineWidth = 2;
            }
            plot.Add.Marker(arm.MeanAccuracy, row, MarkerShape.FilledCircle, 11, color);
            foreach (double accuracy in arm.Accuracies)
            {
                // Seeds sit just below the mean's row, so a seed equal to the mean stays visible.
                plot.Add.Marker(accuracy, row - 0.22, MarkerShape.OpenCircle, 8, color);
            }
            low = Math.Min(low, Math.Min(arm.MeanAccuracy - std, arm.Accuracies.Min()));
            high = Math.Max(high, Math.Max(arm.MeanAccuracy + std, arm.Accuracies.Max()));
        }
        var baseline = arms.FirstOrDefault(arm => arm.Arm.Name == study.Baseline);
        if (baseline is not null)
        {
            var line = plot.Add.VerticalLine(baseline.MeanAccuracy, 1.5f, Colors.Gray, LinePattern.Dashed);
            line.LegendText = $"{baseline.Arm.Name} (baseline) mean";
        }
        plot.Legend.ManualItems.Add(new LegendItem
        {
            LabelText = "mean ± std", MarkerShape = MarkerShape.FilledCircle, MarkerColor = Colors.Black,
            MarkerSize = 9, LineColor = Colors.Black, LineWidth = 2,
        });
        plot.Legend.ManualItems.Add(new LegendItem
        {
            LabelText = "one seed", MarkerShape = MarkerShape.OpenCircle, MarkerColor = Colors.Black, MarkerSize = 8,
        });
        plot.ShowLegend(Edge.Right);
        var ticks = arms.Select((arm, i) => new Tick(arms.Count - 1 - i, SeedLabel(arm))).ToArray();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        // The axis is kept at least one point wide, so one arm or equal seeds still give a readable axis.
        double margin = Math.Max(0.15 * (high - low), 0.5 * Math.Max(0, 0.01 - (high - low)) + 0.001);
        plot.Axes.SetLimitsX(low - margin, high + margin);
        plot.Axes.SetLimitsY(-0.6, arms.Count - 0.4);
        plot.Title("Zoomed in: each seed, mean ± std");
        plot.XLabel("test accuracy");
        return plot;
    }

    /// <summary>Confusion matrix of an arm: row = true class, column = predicted, coloured by row share.</summary>
    public static void WriteConfusion(string path, ArmSummary arm, IReadOnlyList<string> classNames) =>
        Save(path, Confusion(arm, classNames).GetImage(ConfusionWidth, ConfusionHeight));

    /// <summary>Builds the plot that <see cref="WriteConfusion"/> draws.</summary>
    public static Plot Confusion(ArmSummary arm, IReadOnlyList<string> classNames)
    {
        var counts = arm.Confusion();
        int classes = counts.GetLength(0);
        var share = new double[classes, classes];
        for (int row = 0; row < classes; row++)
        {
            double total = 0;
            for (int column = 0; column < classes; column++)
                total += counts[row, column];
            for (int column = 0; column < classes; column++)
                share[row, column] = total == 0 ? 0 : counts[row, column] / total;
        }
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(share);
        // Blues runs from dark to light, so reversed it shows rare cells light and frequent ones dark.
        heatmap.Colormap = new ScottPlot.Colormaps.Blues().Reversed();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        // ScottPlot draws row 0 of the intensities at the top, so y = classes − 1 − row.
        for (int row = 0; row < classes; row++)
        {
            for (int column = 0; column < classes; column++)
            {
                var text = plot.Add.Text(counts[row, column].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    column, classes - 1 - row);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = 11;
                text.LabelFontColor = share[row, column] > 0.5 ? Colors.White : Colors.Black;
            }
        }
        string Name(int index) => index < classNames.Count ? classNames[index] : index.ToString();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, classes).Select(c => new Tick(c, Name(c))).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, classes).Select(r => new Tick(classes - 1 - r, Name(r))).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        // ScottPlot does not measure rotated tick labels, so the axis gets room for the longest class name.
        plot.Axes.Bottom.MinimumSize = 110;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.SetLimits(-0.5, classes - 0.5, -0.5, classes - 0.5);
        plot.Title($"Confusion matrix of {arm.Arm.Name} (test set, summed over " +
                   $"{SeedCount(arm.Runs.Count)})");
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        plot.Add.ColorBar(heatmap);
        return plot;
    }

    /// <summary>
    /// Returns the arm's colour from its index in the study's arm list, so an arm keeps its colour whichever arms
    /// have finished runs.
    /// </summary>
    /// <exception cref="ArgumentException">The arm is not one of the study's.</exception>
    public static Color ArmColor(StudyDefinition study, ArmSummary arm)
    {
        int index = study.Arms.ToList().FindIndex(a => a.Name == arm.Arm.Name);
        if (index < 0)
        {
            throw new ArgumentException($"Arm '{arm.Arm.Name}' is not an arm of study {study.Name}; its arms are " +
                                        $"{string.Join(", ", study.Arms.Select(a => a.Name))}.", nameof(arm));
        }
        return new ScottPlot.Palettes.Category10().GetColor(index);
    }

    /// <summary>Returns the arm name with its seed count, e.g. "flip-crop (1 seed)".</summary>
    public static string SeedLabel(ArmSummary arm) => $"{arm.Arm.Name} ({SeedCount(arm.Runs.Count)})";

    private static string SeedCount(int seeds) => seeds == 1 ? "1 seed" : $"{seeds} seeds";

    private static void AddLine(Plot plot, double[] xs, double[] ys, Color color, string? legend, bool training)
    {
        var line = plot.Add.Scatter(xs, ys, color);
        line.LineWidth = training ? 1.5f : 2f;
        line.LinePattern = training ? LinePattern.Dashed : LinePattern.Solid;
        line.MarkerShape = training ? MarkerShape.OpenSquare : MarkerShape.FilledCircle;
        line.MarkerSize = xs.Length > 30 ? 4 : 7;
        if (legend is not null)
            line.LegendText = legend;
    }

    /// <summary>A black legend entry that explains a line style rather than naming an arm.</summary>
    private static LegendItem StyleKey(string text, bool training) => new()
    {
        LabelText = text,
        LineColor = Colors.Black,
        LineWidth = training ? 1.5f : 2f,
        LinePattern = training ? LinePattern.Dashed : LinePattern.Solid,
        MarkerShape = training ? MarkerShape.OpenSquare : MarkerShape.FilledCircle,
        MarkerColor = Colors.Black,
        MarkerSize = 7,
    };

    /// <summary>Writes PNG bytes through a temporary file, so a reader never sees half an image.</summary>
    private static void Save(string path, Image image)
    {
        byte[] png = image.GetImageBytes(ImageFormat.Png);
        Training.AtomicFile.Write(path, stream => stream.Write(png));
        image.Dispose();
    }
}
