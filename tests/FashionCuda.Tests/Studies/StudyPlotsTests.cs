using System.Buffers.Binary;
using FashionCuda.Cli.Plots;
using FashionCuda.Studies;
using ScottPlot;

namespace FashionCuda.Tests.Studies;

public sealed class StudyPlotsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-plots-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Checks the PNG signature and returns the width and height from the IHDR chunk.</summary>
    internal static (int Width, int Height) ReadPngSize(string path)
    {
        Assert.True(File.Exists(path), $"{path} is missing");
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000, $"{path} has only {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public void WriteAll_WritesThreePngsOfExpectedSize()
    {
        var study = StudyDefinition.Parse("""
            { "name": "p", "seeds": [1, 2], "arms": [ { "name": "base" }, { "name": "close" }, { "name": "far" } ] }
            """, "p.json");
        var plots = StudyPlots.WriteAll(directory, study, StudyReportTests.Arms(study),
            FashionCuda.Data.FashionMnist.ClassNames);
        Assert.Equal([StudyPlots.LearningCurvesFile, StudyPlots.AccuracyFile, StudyPlots.ConfusionFile],
            plots.Select(p => p.File));
        Assert.Equal((StudyPlots.LearningCurvesWidth, StudyPlots.LearningCurvesHeight),
            ReadPngSize(Path.Combine(directory, StudyPlots.LearningCurvesFile)));
        Assert.Equal((StudyPlots.AccuracyWidth, StudyPlots.AccuracyHeight),
            ReadPngSize(Path.Combine(directory, StudyPlots.AccuracyFile)));
        Assert.Equal((StudyPlots.ConfusionWidth, StudyPlots.ConfusionHeight),
            ReadPngSize(Path.Combine(directory, StudyPlots.ConfusionFile)));
        Assert.Contains("(far), summed over 2 seeds", plots[2].Caption);
        Assert.Empty(Directory.GetFiles(directory, "*.tmp"));
    }

    [Fact]
    public void AccuracyBars_StartAtZeroLabelsBesideWhiskers()
    {
        var study = StudyDefinition.Parse("""
            { "name": "p", "seeds": [1, 2], "arms": [ { "name": "base" }, { "name": "close" }, { "name": "far" } ] }
            """, "p.json");
        var arms = StudyReportTests.Arms(study);
        var plot = StudyPlots.AccuracyBars(study, arms);
        var limits = plot.Axes.GetLimits();
        Assert.Equal(0, limits.Left);
        Assert.True(limits.Right >= 1, $"the accuracy axis ends at {limits.Right}");
        var bars = Assert.Single(plot.GetPlottables<ScottPlot.Plottables.BarPlot>());
        Assert.True(bars.Bars.All(bar => bar.Orientation == ScottPlot.Orientation.Horizontal));
        var labels = plot.GetPlottables<ScottPlot.Plottables.Text>().ToList();
        Assert.Equal(arms.Count, labels.Count);
        for (int i = 0; i < arms.Count; i++)
        {
            double whiskerEnd = arms[i].MeanAccuracy + arms[i].AccuracyStandardDeviation;
            Assert.Equal(StudyReport.FormatMeanStd(arms[i]), labels[i].LabelText);
            Assert.Equal(whiskerEnd, labels[i].Location.X, 12);
            Assert.Equal(ScottPlot.Alignment.MiddleLeft, labels[i].LabelAlignment);
        }
    }

    [Fact]
    public void AccuracyDetail_ZoomsToSeedsAndMarksBaseline()
    {
        var study = StudyDefinition.Parse("""
            { "name": "p", "seeds": [1, 2, 3], "baseline": "close",
              "arms": [ { "name": "base" }, { "name": "close" }, { "name": "far" } ] }
            """, "p.json");
        var arms = StudyReport.Summarize(study, [StudyReportTests.Result("base", 1, 0.921),
            StudyReportTests.Result("base", 2, 0.925), StudyReportTests.Result("base", 3, 0.918),
            StudyReportTests.Result("close", 1, 0.924), StudyReportTests.Result("close", 2, 0.926),
            StudyReportTests.Result("far", 1, 0.931)]);
        var plot = StudyPlots.AccuracyDetail(study, arms);
        var limits = plot.Axes.GetLimits();
        // The axis spans the seeds with a margin, far from zero, so a 0.3-point gap is a visible distance.
        Assert.InRange(limits.Left, 0.90, 0.918 - 1e-4);
        Assert.InRange(limits.Right, 0.931 + 1e-4, 0.95);
        var markers = plot.GetPlottables<ScottPlot.Plottables.Marker>().ToList();
        var seeds = markers.Where(m => m.MarkerShape == MarkerShape.OpenCircle).Select(m => m.X).Order().ToList();
        Assert.Equal([0.918, 0.921, 0.924, 0.925, 0.926, 0.931], seeds);
        var means = markers.Where(m => m.MarkerShape == MarkerShape.FilledCircle).ToList();
        Assert.Equal(arms.Select(a => a.MeanAccuracy), means.OrderByDescending(m => m.Y).Select(m => m.X));
        // One whisker per arm with two or more seeds.
        Assert.Equal(2, plot.GetPlottables<ScottPlot.Plottables.LinePlot>().Count());
        var baseline = Assert.Single(plot.GetPlottables<ScottPlot.Plottables.VerticalLine>());
        Assert.Equal(0.925, baseline.X, 12);
        Assert.StartsWith("close (baseline)", baseline.LegendText);
    }

    [Fact]
    public void AccuracyDetail_OneRunWidensAxis()
    {
        var study = ThreeArmStudy();
        var arms = StudyReport.Summarize(study, [StudyReportTests.Result("far", 1, 0.95)]);
        var plot = StudyPlots.AccuracyDetail(study, arms);
        var limits = plot.Axes.GetLimits();
        Assert.True(limits.Right - limits.Left >= 0.01, $"axis {limits.Left} to {limits.Right}");
        Assert.InRange(0.95, limits.Left, limits.Right);
        Assert.Empty(plot.GetPlottables<ScottPlot.Plottables.VerticalLine>());
        Assert.Empty(plot.GetPlottables<ScottPlot.Plottables.LinePlot>());
    }

    [Fact]
    public void LearningCurves_OneEpochKeepsStylesApart()
    {
        var study = StudyDefinition.Parse("""{ "name": "p", "arms": [ { "name": "base" } ] }""", "p.json");
        var oneEpoch = StudyReportTests.Arms(study).Select(arm => new ArmSummary(arm.Arm,
            arm.Runs.Select(run => run with { History = run.History.Take(1).ToList() }).ToList())).ToList();
        var multiplot = StudyPlots.LearningCurves(study, oneEpoch);
        foreach (var plot in new[] { multiplot.GetPlot(0), multiplot.GetPlot(1) })
        {
            var lines = plot.GetPlottables<ScottPlot.Plottables.Scatter>().ToList();
            Assert.NotEmpty(lines);
            Assert.All(lines, line => Assert.True(line.MarkerSize > 0));
            // Held-out lines carry the arm name in the legend; training lines have none.
            var heldOut = lines.Where(line => !string.IsNullOrEmpty(line.LegendText)).ToList();
            var training = lines.Where(line => string.IsNullOrEmpty(line.LegendText)).ToList();
            Assert.NotEmpty(heldOut);
            Assert.NotEmpty(training);
            Assert.DoesNotContain(heldOut, line => training.Any(t => t.MarkerShape == line.MarkerShape));
        }
    }

    private static StudyDefinition ThreeArmStudy() => StudyDefinition.Parse("""
        { "name": "p", "seeds": [1, 2], "arms": [ { "name": "base" }, { "name": "close" }, { "name": "far" } ] }
        """, "p.json");

    private static List<ScottPlot.Plottables.Scatter> HeldOutLines(Plot plot) =>
        plot.GetPlottables<ScottPlot.Plottables.Scatter>().Where(line => !string.IsNullOrEmpty(line.LegendText)).ToList();

    [Fact]
    public void ArmLabels_ShowSeedCounts()
    {
        var study = ThreeArmStudy();
        var arms = StudyReport.Summarize(study, [StudyReportTests.Result("base", 1, 0.90),
            StudyReportTests.Result("base", 2, 0.91), StudyReportTests.Result("far", 1, 0.95)]);
        var bars = StudyPlots.AccuracyBars(study, arms);
        // A tick generator fills its ticks when the plot renders; the first arm is at the top.
        bars.RenderInMemory(StudyPlots.AccuracyWidth, StudyPlots.AccuracyHeight);
        var ticks = bars.Axes.Left.TickGenerator.Ticks.OrderByDescending(tick => tick.Position)
            .Select(tick => tick.Label).ToList();
        Assert.Equal(["base (2 seeds)", "far (1 seed)"], ticks);
        var curves = StudyPlots.LearningCurves(study, arms);
        Assert.Equal(["base (2 seeds)", "far (1 seed)"], HeldOutLines(curves.GetPlot(1)).Select(l => l.LegendText));
    }

    [Fact]
    public void Confusion_TitleGivesSeedsSummed()
    {
        var study = ThreeArmStudy();
        var arms = StudyReportTests.Arms(study);
        var plot = StudyPlots.Confusion(arms[2], FashionCuda.Data.FashionMnist.ClassNames);
        Assert.Equal("Confusion matrix of far (test set, summed over 2 seeds)", plot.Axes.Title.Label.Text);
        var single = StudyReport.Summarize(study, [StudyReportTests.Result("far", 1, 0.95)]);
        Assert.EndsWith("summed over 1 seed)",
            StudyPlots.Confusion(single[0], FashionCuda.Data.FashionMnist.ClassNames).Axes.Title.Label.Text);
    }

    [Fact]
    public void ArmColor_FollowsStudyArmIndex()
    {
        var study = ThreeArmStudy();
        var palette = new ScottPlot.Palettes.Category10();
        var partial = StudyReport.Summarize(study, [StudyReportTests.Result("far", 1, 0.95)]);
        var full = StudyReportTests.Arms(study);
        var partialBar = Assert.Single(Assert.Single(
            StudyPlots.AccuracyBars(study, partial).GetPlottables<ScottPlot.Plottables.BarPlot>()).Bars);
        var fullBars = Assert.Single(StudyPlots.AccuracyBars(study, full).GetPlottables<ScottPlot.Plottables.BarPlot>())
            .Bars.ToList();
        Assert.Equal(palette.GetColor(2), partialBar.FillColor);
        Assert.Equal(palette.GetColor(2), fullBars[2].FillColor);
        Assert.Equal(palette.GetColor(0), fullBars[0].FillColor);
        var partialLine = Assert.Single(HeldOutLines(StudyPlots.LearningCurves(study, partial).GetPlot(0)));
        Assert.Equal(palette.GetColor(2), partialLine.Color);
        var unknown = StudyDefinition.Parse("""{ "name": "other", "arms": [ { "name": "base" } ] }""", "o.json");
        Assert.Throws<ArgumentException>(() => StudyPlots.ArmColor(unknown, partial[0]));
    }

    [Fact]
    public void LearningCurves_EmptyHistoryHidesNoArm()
    {
        var study = ThreeArmStudy();
        var arms = StudyReport.Summarize(study,
        [
            StudyReportTests.Result("base", 1, 0.90) with { History = [] },
            StudyReportTests.Result("base", 2, 0.91),
            StudyReportTests.Result("close", 1, 0.904) with { History = [] },
            StudyReportTests.Result("far", 1, 0.95, epochs: 5),
            StudyReportTests.Result("far", 2, 0.95, epochs: 5),
        ]);
        var multiplot = StudyPlots.LearningCurves(study, arms);
        var accuracy = multiplot.GetPlot(1);
        var lines = HeldOutLines(accuracy);
        Assert.Equal(["base (curve from 1 of 2 seeds)", "far (2 seeds)"], lines.Select(line => line.LegendText));
        Assert.Equal(3, lines[0].Data.GetScatterPoints().Count);
        Assert.Equal(5, lines[1].Data.GetScatterPoints().Count);
        Assert.Contains(accuracy.Legend.ManualItems, item => item.LabelText == "close (1 seed, no per-epoch history)");
        Assert.Equal(5.5, accuracy.Axes.GetLimits().Right);
        string path = Path.Combine(directory, StudyPlots.LearningCurvesFile);
        StudyPlots.WriteLearningCurves(path, study, arms);
        Assert.Equal((StudyPlots.LearningCurvesWidth, StudyPlots.LearningCurvesHeight), ReadPngSize(path));
    }

    [Fact]
    public void ImageGrid_OverlayAddsScaleAndRange()
    {
        float[] image = Enumerable.Range(0, 16).Select(v => v / 15f).ToArray();
        string plain = Path.Combine(directory, "plain.png");
        string overlaid = Path.Combine(directory, "overlay.png");
        var (_, plainHeight) = ImageGrid.Write(plain, "attention", [new GridTile(image, 4, 4, ["map"])], 1, 10);
        var tile = new GridTile(image, 4, 4, ["map"]) { Overlay = [0.25f, 0.75f], OverlayHeight = 1, OverlayWidth = 2 };
        var (_, overlayHeight) = ImageGrid.Write(overlaid, "attention", [tile], 1, 10);
        Assert.Equal(overlayHeight, ReadPngSize(overlaid).Height);
        // The colour scale and the caption line "gate 0.25 to 0.75" make the picture taller.
        Assert.True(overlayHeight > plainHeight + 14, $"{overlayHeight} is not taller than {plainHeight} + scale");
    }

    [Fact]
    public void ImageGrid_WritesPngOfReportedSize()
    {
        var tiles = Enumerable.Range(0, 10)
            .Select(i => new GridTile(Enumerable.Range(0, 9).Select(v => v / 8f).ToArray(), 3, 3, [$"tile {i}"]))
            .ToList();
        string path = Path.Combine(directory, "grid.png");
        var (width, height) = ImageGrid.Write(path, "ten tiles", tiles, columns: 4, scale: 10);
        Assert.Equal((width, height), ReadPngSize(path));
        Assert.True(width >= 4 * 30);
        Assert.True(height >= 3 * 30);
    }

    [Fact]
    public void Stretch_MapsMinToZeroMaxToOne()
    {
        Assert.Equal([0f, 0.5f, 1f], ImageGrid.Stretch([-2f, 0f, 2f]));
        Assert.Equal([0.5f, 0.5f], ImageGrid.Stretch([3f, 3f]));
    }
}
