using System.Globalization;
using FashionCuda.Backends;
using FashionCuda.Data;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Training;

/// <summary>
/// A trained model on disk: a safetensors file with every parameter and buffer under its PyTorch-style name,
/// and in its metadata the resolved config (<c>config</c>, which includes the data preprocessing), the class
/// names, the per-channel input normalization and the number of completed epochs.
/// </summary>
public static class Checkpoint
{
    public const string FileName = "model.safetensors";

    public static void Save(string path, Module model, TrainConfig config, IReadOnlyList<string> classNames,
        float mean, float std) =>
        Save(path, model, config, classNames, new Normalization(mean, std));

    public static void Save(string path, Module model, TrainConfig config, IReadOnlyList<string> classNames,
        Normalization normalization, int? epoch = null)
    {
        var (tensors, metadata) = Contents(model, config, classNames, normalization, epoch);
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>Returns the tensors and metadata <see cref="Save"/> writes, with the tensors copied to the host.</summary>
    public static (List<(string Name, int[] Shape, float[] Values)> Tensors, Dictionary<string, string> Metadata)
        Contents(Module model, TrainConfig config, IReadOnlyList<string> classNames, Normalization normalization,
            int? epoch)
    {
        var tensors = model.StateDict()
            .Select(entry => (entry.Name, entry.Tensor.Dimensions, entry.Tensor.ToArray())).ToList();
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "fashioncuda-1",
            ["config"] = config.ToJson(),
            ["class_names"] = string.Join("\n", classNames),
            ["normalization_mean"] = FormatList(normalization.Means),
            ["normalization_std"] = FormatList(normalization.Stds),
        };
        if (epoch is { } completed)
            metadata["epoch"] = completed.ToString(CultureInfo.InvariantCulture);
        return (tensors, metadata);
    }

    /// <summary>
    /// Rebuilds the model a checkpoint describes on <paramref name="backend"/> and loads its state. The file is
    /// read and checked whole before the model is built, so a truncated or corrupt file is reported as such.
    /// </summary>
    public static Loaded Load(string path, IBackend backend)
    {
        if (Directory.Exists(path))
            throw new CheckpointException(
                $"Checkpoint {path} is a folder; pass the model.safetensors file inside it.");
        if (!File.Exists(path))
            throw new CheckpointException(
                $"Checkpoint {path} not found; pass the model.safetensors file of a run folder made by 'train'.");
        var (tensors, metadata) = SafeTensors.Read(path);
        if (metadata.GetValueOrDefault("format") == RunCheckpoint.StateFormat)
            throw new CheckpointException(
                $"{path} is the training state of a run, which holds optimizer values and no model; pass " +
                $"{Path.Combine(Path.GetDirectoryName(path) ?? ".", FileName)} from the same folder.");
        var config = ReadConfig(metadata, path);
        var model = ModelFactory.Create(config, backend, new Rng(config.Seed));
        try
        {
            model.LoadStateDict(tensors, path);
        }
        catch (FormatException e)
        {
            throw new CheckpointException(e.Message);
        }
        var classNames = metadata.TryGetValue("class_names", out var names) ? names.Split('\n') : [];
        var normalization = ReadNormalization(metadata, path);
        int epoch = ReadEpoch(metadata, path) ?? 0;
        return new Loaded(model, config, classNames, normalization, epoch);
    }

    /// <summary>Parses the <c>config</c> metadata of a checkpoint.</summary>
    public static TrainConfig ReadConfig(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue("config", out var configJson))
            throw new CheckpointException(
                $"Checkpoint {path} has no 'config' metadata, so it was not written by fashioncuda train; pass " +
                $"the {FileName} of a run folder made by 'train' or 'study'.");
        try
        {
            return TrainConfig.Parse(configJson, path);
        }
        catch (ConfigException e)
        {
            throw new CheckpointException($"Checkpoint {path} has an invalid config: {e.Message}");
        }
    }

    /// <summary>Parses the completed-epoch count, or returns null when the checkpoint does not record one.</summary>
    public static int? ReadEpoch(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue("epoch", out var text))
            return null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int epoch))
            return epoch;
        throw new CheckpointException($"Checkpoint {path} has an invalid 'epoch' metadata value '{text}'.");
    }

    private static Normalization ReadNormalization(IReadOnlyDictionary<string, string> metadata, string path)
    {
        var means = ParseList(metadata, "normalization_mean", path);
        var stds = ParseList(metadata, "normalization_std", path);
        try
        {
            return new Normalization(means, stds);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException($"Checkpoint {path} has an invalid normalization: {e.Message}");
        }
    }

    private static string FormatList(IReadOnlyList<float> values) =>
        string.Join(",", values.Select(value => value.ToString("R", CultureInfo.InvariantCulture)));

    private static float[] ParseList(IReadOnlyDictionary<string, string> metadata, string key, string path)
    {
        if (!metadata.TryGetValue(key, out var text))
            throw new CheckpointException($"Checkpoint {path} has no '{key}' metadata.");
        var parts = text.Split(',');
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new CheckpointException($"Checkpoint {path} has an invalid '{key}' metadata value '{text}'.");
        }
        return values;
    }

    /// <param name="Epoch">Completed epochs when the checkpoint was written; 0 when it records none.</param>
    public sealed record Loaded(Module Model, TrainConfig Config, string[] ClassNames, Normalization Normalization,
        int Epoch)
    {
        /// <summary>Mean of the first input channel.</summary>
        public float Mean => Normalization.Mean;

        /// <summary>Standard deviation of the first input channel.</summary>
        public float Std => Normalization.Std;
    }
}
