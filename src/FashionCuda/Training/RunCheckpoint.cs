using System.Globalization;
using System.Text.Json;
using FashionCuda.Optim;

namespace FashionCuda.Training;

/// <summary>
/// Everything a run folder stores to continue training after its last complete epoch: the weights and buffers,
/// the optimizer state, the state of the model's generator (dropout masks) and the metrics so far.
/// </summary>
/// <param name="Source">The run folder, for messages.</param>
/// <param name="Epoch">Completed epochs; training continues with epoch index <c>Epoch</c> (from 0).</param>
/// <param name="DataFingerprint">
/// The <see cref="Data.DatasetFingerprint"/> of the data the run trained on; null for states saved before
/// fingerprints were recorded.
/// </param>
public sealed record ResumeState(
    string Source, int Epoch, TrainConfig Config, IReadOnlyList<string> ClassNames,
    IReadOnlyDictionary<string, (int[] Shape, float[] Values)> ModelTensors, OptimizerState Optimizer,
    ulong ModelRngState, IReadOnlyList<EpochMetrics> History, string? DataFingerprint = null);

/// <summary>
/// Saves and restores the state a run folder needs for <c>train --resume</c>: <see cref="Checkpoint.FileName"/>
/// (the model, readable on its own) and <see cref="StateFileName"/> (optimizer tensors as
/// <c>state.{parameter index}.{slot}</c>, with step counts, the generator state and the metrics in its metadata).
/// The state also records the checksum of the model file saved with it and the fingerprint of the data, so a
/// model copied from another run or changed data is reported instead of resumed.
/// </summary>
/// <remarks>
/// The learning-rate schedule needs no state: it is a function of the epoch. The data order and augmentation
/// need none either, because the data loader derives each epoch's generator from (seed, epoch).
/// </remarks>
public static class RunCheckpoint
{
    public const string StateFileName = "training-state.safetensors";

    internal const string StateFormat = "fashioncuda-train-state-1";

    /// <summary>What to do about a damaged file of a run folder, for read errors.</summary>
    private const string ResumeFix =
        "the run cannot be resumed, so start it again with 'train --config FILE' and a new --out folder";
    private const string TensorPrefix = "state.";

    /// <summary>
    /// Writes the training state, then the model checkpoint, each atomically and each marked with the number of
    /// completed epochs, so <see cref="Load"/> can tell when a crash fell between the two writes.
    /// </summary>
    public static void Save(string runDirectory, Trainer trainer, IReadOnlyList<string> classNames)
    {
        int epoch = trainer.History.Count == 0 ? trainer.StartEpoch : trainer.History[^1].Epoch;
        var optimizer = trainer.Optimizer.SaveState();
        var (modelTensors, modelMetadata) = Checkpoint.Contents(trainer.Model, trainer.Config, classNames,
            trainer.Normalization, epoch);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = StateFormat,
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["optimizer"] = optimizer.Kind,
            ["step_count"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
            ["parameter_steps"] = string.Join(",", optimizer.ParameterSteps),
            ["parameter_names"] = string.Join("\n", trainer.Model.NamedParameters().Select(p => p.Name)),
            ["model_rng_state"] = trainer.ModelRngState.ToString(CultureInfo.InvariantCulture),
            ["history"] = MetricsFiles.ToJson(trainer.History),
            ["model_sha256"] = SafeTensors.Checksum(modelTensors, modelMetadata),
            ["data_fingerprint"] = trainer.DataFingerprint,
        };
        var tensors = optimizer.Tensors.Select(entry =>
            (TensorPrefix + entry.Key, entry.Value.Shape, entry.Value.Values));
        SafeTensors.Write(Path.Combine(runDirectory, StateFileName), tensors, metadata);
        SafeTensors.Write(Path.Combine(runDirectory, Checkpoint.FileName), modelTensors, modelMetadata);
    }

    /// <summary>
    /// Reads and checks both files of <paramref name="runDirectory"/>. Any missing, truncated, corrupt or
    /// mismatched file is a <see cref="CheckpointException"/> naming it; nothing is loaded into a model here.
    /// </summary>
    /// <param name="fix">
    /// What the user can do when a file is damaged, ending the message; by default, start the run again with
    /// <c>train</c>.
    /// </param>
    public static ResumeState Load(string runDirectory, string fix = ResumeFix)
    {
        if (File.Exists(runDirectory))
            throw new CheckpointException(
                $"--resume {runDirectory} is a file; pass the run folder that contains it, " +
                $"{Path.GetDirectoryName(Path.GetFullPath(runDirectory))}.");
        if (!Directory.Exists(runDirectory))
            throw new CheckpointException(
                $"Run folder {runDirectory} not found; pass the --out folder of an earlier 'train' to --resume.");
        string modelPath = Path.Combine(runDirectory, Checkpoint.FileName);
        string statePath = Path.Combine(runDirectory, StateFileName);
        foreach (string path in new[] { modelPath, statePath })
        {
            if (!File.Exists(path))
                throw new CheckpointException(
                    $"{path} not found, so {runDirectory} cannot be resumed; it needs {Checkpoint.FileName} and " +
                    $"{StateFileName} from a 'train' run that completed at least one epoch.");
        }

        var (modelTensors, modelMetadata) = SafeTensors.Read(modelPath, fix);
        var (stateTensors, stateMetadata) = SafeTensors.Read(statePath, fix);
        if (!stateMetadata.TryGetValue("format", out var format) || format != StateFormat)
            throw new CheckpointException(
                $"{statePath} is not a fashioncuda training state (format '{format}'); {fix}.");
        var config = Checkpoint.ReadConfig(modelMetadata, modelPath);
        int modelEpoch = Checkpoint.ReadEpoch(modelMetadata, modelPath) ?? throw new CheckpointException(
            $"{modelPath} records no epoch, so it was not written by a run that can be resumed.");
        int stateEpoch = ParseInt(stateMetadata, "epoch", statePath);
        if (modelEpoch != stateEpoch)
            throw new CheckpointException(
                $"{modelPath} is from epoch {modelEpoch} but {statePath} from epoch {stateEpoch}: the run stopped " +
                (fix == ResumeFix ? "while saving. Start the run again without --resume." : $"while saving; {fix}."));
        if (stateMetadata.TryGetValue("model_sha256", out var savedWith) &&
            modelMetadata.TryGetValue(SafeTensors.ChecksumKey, out var modelChecksum) && savedWith != modelChecksum)
            throw new CheckpointException(
                $"{modelPath} is not the model that {statePath} was saved with (it was copied from another run or " +
                $"changed); put back the run's own {Checkpoint.FileName}, or {fix}.");

        var optimizer = ReadOptimizer(stateTensors, stateMetadata, statePath);
        ulong rngState = ulong.TryParse(Required(stateMetadata, "model_rng_state", statePath), NumberStyles.None,
            CultureInfo.InvariantCulture, out ulong value)
            ? value
            : throw new CheckpointException($"{statePath} has an invalid 'model_rng_state' metadata value.");
        List<EpochMetrics> history;
        try
        {
            history = MetricsFiles.ParseJson(Required(stateMetadata, "history", statePath));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException
                                      or FormatException)
        {
            throw new CheckpointException($"{statePath} has an invalid 'history' metadata value: {e.Message}");
        }
        var classNames = modelMetadata.TryGetValue("class_names", out var names) ? names.Split('\n') : [];
        return new ResumeState(runDirectory, modelEpoch, config, classNames, modelTensors, optimizer, rngState,
            history, stateMetadata.GetValueOrDefault("data_fingerprint"));
    }

    /// <summary>
    /// Returns the number of completed epochs that the training state of <paramref name="runDirectory"/>
    /// records, or null when the folder has no readable state. The state is not checked against its model file.
    /// </summary>
    public static int? SavedEpoch(string runDirectory)
    {
        string path = Path.Combine(runDirectory, StateFileName);
        if (!File.Exists(path))
            return null;
        try
        {
            var (_, metadata) = SafeTensors.Read(path);
            return metadata.GetValueOrDefault("format") == StateFormat &&
                   int.TryParse(metadata.GetValueOrDefault("epoch"), NumberStyles.None, CultureInfo.InvariantCulture,
                       out int epoch)
                ? epoch
                : null;
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static OptimizerState ReadOptimizer(Dictionary<string, (int[] Shape, float[] Values)> tensors,
        Dictionary<string, string> metadata, string path)
    {
        string kind = Required(metadata, "optimizer", path);
        int stepCount = ParseInt(metadata, "step_count", path);
        string stepsText = Required(metadata, "parameter_steps", path);
        var parameterSteps = stepsText.Length == 0
            ? []
            : stepsText.Split(',').Select(part => int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture,
                out int steps)
                ? steps
                : throw new CheckpointException($"{path} has an invalid 'parameter_steps' metadata value.")).ToArray();
        var state = new Dictionary<string, (int[] Shape, float[] Values)>();
        foreach (var (name, tensor) in tensors)
        {
            if (!name.StartsWith(TensorPrefix, StringComparison.Ordinal))
                throw new CheckpointException($"{path} has an unexpected tensor '{name}'.");
            state[name[TensorPrefix.Length..]] = tensor;
        }
        return new OptimizerState(kind, stepCount, parameterSteps, state);
    }

    private static string Required(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        metadata.TryGetValue(key, out var text)
            ? text
            : throw new CheckpointException($"{path} has no '{key}' metadata, so it cannot be resumed from.");

    private static int ParseInt(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        int.TryParse(Required(metadata, key, path), NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new CheckpointException($"{path} has an invalid '{key}' metadata value '{metadata[key]}'.");
}
