using System.Globalization;
using FashionCuda.Backends;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Training;

/// <summary>
/// A trained model on disk: a safetensors file with every parameter and buffer under its PyTorch-style name,
/// and in its metadata the resolved config (<c>config</c>), class names and the input normalization.
/// </summary>
public static class Checkpoint
{
    public const string FileName = "model.safetensors";

    public static void Save(string path, Module model, TrainConfig config, IReadOnlyList<string> classNames,
        float mean, float std)
    {
        var tensors = model.StateDict().Select(entry => (entry.Name, entry.Tensor.Dimensions, entry.Tensor.ToArray()));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "fashioncuda-1",
            ["config"] = config.ToJson(),
            ["class_names"] = string.Join("\n", classNames),
            ["normalization_mean"] = mean.ToString("R", CultureInfo.InvariantCulture),
            ["normalization_std"] = std.ToString("R", CultureInfo.InvariantCulture),
        };
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>Rebuilds the model a checkpoint describes on <paramref name="backend"/> and loads its state.</summary>
    public static Loaded Load(string path, IBackend backend)
    {
        if (Directory.Exists(path))
            throw new CheckpointException(
                $"Checkpoint {path} is a folder; pass the model.safetensors file inside it.");
        if (!File.Exists(path))
            throw new CheckpointException(
                $"Checkpoint {path} not found; pass the model.safetensors file of a run folder made by 'train'.");
        var (tensors, metadata) = SafeTensors.Read(path);
        if (!metadata.TryGetValue("config", out var configJson))
            throw new CheckpointException(
                $"Checkpoint {path} has no 'config' metadata, so it was not written by fashioncuda train.");
        TrainConfig config;
        try
        {
            config = TrainConfig.Parse(configJson, path);
        }
        catch (ConfigException e)
        {
            throw new CheckpointException($"Checkpoint {path} has an invalid config: {e.Message}");
        }
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
        float mean = ParseFloat(metadata, "normalization_mean", path);
        float std = ParseFloat(metadata, "normalization_std", path);
        return new Loaded(model, config, classNames, mean, std);
    }

    private static float ParseFloat(Dictionary<string, string> metadata, string key, string path)
    {
        if (metadata.TryGetValue(key, out var text) &&
            float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            return value;
        throw new CheckpointException($"Checkpoint {path} has no valid '{key}' metadata.");
    }

    public sealed record Loaded(Module Model, TrainConfig Config, string[] ClassNames, float Mean, float Std);
}
