using System.Text.Json.Nodes;
using FashionCuda.Studies;
using FashionCuda.Training;

namespace FashionCuda.Tests.Studies;

public sealed class RunResultTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-run-result-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static StudyRun Run(int epochs = 3) => StudyDefinition.Parse($$"""
        { "name": "inspect", "base": { "model": { "width": 2, "hidden": 8 }, "epochs": {{epochs}} }, "seeds": [4],
          "arms": [ { "name": "plain" } ] }
        """, "inspect.json").Plan(quick: false)[0];

    /// <summary>Writes a sound finished result of <see cref="Run"/>, changed by <paramref name="edit"/>.</summary>
    private void WriteFinished(Func<RunResult, RunResult>? edit = null)
    {
        var run = Run();
        var result = StudyReportTests.Result("plain", 4, 0.9) with
        {
            Config = JsonNode.Parse(run.Config.ToJson())!.AsObject(),
        };
        MetricsFiles.Write(directory, result.History);
        (edit ?? (r => r))(result).Write(directory);
    }

    private string Problem(RunState state)
    {
        var status = RunResult.Inspect(directory, Run());
        Assert.Equal(state, status.State);
        Assert.NotNull(status.Problem);
        return status.Problem;
    }

    [Fact]
    public void Inspect_EmptyFolderIsNotStarted()
    {
        Assert.Equal(RunState.NotStarted, RunResult.Inspect(directory, Run()).State);
    }

    [Fact]
    public void Inspect_MetricsWithoutResultIsUnfinished()
    {
        MetricsFiles.Write(directory, StudyReportTests.Result("plain", 4, 0.9).History);
        Assert.Equal(RunState.Unfinished, RunResult.Inspect(directory, Run()).State);
    }

    [Fact]
    public void Inspect_SoundResultIsFinished()
    {
        WriteFinished();
        var status = RunResult.Inspect(directory, Run());
        Assert.Equal(RunState.Finished, status.State);
        Assert.Equal(3, status.Result!.History.Count);
        Assert.Null(status.Problem);
    }

    [Fact]
    public void Inspect_OtherConfigIsChanged()
    {
        WriteFinished();
        var status = RunResult.Inspect(directory, Run(epochs: 5));
        Assert.Equal(RunState.Changed, status.State);
        Assert.Equal("made with a different config: $.config.epochs is 3 in results.json, 5 now", status.Problem);
    }

    [Theory]
    [InlineData("truncated", "is cut short (line 1)")]
    [InlineData("empty object", "$ lacks required keys, among them arm, seed")]
    [InlineData("accuracy null", "$.test_accuracy has a value of the wrong type, or null where a value is required")]
    [InlineData("confusion null", "$.confusion is missing or null")]
    [InlineData("ragged confusion", "$.confusion[3] does not have 10 entries")]
    [InlineData("accuracy 5", "$.test_accuracy 5 is not an accuracy between 0 and 1")]
    [InlineData("other seed", "$.arm and $.seed are plain and 9, but the folder belongs to plain seed 4")]
    [InlineData("three class names", "$.class_names has 3 names for a 10-class confusion matrix")]
    [InlineData("selected epoch 7", "$.selected_epoch 7 is outside 1 to $.epochs 3")]
    public void Inspect_DamagedResultNamesFault(string damage, string expected)
    {
        WriteFinished(result => damage switch
        {
            "confusion null" => result with { Confusion = null! },
            "ragged confusion" => result with { Confusion = result.Confusion.Select((row, i) => i == 3 ? row[..4] : row).ToArray() },
            "accuracy 5" => result with { TestAccuracy = 5 },
            "other seed" => result with { Seed = 9 },
            "three class names" => result with { ClassNames = ["a", "b", "c"] },
            "selected epoch 7" => result with { SelectedEpoch = 7 },
            _ => result,
        });
        string path = Path.Combine(directory, RunResult.FileName);
        if (damage == "truncated")
            File.WriteAllText(path, """{ "arm": "plain",""");
        if (damage == "empty object")
            File.WriteAllText(path, "{}");
        if (damage == "accuracy null")
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"test_accuracy\": 0.9,", "\"test_accuracy\": null,"));

        string problem = Problem(RunState.Damaged);

        Assert.StartsWith($"{path}: ", problem);
        Assert.Contains(expected, problem);
    }

    [Theory]
    [InlineData("garbage", "metrics.json: $ is not valid JSON (line 1)")]
    [InlineData("[]", "0 epochs, but results.json says 3")]
    [InlineData("{}", "metrics.json: $ is object, expected a list of epochs")]
    [InlineData("""[{ "epoch": 1, "train_loss": null }]""", "metrics.json: $[0].train_loss is missing or not a number")]
    [InlineData("[7]", "metrics.json: $[0] is not an object")]
    public void Inspect_DamagedMetricsNamesFault(string metrics, string expected)
    {
        WriteFinished();
        File.WriteAllText(Path.Combine(directory, MetricsFiles.JsonFileName), metrics);
        Assert.Contains(expected, Problem(RunState.Damaged));
    }

    [Fact]
    public void Inspect_MissingMetricsIsDamaged()
    {
        WriteFinished();
        File.Delete(Path.Combine(directory, MetricsFiles.JsonFileName));
        Assert.EndsWith("metrics.json: the file is missing", Problem(RunState.Damaged));
    }

    [Fact]
    public void JsonDifference_NamesFirstDifferingPath()
    {
        var recorded = JsonNode.Parse("""{ "a": 1, "b": { "c": [1, 2], "d": "x" } }""");
        Assert.Null(JsonDifference.First(recorded, JsonNode.Parse("""{ "a": 1, "b": { "c": [1, 2], "d": "x" } }""")));
        Assert.Equal("$.b.c[1] is 2 in results.json, 3 now",
            JsonDifference.First(recorded, JsonNode.Parse("""{ "a": 1, "b": { "c": [1, 3], "d": "x" } }""")));
        Assert.Equal("$.b.e is missing in results.json, true now",
            JsonDifference.First(recorded, JsonNode.Parse("""{ "a": 1, "b": { "c": [1, 2], "d": "x", "e": true } }""")));
        Assert.Equal("$.b.c is [1,2] in results.json, [1] now",
            JsonDifference.First(recorded, JsonNode.Parse("""{ "a": 1, "b": { "c": [1], "d": "x" } }""")));
    }
}
