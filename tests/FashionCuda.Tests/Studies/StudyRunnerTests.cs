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

    /// <summary>A one-epoch study of two arms with extra base keys, for the validation split checks.</summary>
    private static StudyDefinition SplitStudy(string baseKeys, string firstArm, string secondArm) =>
        StudyDefinition.Parse($$"""
            {
              "name": "tiny",
              "base": { "model": { "width": 2, "hidden": 8, "classifier": "linear" }, "epochs": 1,
                        "batch_size": 16, {{baseKeys}} },
              "arms": [ {{firstArm}}, {{secondArm}} ]
            }
            """, "tiny.json");

    [Fact]
    public void Run_ValidationSplitTooLargeFailsFirst()
    {
        // Arm b holds out all 64 training images; arm a, planned first, must not train before the error.
        var study = SplitStudy("\"validation_count\": 16", "{ \"name\": \"a\" }",
            "{ \"name\": \"b\", \"overrides\": { \"validation_count\": 64 } }");
        var (runner, trained, _) = Runner(study);

        var error = Assert.Throws<ConfigException>(() => runner.Run());

        Assert.Equal("tiny.json: $.arms[1].overrides.validation_count: 64 leaves no training images, because the " +
                     "training set has 64; hold out fewer images (arm 'b')", error.Message);
        Assert.Empty(trained);
        Assert.False(Directory.Exists(Path.Combine(directory, "a")));
    }

    [Fact]
    public void Run_SplitErrorKeepsArmIndexAfterSelection()
    {
        var study = SplitStudy("\"validation_count\": 50, \"train_limit\": 40",
            "{ \"name\": \"a\", \"overrides\": { \"validation_count\": 8 } }", "{ \"name\": \"b\" }")
            .SelectArms(["b"]);
        var (runner, trained, _) = Runner(study);

        var error = Assert.Throws<ConfigException>(() => runner.Run());

        Assert.StartsWith("tiny.json: $.base.validation_count: 50 leaves no training images, because the training " +
                          "set has 40; hold out fewer images, or raise train_limit", error.Message);
        Assert.EndsWith("(arm 'b')", error.Message);
        Assert.Empty(trained);
    }

    [Fact]
    public void Run_RecordsCommandAndEngine()
    {
        var runner = new StudyRunner(Study(epochs: 1), quick: false, directory, new CpuBackend(), RandomImages(64, 1),
            RandomImages(30, 2)) { Command = "fashioncuda study tiny.json", Engine = "9.9.9+test" };

        var results = runner.Run();

        Assert.All(results, result => Assert.Equal("fashioncuda study tiny.json", result.Command));
        var status = RunResult.Inspect(Path.Combine(directory, "a", "seed-1"), runner.Runs[0]);
        Assert.Equal(RunState.Finished, status.State);
        Assert.Equal("fashioncuda study tiny.json", status.Result!.Command);
        Assert.Equal("9.9.9+test", status.Result.Engine);
    }

    [Fact]
    public void Rerun_RedoesResultThatContradictsMetrics()
    {
        Runner(Study(epochs: 1)).Runner.Run();
        string file = Path.Combine(directory, "a", "seed-1", RunResult.FileName);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        double recorded = json["test_accuracy"]!.GetValue<double>();
        json["test_accuracy"] = recorded > 0.5 ? 0.01 : 0.99;
        File.WriteAllText(file, json.ToJsonString());
        var (runner, trained, _) = Runner(Study(epochs: 1));
        var warnings = new List<string>();
        runner.RunDamaged += (_, problem) => warnings.Add(problem);

        runner.Run();

        Assert.Equal([Path.Combine("a", "seed-1")], trained);
        Assert.Single(warnings);
        Assert.StartsWith($"{file}: $.test_accuracy is ", warnings[0]);
        Assert.Contains("but metrics.json gives", warnings[0]);
    }
}
