using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FashionCuda.Training;

namespace FashionCuda.Studies;

/// <summary>
/// The figures of one finished study run, stored as <c>results.json</c> in its folder. That file is written
/// last, so its presence with the same config marks the run as finished.
/// </summary>
public sealed record RunResult
{
    public const string FileName = "results.json";

    public required string Arm { get; init; }

    public required int Seed { get; init; }

    /// <summary>Backend name, e.g. cpu.</summary>
    public required string Device { get; init; }

    /// <summary>Test accuracy of the selected epoch: the best validation epoch, or the last without a split.</summary>
    public required double TestAccuracy { get; init; }

    public required double TestLoss { get; init; }

    public required double FinalTestAccuracy { get; init; }

    /// <summary>Selected epoch, from 1.</summary>
    public required int SelectedEpoch { get; init; }

    /// <summary>Whether <see cref="SelectedEpoch"/> was chosen by validation accuracy (else it is the last epoch).</summary>
    public required bool SelectedByValidation { get; init; }

    public double? ValidationAccuracy { get; init; }

    public required int Epochs { get; init; }

    public required long Parameters { get; init; }

    /// <summary>Forward FLOPs of one image, a multiply-add counted as 2.</summary>
    public required long FlopsPerImage { get; init; }

    /// <summary>Mean wall-clock seconds of an epoch, evaluation included.</summary>
    public required double SecondsPerEpoch { get; init; }

    public required int TrainImages { get; init; }

    public required int ValidationImages { get; init; }

    public required int TestImages { get; init; }

    /// <summary>Test confusion matrix of the selected epoch; rows are true classes, columns predicted ones.</summary>
    public required int[][] Confusion { get; init; }

    /// <summary>
    /// Class names of the confusion matrix's rows and columns; null in results.json files written before the
    /// names were recorded, which were all Fashion-MNIST runs.
    /// </summary>
    public string[]? ClassNames { get; init; }

    /// <summary>
    /// Processor, core count and OS of the machine that trained the run, e.g. from
    /// <see cref="MachineDescription.Current"/>; null in results.json files written before it was recorded.
    /// </summary>
    public string? Hardware { get; init; }

    /// <summary>Where the images came from and how many there were before the run's limits; null when unknown.</summary>
    public string? Data { get; init; }

    /// <summary>
    /// <see cref="DatasetFingerprint"/> of the training and test images the run used (after its limits), so a
    /// rerun on other data does not take this run as finished; null in older results.json files.
    /// </summary>
    public string? DataFingerprint { get; init; }

    /// <summary>
    /// The <c>fashioncuda study</c> command line that trained the run; null in older results.json files and when
    /// the runner was given none.
    /// </summary>
    public string? Command { get; init; }

    /// <summary>
    /// The engine build that trained the run, from <see cref="MachineDescription.EngineVersion"/>, e.g.
    /// "1.0.0+5e2529d…"; null in older results.json files. Training speed depends on it.
    /// </summary>
    public string? Engine { get; init; }

    /// <summary>The resolved training config, as <see cref="TrainConfig.ToJson"/> writes it.</summary>
    public required JsonObject Config { get; init; }

    /// <summary>Per-epoch figures from the run's metrics.json; not part of results.json.</summary>
    [JsonIgnore]
    public IReadOnlyList<EpochMetrics> History { get; init; } = [];

    public void Write(string directory) =>
        AtomicFile.WriteText(Path.Combine(directory, FileName),
            JsonSerializer.Serialize(this, StudyJsonContext.Default.RunResult) + "\n");

    /// <summary>
    /// Reads the run folder of <paramref name="run"/> and returns whether it contains a finished result of that
    /// run: results.json and metrics.json readable and consistent, and made with the run's config. The data the run
    /// trained on is not checked here, because that needs the images; see <see cref="DataFingerprint"/>.
    /// </summary>
    public static RunStatus Inspect(string directory, StudyRun run)
    {
        string path = Path.Combine(directory, FileName);
        string metrics = Path.Combine(directory, MetricsFiles.JsonFileName);
        if (!File.Exists(path))
            return new RunStatus(File.Exists(metrics) ? RunState.Unfinished : RunState.NotStarted);
        RunResult? result;
        try
        {
            result = JsonSerializer.Deserialize(File.ReadAllText(path), StudyJsonContext.Default.RunResult);
        }
        catch (JsonException e)
        {
            return Damaged(path, DescribeJsonError(e));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException
                                      or NotSupportedException)
        {
            return Damaged(path, e.Message);
        }
        if (result is null)
            return Damaged(path, "the file holds null instead of a result object");
        if (result.Problem(run) is { } problem)
            return Damaged(path, problem);
        if (JsonDifference.First(result.Config, JsonNode.Parse(run.Config.ToJson()), "$.config") is { } change)
            return new RunStatus(RunState.Changed, result, $"made with a different config: {change}");

        IReadOnlyList<EpochMetrics> history;
        try
        {
            history = MetricsFiles.ReadJson(metrics);
        }
        catch (JsonException e)
        {
            return Damaged(metrics, DescribeJsonError(e));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException
                                      or KeyNotFoundException or InvalidOperationException or FormatException
                                      or NullReferenceException)
        {
            return Damaged(metrics, File.Exists(metrics) ? e.Message : "the file is missing");
        }
        if (history.Count != result.Epochs)
            return Damaged(metrics, $"{history.Count} epochs, but results.json says {result.Epochs}");
        double recorded = history[result.SelectedEpoch - 1].TestAccuracy;
        if (Math.Abs(recorded - result.TestAccuracy) > AccuracyTolerance)
        {
            return Damaged(path, $"$.test_accuracy is {result.TestAccuracy}, but metrics.json gives {recorded} for " +
                                 $"the selected epoch {result.SelectedEpoch}");
        }
        return new RunStatus(RunState.Finished, result with { History = history });
    }

    /// <summary>
    /// Largest difference between the two files' accuracies of one epoch that still counts as equal: metrics.json
    /// rounds to 6 decimals, results.json does not.
    /// </summary>
    private const double AccuracyTolerance = 1e-6;

    /// <summary>
    /// Turns a parser error into "PATH: reason (line N)" without the .NET type names the serializer puts in its
    /// messages.
    /// </summary>
    private static string DescribeJsonError(JsonException e)
    {
        string where = e.LineNumber is { } line ? $" (line {line + 1})" : "";
        string reason;
        if (e.Message.Contains("could not be converted", StringComparison.Ordinal))
            reason = "has a value of the wrong type, or null where a value is required";
        else if (e.Message.Contains("end of data", StringComparison.Ordinal))
            reason = "is cut short";
        else if (e.Message.Contains("missing required properties", StringComparison.Ordinal))
        {
            // System.Text.Json lists some of the missing keys after the last colon of its message.
            string keys = e.Message[(e.Message.LastIndexOf(':') + 1)..].Replace("'", "").Trim().TrimEnd('.');
            reason = $"lacks required keys, among them {keys}";
        }
        else
            reason = "is not valid JSON";
        return $"{e.Path ?? "$"} {reason}{where}";
    }

    private static RunStatus Damaged(string file, string problem) =>
        new(RunState.Damaged, null, $"{file}: {problem.TrimEnd('.')}");

    /// <summary>Returns what makes this result unusable for <paramref name="run"/>, or null when it is sound.</summary>
    private string? Problem(StudyRun run)
    {
        if (Arm != run.Arm.Name || Seed != run.Seed)
            return $"$.arm and $.seed are {Arm} and {Seed}, but the folder belongs to {run.Arm.Name} seed {run.Seed}";
        if (Epochs < 1 || SelectedEpoch < 1 || SelectedEpoch > Epochs)
            return $"$.selected_epoch {SelectedEpoch} is outside 1 to $.epochs {Epochs}";
        foreach (var (name, value) in new[]
                 {
                     ("test_accuracy", TestAccuracy), ("final_test_accuracy", FinalTestAccuracy),
                     ("validation_accuracy", ValidationAccuracy ?? 0),
                 })
        {
            if (!(value >= 0 && value <= 1))
                return $"$.{name} {value} is not an accuracy between 0 and 1";
        }
        if (Confusion is null || Confusion.Length == 0)
            return "$.confusion is missing or null";
        for (int row = 0; row < Confusion.Length; row++)
        {
            if (Confusion[row] is null || Confusion[row].Length != Confusion.Length)
                return $"$.confusion[{row}] does not have {Confusion.Length} entries, so the matrix is not square";
        }
        if (ClassNames is not null && ClassNames.Length != Confusion.Length)
            return $"$.class_names has {ClassNames.Length} names for a {Confusion.Length}-class confusion matrix";
        if (Config is null)
            return "$.config is missing";
        return null;
    }
}

/// <summary>What a run folder holds, as <see cref="RunResult.Inspect"/> finds it.</summary>
public enum RunState
{
    /// <summary>No files of the run yet.</summary>
    NotStarted,

    /// <summary>Training started (metrics.json exists) but results.json was never written.</summary>
    Unfinished,

    /// <summary>A sound result made with the run's config.</summary>
    Finished,

    /// <summary>results.json or metrics.json cannot be read or contradicts itself.</summary>
    Damaged,

    /// <summary>A sound result, made with another config than the study file now gives.</summary>
    Changed,
}

/// <summary>
/// The state of a run folder, the result where one could be read, and for damaged or changed runs one line that
/// names the file and what is wrong.
/// </summary>
public sealed record RunStatus(RunState State, RunResult? Result = null, string? Problem = null);

/// <summary>Finds the first place where two JSON values differ, for messages about changed configs.</summary>
public static class JsonDifference
{
    /// <summary>
    /// Returns "PATH is A in results.json, B now" for the first difference in key order, or null when the values
    /// are equal. <paramref name="source"/> names where the recorded value comes from.
    /// </summary>
    public static string? First(JsonNode? recorded, JsonNode? current, string path = "$",
        string source = "results.json")
    {
        if (recorded is JsonObject left && current is JsonObject right)
        {
            foreach (string key in left.Select(p => p.Key).Union(right.Select(p => p.Key)))
            {
                left.TryGetPropertyValue(key, out var a);
                right.TryGetPropertyValue(key, out var b);
                if (First(a, b, $"{path}.{key}", source) is { } difference)
                    return difference;
            }
            return null;
        }
        if (recorded is JsonArray leftArray && current is JsonArray rightArray && leftArray.Count == rightArray.Count)
        {
            for (int i = 0; i < leftArray.Count; i++)
            {
                if (First(leftArray[i], rightArray[i], $"{path}[{i}]", source) is { } difference)
                    return difference;
            }
            return null;
        }
        return JsonNode.DeepEquals(recorded, current)
            ? null
            : $"{path} is {Show(recorded)} in {source}, {Show(current)} now";
    }

    private static string Show(JsonNode? node) => node is null ? "missing" : node.ToJsonString();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(RunResult))]
internal sealed partial class StudyJsonContext : JsonSerializerContext;
