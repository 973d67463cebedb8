using FashionCuda.Backends.Cpu;
using FashionCuda.Data;
using FashionCuda.Studies;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Tests.Studies;

public sealed class StudyRunnerTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-study-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Random 28×28 images with labels 0–9 in turn; enough for a run, not for learning.</summary>
    internal static ImageDataset RandomImages(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var pixels = new byte[count * 28 * 28];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)rng.NextInt(256);
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        return new ImageDataset(pixels, labels, 28, 28);
    }

    private static StudyDefinition Study(int epochs = 2) => StudyDefinition.Parse($$"""
        {
          "name": "tiny",
          "base": { "model": { "width": 2, "hidden": 8, "classifier": "linear" }, "epochs": {{epochs}},
                    "batch_size": 16, "validation_count": 16, "test_limit": 20 },
          "seeds": [1, 2],
          "arms": [ { "name": "a" }, { "name": "b", "overrides": { "augmentation": { "flip": true } } } ]
        }
        """, "tiny.json");

    private (StudyRunner Runner, List<string> Trained, List<string> Skipped) Runner(StudyDefinition study,
        ulong trainSeed = 1)
    {
        var runner = new StudyRunner(study, quick: false, directory, new CpuBackend(), RandomImages(64, trainSeed),
            RandomImages(30, 2));
        var trained = new List<string>();
        var skipped = new List<string>();
        runner.RunFinished += (run, _) => trained.Add(run.RelativeDirectory);
        runner.RunSkipped += (run, _) => skipped.Add(run.RelativeDirectory);
        return (runner, trained, skipped);
    }

    [Fact]
    public void Run_WritesRunFoldersAndResults()
    {
        var (runner, trained, _) = Runner(Study());
        var results = runner.Run();
        Assert.Equal(4, results.Count);
        Assert.Equal(4, trained.Count);
        foreach (var result in results)
        {
            string run = Path.Combine(directory, result.Arm, $"seed-{result.Seed}");
            foreach (var file in new[] { "config.json", "metrics.json", "metrics.csv", "model.safetensors",
                         StudyRunner.BestCheckpointFileName, RunResult.FileName })
                Assert.True(File.Exists(Path.Combine(run, file)), $"{run}/{file} is missing");
            var history = MetricsFiles.ReadJson(Path.Combine(run, "metrics.json"));
            Assert.Equal(2, history.Count);
            Assert.All(history, e => Assert.NotNull(e.ValidationAccuracy));
            var selected = history.OrderByDescending(e => e.ValidationAccuracy).ThenBy(e => e.Epoch).First();
            Assert.Equal(selected.Epoch, result.SelectedEpoch);
            Assert.Equal(selected.TestAccuracy, result.TestAccuracy, 5);
            Assert.True(result.SelectedByValidation);
            Assert.Equal(48, result.TrainImages);
            Assert.Equal(16, result.ValidationImages);
            Assert.Equal(20, result.TestImages);
            Assert.Equal(20, result.Confusion.Sum(row => row.Sum()));
            Assert.True(result.FlopsPerImage > 0);
            Assert.True(result.Parameters > 0);
        }
    }

    [Fact]
    public void Rerun_SkipsFinishedRedoesUnfinished()
    {
        Runner(Study()).Runner.Run();
        // An interrupted run: metrics and a checkpoint exist, but results.json was never written.
        File.Delete(Path.Combine(directory, "b", "seed-1", RunResult.FileName));
        var (runner, trained, skipped) = Runner(Study());
        runner.Run();
        Assert.Equal([Path.Combine("b", "seed-1")], trained);
        Assert.Equal(3, skipped.Count);
        Assert.True(File.Exists(Path.Combine(directory, "b", "seed-1", RunResult.FileName)));
    }

    [Fact]
    public void Rerun_RejectsChangedConfig()
    {
        Runner(Study()).Runner.Run();
        var (runner, trained, skipped) = Runner(Study(epochs: 1));

        var error = Assert.Throws<StudyFolderException>(() => runner.Run());

        Assert.Equal($"{Path.Combine(directory, "a", "seed-1")} holds a finished run made with a different config: " +
                     "$.config.epochs is 2 in results.json, 1 now. Pass --out with another folder for this version " +
                     $"of the study, or delete {Path.Combine(directory, "a", "seed-1")} to train the run again. 3 " +
                     "more run folders of this study differ too.", error.Message);
        Assert.Empty(trained);
        Assert.Empty(skipped);
        Assert.True(File.Exists(Path.Combine(directory, "b", "seed-2", RunResult.FileName)));
    }

    [Fact]
    public void Run_FolderAtRunFilePath()
    {
        Runner(Study()).Runner.Run();
        File.Delete(Path.Combine(directory, "a", "seed-1", RunResult.FileName));
        // Only the last run is blocked: a check made when that run starts would come after a/seed-1 trained again.
        string blocked = Path.Combine(directory, "b", "seed-2", StudyRunner.BestCheckpointFileName);
        File.Delete(Path.Combine(directory, "b", "seed-2", RunResult.FileName));
        File.Delete(blocked);
        Directory.CreateDirectory(blocked);
        var (runner, trained, _) = Runner(Study());

        var error = Assert.Throws<OutputPathException>(() => runner.Run());

        Assert.Equal($"{blocked} is a folder, but the file best.safetensors goes there; move or delete that folder " +
                     "and run the command again.", error.Message);
        Assert.Empty(trained);
    }

    [Fact]
    public void Rerun_RejectsOtherImages()
    {
        Runner(Study()).Runner.Run();
        // The first run is unfinished, so the check of the later ones must come before it trains again.
        File.Delete(Path.Combine(directory, "a", "seed-1", RunResult.FileName));
        var (runner, trained, _) = Runner(Study(), trainSeed: 7);

        var error = Assert.Throws<StudyFolderException>(() => runner.Run());

        Assert.Contains($"{Path.Combine(directory, "b", "seed-1")} holds a finished run trained on other images", error.Message);
        Assert.Empty(trained);
    }

    [Fact]
    public void Rerun_RedoesDamagedResults()
    {
        Runner(Study()).Runner.Run();
        string damaged = Path.Combine(directory, "a", "seed-2", RunResult.FileName);
        File.WriteAllText(damaged, "{ not json");
        var (runner, trained, _) = Runner(Study());
        var warnings = new List<string>();
        runner.RunDamaged += (_, problem) => warnings.Add(problem);

        runner.Run();

        Assert.Equal([Path.Combine("a", "seed-2")], trained);
        Assert.Single(warnings);
        Assert.StartsWith($"{damaged}: ", warnings[0]);
    }
}
