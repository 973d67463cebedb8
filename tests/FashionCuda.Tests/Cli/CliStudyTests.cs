using FashionCuda.Tests.Studies;
using FashionCuda.Training;

namespace FashionCuda.Tests.Cli;

/// <summary>Runs the pilot study with --quick once; the tests of this class read its output folder.</summary>
public sealed class PilotQuickRun : IDisposable
{
    public PilotQuickRun()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("fashioncuda-pilot-").FullName;
        Study = Path.Combine(Directory, "study");
        var first = CliRunner.Run(Directory, "study", Path.Combine(CliRunner.RepositoryRoot(), "studies", "pilot.json"),
            "--quick", "--data", CliRunner.EmbeddedData(), "--out", Study);
        ExitCode = first.ExitCode;
        Output = first.Output;
        Error = first.Error;
    }

    public string Directory { get; }

    public string Study { get; }

    public int ExitCode { get; }

    public string Output { get; }

    public string Error { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class CliStudyTests(PilotQuickRun pilot) : IClassFixture<PilotQuickRun>
{
    private static readonly string[] PilotArms = ["none", "flip", "flip-crop", "flip-crop-erasing"];

    [Fact]
    public void StudyQuick_WritesReportAndPlots()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string report = File.ReadAllText(Path.Combine(pilot.Study, "report.md"));
        Assert.Contains("# Study pilot (--quick smoke test)", report);
        foreach (string arm in PilotArms)
        {
            Assert.Contains($"| {arm} | 1 | ", report);
            Assert.True(File.Exists(Path.Combine(pilot.Study, arm, "seed-1", "results.json")), $"{arm} has no results");
        }
        Assert.Contains("one seed per arm cannot tell this from seed noise", report);
        foreach (var png in new[] { "learning-curves.png", "accuracy.png", "confusion.png" })
        {
            Assert.Contains($"]({png})", report);
            StudyPlotsTests.ReadPngSize(Path.Combine(pilot.Study, png));
        }
        Assert.Contains("[4/4] flip-crop-erasing seed 1", pilot.Output);
        Assert.Contains("Report in ", pilot.Output);
    }

    [Fact]
    public void StudyRerun_SkipsFinishedRuns()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        var second = CliRunner.Run(pilot.Directory, "study",
            Path.Combine(CliRunner.RepositoryRoot(), "studies", "pilot.json"), "--quick", "--data",
            CliRunner.EmbeddedData(), "--out", pilot.Study, "--arms", "none,flip");
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Equal(2, second.Output.Split('\n').Count(line => line.Contains("finished before, skipped")));
        Assert.DoesNotContain("epoch  train_loss", second.Output);
    }

    [Fact]
    public void Inspect_WritesFiltersAndFeatureMaps()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string checkpoint = Path.Combine(pilot.Study, "flip", "seed-1", "best.safetensors");
        string output = Path.Combine(pilot.Directory, "inspect");
        var result = CliRunner.Run(pilot.Directory, "inspect", "--checkpoint", checkpoint, "--image", "3",
            "--data", CliRunner.EmbeddedData(), "--out", output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("top-5 predictions:", result.Output);
        Assert.Contains("true class", result.Output);
        var (width, height) = StudyPlotsTests.ReadPngSize(Path.Combine(output, "filters.png"));
        Assert.True(width > 100 && height > 50, $"filters.png is {width}×{height}");
        Assert.Equal(5, System.IO.Directory.GetFiles(output, "features-*.png").Length);
        StudyPlotsTests.ReadPngSize(Path.Combine(output, "features-1-features.1.png"));
    }

    [Fact]
    public void Inspect_DecodesPngFile()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        // The learning-curve plot is a PNG with a light border: a stand-in for a photo of a garment.
        string image = Path.Combine(pilot.Study, "accuracy.png");
        string output = Path.Combine(pilot.Directory, "inspect-file");
        var result = CliRunner.Run(pilot.Directory, "inspect", "--checkpoint",
            Path.Combine(pilot.Study, "none", "seed-1", "model.safetensors"), "--image", image, "--out", output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("(inverted to a light object on dark)", result.Output);
        StudyPlotsTests.ReadPngSize(Path.Combine(output, "filters.png"));
    }

    [Fact]
    public void Inspect_RejectsBadImageIndex()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        var result = CliRunner.Run(pilot.Directory, "inspect", "--checkpoint",
            Path.Combine(pilot.Study, "none", "seed-1", "model.safetensors"), "--image", "5000", "--data",
            CliRunner.EmbeddedData());
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--image 5000: the test set in", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Theory]
    [InlineData("inspect", "--image", "-1",
        "--image -1: test-set indices start at 0; pass an index of 0 or more, or an image file.")]
    [InlineData("errors", "--count", "abc",
        "--count abc: not a whole number; pass the number of images to draw, e.g. 48.")]
    public void CheckpointCommand_RejectsBadNumber(string command, string option, string value, string expected)
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        var result = CliRunner.Run(pilot.Directory, command, "--checkpoint",
            Path.Combine(pilot.Study, "none", "seed-1", "model.safetensors"), option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: {expected}", result.Error.TrimEnd());
    }

    [Fact]
    public void Errors_WritesGridOfMisclassifiedImages()
    {
        Assert.True(pilot.ExitCode == 0, pilot.Error);
        string png = Path.Combine(pilot.Directory, "errors.png");
        var result = CliRunner.Run(pilot.Directory, "errors", "--checkpoint",
            Path.Combine(pilot.Study, "none", "seed-1", "model.safetensors"), "--data", CliRunner.EmbeddedData(),
            "--count", "16", "--out", png);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("Drew 16 misclassified images", result.Output);
        var (width, height) = StudyPlotsTests.ReadPngSize(png);
        Assert.True(width >= 8 * 84 && height >= 2 * 84, $"errors.png is {width}×{height}");
    }
}

public sealed class CliStudyQuickTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-studies-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private CliRunner.Result RunQuick(string file, params string[] extra) =>
        CliRunner.Run(directory, ["study", Path.Combine(CliRunner.RepositoryRoot(), "studies", file), "--quick",
            "--data", CliRunner.EmbeddedData(), "--out", Path.Combine(directory, file), .. extra]);

    [Fact]
    public void Study1Quick_RunsEveryArm()
    {
        var result = RunQuick("study1-depth-classifier.json");
        Assert.True(result.ExitCode == 0, result.Error);
        string report = File.ReadAllText(Path.Combine(directory, "study1-depth-classifier.json", "report.md"));
        foreach (var arm in new[] { "conv3-fc3", "conv5-fc3", "conv7-fc3", "conv5-linear", "conv5-gap", "conv5-fc3-bn",
                     "conv7-fc3-bn", "conv5-gap-bn" })
            Assert.Contains($"| {arm} | 1 | ", report);
        // No arm has CBAM, so there is no attention plot.
        Assert.DoesNotContain("attention.png", report);
        Assert.False(File.Exists(Path.Combine(directory, "study1-depth-classifier.json", "attention.png")));
    }

    [Fact]
    public void Study2Quick_RunsEveryArm()
    {
        var result = RunQuick("study2-alexnet-cbam.json");
        Assert.True(result.ExitCode == 0, result.Error);
        string report = File.ReadAllText(Path.Combine(directory, "study2-alexnet-cbam.json", "report.md"));
        Assert.Contains("| every-conv-spatial | 1 | ", report);
        Assert.Contains("](attention.png)", report);
        Assert.Contains("over the first test image of each of 10 classes", report);
        StudyPlotsTests.ReadPngSize(Path.Combine(directory, "study2-alexnet-cbam.json", "attention.png"));
    }

    [Fact]
    public void Study3Quick_RunsEveryArm()
    {
        var result = RunQuick("study3-resnet-cbam.json");
        Assert.True(result.ExitCode == 0, result.Error);
        string report = File.ReadAllText(Path.Combine(directory, "study3-resnet-cbam.json", "report.md"));
        Assert.Contains("| resnet18-cbam | 1 | ", report);
        // A narrow ResNet has 9 BasicBlocks and a ResNet-18 8, each with CBAM.
        Assert.Matches(@"the [89] CBAM blocks of an image side by side", report);
        StudyPlotsTests.ReadPngSize(Path.Combine(directory, "study3-resnet-cbam.json", "attention.png"));
    }

    [Fact]
    public void StudyReportOnly_DamagedCheckpointSkipsAttention()
    {
        var first = RunQuick("study2-alexnet-cbam.json", "--arms", "after-conv2");
        Assert.True(first.ExitCode == 0, first.Error);
        string folder = Path.Combine(directory, "study2-alexnet-cbam.json");
        string checkpoint = Path.Combine(folder, "after-conv2", "seed-1", "best.safetensors");
        File.WriteAllText(checkpoint, "not a checkpoint");
        File.Delete(Path.Combine(folder, "attention.png"));

        var result = RunQuick("study2-alexnet-cbam.json", "--report-only");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("warning: attention.png not drawn: ", result.Error);
        Assert.Contains(checkpoint, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.False(File.Exists(Path.Combine(folder, "attention.png")));
        Assert.DoesNotContain("attention.png", File.ReadAllText(Path.Combine(folder, "report.md")));
    }

    [Fact]
    public void Study_BadFileNamesPath()
    {
        string file = Path.Combine(directory, "bad.json");
        File.WriteAllText(file, """{ "name": "bad", "arms": [ { "name": "a", "overrides": { "epochs": "ten" } } ] }""");
        var result = CliRunner.Run(directory, "study", file, "--quick");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: ", result.Error);
        Assert.Contains($"{file}: $.arms[0].overrides.epochs: expected an integer", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public void StudyQuick_WithoutQuickSectionIsUsageError()
    {
        string file = Path.Combine(directory, "noquick.json");
        File.WriteAllText(file, """{ "name": "noquick", "arms": [ { "name": "a" } ], "quick": { "seeds": [2] } }""");
        string output = Path.Combine(directory, "out");

        var result = CliRunner.Run(directory, "study", file, "--quick", "--out", output);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: {file}: $.quick.overrides: missing or empty, so --quick would train every arm in " +
                     "full; add a quick section such as \"quick\": { \"overrides\": { \"epochs\": 1, " +
                     "\"train_limit\": 256 } }, or run without --quick.", result.Error.TrimEnd());
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Study_UnknownArmIsUsageError()
    {
        var result = RunQuick("pilot.json", "--arms", "none,nope");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--arms none,nope: unknown arm 'nope'", result.Error);
    }

    [Fact]
    public void Study_MissingFileNamesFix()
    {
        var result = CliRunner.Run(directory, "study", Path.Combine(directory, "nope.json"));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: Study file '{Path.Combine(directory, "nope.json")}' not found; pass the path of a " +
                     "study JSON file, e.g. studies/pilot.json.", result.Error.TrimEnd());
    }

    [Fact]
    public void Study_EmptyArmListNamesArms()
    {
        var result = RunQuick("pilot.json", "--arms", "");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: --arms \"\": no arm name given; list arm names separated by commas, e.g. none. The " +
                     "arms of study pilot are none, flip, flip-crop, flip-crop-erasing.", result.Error.TrimEnd());
    }

    [Fact]
    public void BenchLayers_PrintsRowPerLayer()
    {
        var result = CliRunner.Run(directory, "bench", "--layers", "--width", "2", "--batch", "4", "--steps", "1",
            "--warmup", "0");
        Assert.True(result.ExitCode == 0, result.Error);
        foreach (var layer in new[] { "features.0", "features.12", "classifier.6", "other", "total", "backward ms" })
            Assert.Contains(layer, result.Output);
    }
}
