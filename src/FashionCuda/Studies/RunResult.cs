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

    /// <summary>The resolved training config, as <see cref="TrainConfig.ToJson"/> writes it.</summary>
    public required JsonObject Config { get; init; }

    /// <summary>Per-epoch figures from the run's metrics.json; not part of results.json.</summary>
    [JsonIgnore]
    public IReadOnlyList<EpochMetrics> History { get; init; } = [];

    public void Write(string directory) =>
        AtomicFile.WriteText(Path.Combine(directory, FileName),
            JsonSerializer.Serialize(this, StudyJsonContext.Default.RunResult) + "\n");

    /// <summary>
    /// Returns the finished result in <paramref name="directory"/> if its results.json and metrics.json can be
    /// read and it was made with <paramref name="config"/>; otherwise null, and the run must be redone.
    /// </summary>
    public static RunResult? TryReadFinished(string directory, TrainConfig config)
    {
        string path = Path.Combine(directory, FileName);
        string metrics = Path.Combine(directory, "metrics.json");
        if (!File.Exists(path) || !File.Exists(metrics))
            return null;
        try
        {
            var result = JsonSerializer.Deserialize(File.ReadAllText(path), StudyJsonContext.Default.RunResult);
            if (result is null || !JsonNode.DeepEquals(result.Config, JsonNode.Parse(config.ToJson())))
                return null;
            return result with { History = MetricsFiles.ReadJson(metrics) };
        }
        catch (Exception e) when (e is JsonException or IOException or KeyNotFoundException
                                      or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(RunResult))]
internal sealed partial class StudyJsonContext : JsonSerializerContext;
