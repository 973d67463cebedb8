using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FashionCuda.Training;

/// <summary>
/// Figures of one finished epoch, as written to metrics.json and metrics.csv. The validation figures are null
/// unless the run holds out a validation split (<see cref="TrainConfig.ValidationCount"/>).
/// </summary>
public sealed record EpochMetrics(
    int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy, double Seconds,
    double LearningRate, double ImagesPerSecond, double? ValidationLoss = null, double? ValidationAccuracy = null);

/// <summary>Loss, accuracy and confusion matrix of a model over one dataset.</summary>
public sealed record Evaluation(double Loss, double Accuracy, int[,] Confusion)
{
    /// <summary>Rows are true classes, columns predicted classes.</summary>
    public int Classes => Confusion.GetLength(0);

    public double[] PerClassAccuracy()
    {
        var accuracy = new double[Classes];
        for (int row = 0; row < Classes; row++)
        {
            long total = 0;
            for (int column = 0; column < Classes; column++)
                total += Confusion[row, column];
            accuracy[row] = total == 0 ? double.NaN : (double)Confusion[row, row] / total;
        }
        return accuracy;
    }
}

/// <summary>Writes metrics.json (a list of epochs) and metrics.csv, each atomically.</summary>
public static class MetricsFiles
{
    public const string JsonFileName = "metrics.json";

    public const string CsvFileName = "metrics.csv";

    public static void Write(string directory, IReadOnlyList<EpochMetrics> epochs)
    {
        AtomicFile.WriteText(Path.Combine(directory, JsonFileName), ToJson(epochs));
        AtomicFile.WriteText(Path.Combine(directory, CsvFileName), ToCsv(epochs));
    }

    public static string ToJson(IReadOnlyList<EpochMetrics> epochs)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var e in epochs)
            {
                json.WriteStartObject();
                json.WriteNumber("epoch", e.Epoch);
                json.WriteNumber("train_loss", Round(e.TrainLoss));
                json.WriteNumber("train_accuracy", Round(e.TrainAccuracy));
                json.WriteNumber("test_loss", Round(e.TestLoss));
                json.WriteNumber("test_accuracy", Round(e.TestAccuracy));
                json.WriteNumber("seconds", Math.Round(e.Seconds, 3));
                json.WriteNumber("learning_rate", e.LearningRate);
                json.WriteNumber("images_per_second", Math.Round(e.ImagesPerSecond, 1));
                if (e.ValidationLoss is { } validationLoss && e.ValidationAccuracy is { } validationAccuracy)
                {
                    json.WriteNumber("validation_loss", Round(validationLoss));
                    json.WriteNumber("validation_accuracy", Round(validationAccuracy));
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Writes one row per epoch; the two validation columns come last and only with a validation split.</summary>
    public static string ToCsv(IReadOnlyList<EpochMetrics> epochs)
    {
        bool validation = epochs.Any(e => e.ValidationLoss is not null);
        var text = new StringBuilder(
            "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,learning_rate,images_per_second");
        text.Append(validation ? ",validation_loss,validation_accuracy\n" : "\n");
        foreach (var e in epochs)
        {
            var cells = new List<string>
            {
                e.Epoch.ToString(CultureInfo.InvariantCulture), F(Round(e.TrainLoss)), F(Round(e.TrainAccuracy)),
                F(Round(e.TestLoss)), F(Round(e.TestAccuracy)), F(Math.Round(e.Seconds, 3)), F(e.LearningRate),
                F(Math.Round(e.ImagesPerSecond, 1)),
            };
            if (validation)
            {
                cells.Add(e.ValidationLoss is { } loss ? F(Round(loss)) : "");
                cells.Add(e.ValidationAccuracy is { } accuracy ? F(Round(accuracy)) : "");
            }
            text.AppendLine(string.Join(",", cells));
        }
        return text.ToString();
    }

    /// <summary>Reads metrics.json back, for tests and reports.</summary>
    public static List<EpochMetrics> ReadJson(string path) => ParseJson(File.ReadAllText(path));

    /// <summary>Parses the text <see cref="ToJson"/> writes.</summary>
    /// <exception cref="FormatException">An entry lacks a field or has one of the wrong type; the message names it.</exception>
    public static List<EpochMetrics> ParseJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
            throw new FormatException($"$ is {document.RootElement.ValueKind.ToString().ToLowerInvariant()}, expected a list of epochs");
        var list = new List<EpochMetrics>();
        int index = 0;
        foreach (var e in document.RootElement.EnumerateArray())
        {
            string? bad = e.ValueKind != JsonValueKind.Object
                ? ""
                : RequiredNumbers.FirstOrDefault(name => !e.TryGetProperty(name, out var value) ||
                                                         value.ValueKind != JsonValueKind.Number)
                  ?? OptionalNumbers.FirstOrDefault(name => e.TryGetProperty(name, out var value) &&
                                                            value.ValueKind != JsonValueKind.Number);
            if (bad is not null)
            {
                throw new FormatException(bad.Length == 0
                    ? $"$[{index}] is not an object"
                    : $"$[{index}].{bad} is missing or not a number");
            }
            index++;
            list.Add(new EpochMetrics(e.GetProperty("epoch").GetInt32(), e.GetProperty("train_loss").GetDouble(),
                e.GetProperty("train_accuracy").GetDouble(), e.GetProperty("test_loss").GetDouble(),
                e.GetProperty("test_accuracy").GetDouble(), e.GetProperty("seconds").GetDouble(),
                e.GetProperty("learning_rate").GetDouble(), e.GetProperty("images_per_second").GetDouble(),
                e.TryGetProperty("validation_loss", out var loss) ? loss.GetDouble() : null,
                e.TryGetProperty("validation_accuracy", out var accuracy) ? accuracy.GetDouble() : null));
        }
        return list;
    }

    private static readonly string[] RequiredNumbers =
    [
        "epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds", "learning_rate",
        "images_per_second",
    ];

    private static readonly string[] OptionalNumbers = ["validation_loss", "validation_accuracy"];

    private static double Round(double value) => Math.Round(value, 6);

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
