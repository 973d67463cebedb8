using FashionCuda.Cli.Plots;
using FashionCuda.Studies;
using FashionCuda.Training;

namespace FashionCuda.Tests.Studies;

public sealed class StudyAttentionTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-attention-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static readonly StudyDefinition Study = StudyDefinition.Parse("""
        { "name": "cbam", "seeds": [1, 2],
          "base": { "model": { "name": "alexnet-fm", "width": 4, "hidden": 8 } },
          "arms": [
            { "name": "plain" },
            { "name": "channel", "overrides": { "model": { "cbam": { "placement": "every-conv", "mode": "channel" } } } },
            { "name": "both", "overrides": { "model": { "cbam": { "placement": "after-conv2", "mode": "both" } } } },
            { "name": "spatial", "overrides": { "model": { "cbam": { "placement": "every-conv", "mode": "spatial" } } } }
          ] }
        """, "cbam.json");

    private void Touch(string arm, int seed, string file)
    {
        string folder = Path.Combine(directory, arm, $"seed-{seed}");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, file), [0]);
    }

    [Fact]
    public void PickRun_BestSpatialArmLowestSeed()
    {
        // The arm channel has the highest mean but no spatial gate, and spatial beats both.
        var arms = StudyReport.Summarize(Study, [StudyReportTests.Result("plain", 1, 0.95),
            StudyReportTests.Result("channel", 1, 0.94), StudyReportTests.Result("both", 1, 0.91),
            StudyReportTests.Result("spatial", 1, 0.92), StudyReportTests.Result("spatial", 2, 0.93)]);
        foreach (var arm in new[] { "plain", "channel", "both", "spatial" })
            Touch(arm, 1, StudyRunner.BestCheckpointFileName);
        Touch("spatial", 2, StudyRunner.BestCheckpointFileName);

        var pick = StudyAttention.PickRun(directory, Study.Plan(quick: false), arms);

        Assert.NotNull(pick);
        Assert.Equal("spatial", pick.Run.Arm.Name);
        Assert.Equal(1, pick.Run.Seed);
        Assert.Equal(Path.Combine(directory, "spatial", "seed-1", StudyRunner.BestCheckpointFileName), pick.Checkpoint);
        Assert.Equal(3, pick.Epoch);
        Assert.Empty(pick.SkippedArms!);
    }

    [Fact]
    public void PickRun_SkipsRunsWithoutCheckpoint()
    {
        var arms = StudyReport.Summarize(Study, [StudyReportTests.Result("both", 1, 0.91),
            StudyReportTests.Result("spatial", 1, 0.92) with { SelectedByValidation = false, SelectedEpoch = 2 },
            StudyReportTests.Result("spatial", 2, 0.93)]);
        // Seed 1 of spatial kept only best.safetensors, though it was selected without validation.
        Touch("spatial", 1, StudyRunner.BestCheckpointFileName);
        Touch("spatial", 2, Checkpoint.FileName);
        Touch("both", 1, StudyRunner.BestCheckpointFileName);

        var pick = StudyAttention.PickRun(directory, Study.Plan(quick: false), arms);

        Assert.NotNull(pick);
        Assert.Equal("both", pick.Run.Arm.Name);
        Assert.Equal(["spatial"], pick.SkippedArms!);

        Touch("spatial", 1, Checkpoint.FileName);
        var next = StudyAttention.PickRun(directory, Study.Plan(quick: false), arms);
        Assert.NotNull(next);
        Assert.Equal(Path.Combine(directory, "spatial", "seed-1", Checkpoint.FileName), next.Checkpoint);
        Assert.Equal(2, next.Epoch);
        Assert.Empty(next.SkippedArms!);
    }

    [Fact]
    public void PickRun_NoSpatialArmGivesNull()
    {
        var arms = StudyReport.Summarize(Study, [StudyReportTests.Result("plain", 1, 0.95),
            StudyReportTests.Result("channel", 1, 0.94)]);
        Touch("plain", 1, StudyRunner.BestCheckpointFileName);
        Touch("channel", 1, StudyRunner.BestCheckpointFileName);

        Assert.Null(StudyAttention.PickRun(directory, Study.Plan(quick: false), arms));
    }

    /// <summary>
    /// Saves an untrained model with CBAM after conv2 (one spatial gate) and 14 classes, and returns its checkpoint
    /// and a test set of 26 random images from 13 of the classes.
    /// </summary>
    private (string Checkpoint, FashionCuda.Data.ImageDataset Test) SaveUntrained(FashionCuda.Backends.IBackend backend)
    {
        var config = TrainConfig.Parse("""
            { "model": { "name": "alexnet-fm", "width": 4, "hidden": 8, "classes": 14,
                         "cbam": { "placement": "after-conv2", "mode": "both" } } }
            """);
        var model = FashionCuda.Models.ModelFactory.Create(config, backend, new FashionCuda.Tensors.Rng(1));
        string[] classNames = Enumerable.Range(0, 14).Select(c => $"class{c}").ToArray();
        string checkpoint = Path.Combine(directory, "model.safetensors");
        Checkpoint.Save(checkpoint, model, config, classNames, 0.3f, 0.35f);
        byte[] labels = Enumerable.Range(0, 26).Select(i => (byte)(i % 13)).ToArray();
        var pixels = new byte[labels.Length * 28 * 28];
        new Random(3).NextBytes(pixels);
        return (checkpoint, new FashionCuda.Data.ImageDataset(pixels, labels, 28, 28, classCount: 14));
    }

    [Fact]
    public void Write_CaptionNamesSkippedArms()
    {
        using var backend = new FashionCuda.Backends.Cpu.CpuBackend();
        var (checkpoint, test) = SaveUntrained(backend);
        var run = Study.Plan(quick: false).First(r => r.Arm.Name == "both");

        var (_, caption) = StudyAttention.Write(directory,
            new StudyAttention.Pick(run, checkpoint, 7, ["spatial", "every"]), test, backend);

        Assert.Contains("CBAM spatial attention of both (", caption);
        Assert.Contains("that kept a checkpoint, since no run of spatial or every kept one)", caption);
    }

    [Fact]
    public void Write_CapsClassesAndPacksRows()
    {
        using var backend = new FashionCuda.Backends.Cpu.CpuBackend();
        var (checkpoint, test) = SaveUntrained(backend);
        var run = Study.Plan(quick: false).First(r => r.Arm.Name == "both");

        var (file, caption) = StudyAttention.Write(directory, new StudyAttention.Pick(run, checkpoint, 7), test,
            backend);

        Assert.Equal(StudyAttention.FileName, file);
        Assert.Contains("seed 1 at epoch 7", caption);
        Assert.Contains("(the arm with spatial attention and the highest mean test accuracy)", caption);
        Assert.Contains("each of 12 of the first 12 classes, one tile per image", caption);
        var (width, height) = StudyPlotsTests.ReadPngSize(Path.Combine(directory, file));
        // Twelve one-gate tiles of 112 pixels fill rows of five: three rows, wider than high.
        Assert.True(width > height, $"attention.png is {width}×{height}");
    }
}
