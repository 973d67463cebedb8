using System.Text.Json.Nodes;
using FashionCuda.Backends;
using FashionCuda.Data;
using FashionCuda.Nn;
using FashionCuda.Training;

namespace FashionCuda.Studies;

/// <summary>
/// The images of a study run before its train_limit and test_limit, and the class names its checkpoints record.
/// </summary>
/// <param name="Description">Where the images came from, recorded in each run's results.json; null when unknown.</param>
public sealed record StudyData(ImageDataset Train, ImageDataset Test, IReadOnlyList<string> ClassNames,
    string? Description = null);

/// <summary>
/// Runs every arm × seed of a study, each in its own folder below <see cref="OutputDirectory"/> with the files
/// <c>train</c> writes plus <c>results.json</c>. A run whose results.json exists for the same config is skipped,
/// and a run stopped part-way continues after its last complete epoch from the training state it saved, so a
/// rerun continues an interrupted study. Any other run is trained from the start. The runner prints nothing;
/// callers follow it through its events.
/// </summary>
public sealed class StudyRunner
{
    private readonly IBackend backend;
    private readonly Func<TrainConfig, StudyData> loadData;
    private readonly Dictionary<(StudyData Data, int TrainLimit, int TestLimit), string> fingerprints = [];

    /// <param name="loadData">
    /// Returns the data a run's config names (its <c>data</c> section, and for a photo folder split by seed the
    /// seed). It is called once per trained run, so it may cache; each run applies its own train_limit,
    /// test_limit and validation split to what it returns.
    /// </param>
    public StudyRunner(StudyDefinition study, bool quick, string outputDirectory, IBackend backend,
        Func<TrainConfig, StudyData> loadData)
    {
        Study = study;
        Quick = quick;
        OutputDirectory = outputDirectory;
        this.backend = backend;
        this.loadData = loadData;
        Runs = study.Plan(quick);
    }

    /// <summary>Trains every run on the same images, named as the Fashion-MNIST classes.</summary>
    public StudyRunner(StudyDefinition study, bool quick, string outputDirectory, IBackend backend,
        ImageDataset train, ImageDataset test)
        : this(study, quick, outputDirectory, backend, _ => new StudyData(train, test, FashionMnist.ClassNames))
    {
    }

    public StudyDefinition Study { get; }

    public bool Quick { get; }

    public string OutputDirectory { get; }

    public IReadOnlyList<StudyRun> Runs { get; }

    /// <summary>The machine recorded in each trained run's results.json; <see cref="MachineDescription.Current"/> by default.</summary>
    public string Hardware { get; init; } = MachineDescription.Current();

    /// <summary>The engine build recorded in each trained run's results.json; <see cref="MachineDescription.EngineVersion"/> by default.</summary>
    public string Engine { get; init; } = MachineDescription.EngineVersion();

    /// <summary>The command line recorded in each trained run's results.json; null records none.</summary>
    public string? Command { get; init; }

    /// <summary>A run was found finished and is not trained again.</summary>
    public event Action<StudyRun, RunResult>? RunSkipped;

    /// <summary>
    /// A run folder contains a damaged result (the message names the file and the fault); the run is trained again.
    /// </summary>
    public event Action<StudyRun, string>? RunDamaged;

    /// <summary>
    /// A run starts training; the trainer is ready, so its model and data sizes can be read. For a run that
    /// continues from its saved state, <see cref="Trainer.StartEpoch"/> is the number of epochs done before.
    /// </summary>
    public event Action<StudyRun, Trainer>? RunStarted;

    /// <summary>
    /// An unfinished run's saved state cannot be continued (the message names the file and the fault); the run
    /// trains again from its first epoch.
    /// </summary>
    public event Action<StudyRun, string>? ResumeRejected;

    public event Action<StudyRun, EpochMetrics>? EpochCompleted;

    public event Action<StudyRun, RunResult>? RunFinished;

    public string RunDirectory(StudyRun run) => Path.Combine(OutputDirectory, run.RelativeDirectory);

    /// <summary>
    /// Trains or skips every run in plan order and returns their results in that order. Before training anything
    /// it checks that no run folder contains a finished result of another config or of other images, that no
    /// run file's path is a folder, and that every run to train keeps training images after its validation split.
    /// </summary>
    /// <exception cref="StudyFolderException">A run folder contains a finished result of another config or data.</exception>
    /// <exception cref="OutputPathException">The path of a run file is a folder.</exception>
    /// <exception cref="ConfigException">A run's validation_count is not below its number of training images.</exception>
    public IReadOnlyList<RunResult> Run(CancellationToken cancellation = default)
    {
        var statuses = Runs.Select(run => RunResult.Inspect(RunDirectory(run), run)).ToList();
        foreach (var (run, status) in Runs.Zip(statuses))
        {
            if (status.State != RunState.Finished)
                AtomicFile.RequireWritable(RunDirectory(run), RunFileNames);
        }
        var changed = Runs.Zip(statuses).Where(entry => entry.Second.State == RunState.Changed).ToList();
        if (changed.Count > 0)
            throw Conflict(changed[0].First, changed[0].Second.Problem!, changed.Count - 1);
        for (int index = 0; index < Runs.Count; index++)
        {
            if (statuses[index].State == RunState.Finished)
                CheckSameData(Runs[index], statuses[index].Result!);
            else
                RequireTrainingImages(Runs[index]);
        }

        var results = new List<RunResult>(Runs.Count);
        for (int index = 0; index < Runs.Count; index++)
        {
            cancellation.ThrowIfCancellationRequested();
            var (run, status) = (Runs[index], statuses[index]);
            string directory = RunDirectory(run);
            if (status.State == RunState.Finished)
            {
                var finished = status.Result!;
                RunSkipped?.Invoke(run, finished);
                results.Add(finished);
                continue;
            }
            if (status.State == RunState.Damaged)
                RunDamaged?.Invoke(run, status.Problem!);
            var result = Train(run, directory, status.State == RunState.Unfinished, cancellation);
            RunFinished?.Invoke(run, result);
            results.Add(result);
        }
        return results;
    }

    private StudyFolderException Conflict(StudyRun run, string problem, int others)
    {
        string directory = RunDirectory(run);
        string more = others == 0 ? "" : others == 1
            ? " 1 more run folder of this study differs too."
            : $" {others} more run folders of this study differ too.";
        return new StudyFolderException(
            $"{directory} holds a finished run {problem}. Pass --out with another folder for this version of the " +
            $"study, or delete {directory} to train the run again.{more}");
    }

    /// <summary>
    /// Checks that a finished run was trained on the images this run would get. Results that recorded no
    /// fingerprint are compared by their data description, and trusted when they recorded neither.
    /// </summary>
    private void CheckSameData(StudyRun run, RunResult finished)
    {
        if (finished.DataFingerprint is null && finished.Data is null)
            return;
        var data = loadData(run.Config);
        if (finished.DataFingerprint is { } recorded)
        {
            string current = Fingerprint(run.Config, data);
            if (recorded != current)
                throw Conflict(run, $"trained on other images ({finished.Data ?? "data not recorded"}, fingerprint " +
                                    $"{recorded[..12]}; now {data.Description ?? "this data"}, fingerprint {current[..12]})", 0);
        }
        else if (data.Description is { } description && description != finished.Data)
        {
            throw Conflict(run, $"trained on other data ({finished.Data}; now {description})", 0);
        }
    }

    /// <summary>
    /// Checks that a run's validation split leaves images to train on, as the trainer does, so that a split too
    /// large for one arm's data stops the study before the first run trains.
    /// </summary>
    private void RequireTrainingImages(StudyRun run)
    {
        int validation = run.Config.ValidationCount;
        if (validation == 0)
            return;
        int available = loadData(run.Config).Train.Count;
        int count = run.Config.TrainLimit > 0 ? Math.Min(run.Config.TrainLimit, available) : available;
        if (validation >= count)
        {
            string raise = count < available ? ", or raise train_limit" : "";
            throw Study.RunConfigError(run, Quick, "$.validation_count",
                $"{validation} leaves no training images, because the training set has {count}; hold out fewer " +
                $"images{raise}");
        }
    }

    /// <summary>
    /// Returns the fingerprint of a run's images after its limits, hashed once per data set and limits, because
    /// the runs of a study mostly share both.
    /// </summary>
    private string Fingerprint(TrainConfig config, StudyData data)
    {
        var key = (data, config.TrainLimit, config.TestLimit);
        if (!fingerprints.TryGetValue(key, out string? fingerprint))
        {
            var (train, test) = Limited(config, data);
            fingerprint = DatasetFingerprint.Compute(train, test);
            fingerprints[key] = fingerprint;
        }
        return fingerprint;
    }

    private static (ImageDataset Train, ImageDataset Test) Limited(TrainConfig config, StudyData data) =>
        (config.TrainLimit > 0 ? data.Train.Take(config.TrainLimit) : data.Train,
            config.TestLimit > 0 ? data.Test.Take(config.TestLimit) : data.Test);

    private RunResult Train(StudyRun run, string directory, bool unfinished, CancellationToken cancellation)
    {
        Directory.CreateDirectory(directory);
        // A damaged results.json must not survive a run that stops early.
        File.Delete(Path.Combine(directory, RunResult.FileName));
        var config = run.Config;
        var data = loadData(config);
        var (runTrain, runTest) = Limited(config, data);
        var trainer = new Trainer(config, backend, runTrain, runTest);
        var selection = new EpochSelection();
        if (unfinished && File.Exists(Path.Combine(directory, RunCheckpoint.StateFileName)) &&
            TryResume(run, directory, trainer, selection) is { } rejection)
        {
            string trimmed = rejection.TrimEnd('.');
            ResumeRejected?.Invoke(run, trimmed.EndsWith(RestartFix, StringComparison.Ordinal)
                ? $"{trimmed}."
                : $"{trimmed}; {RestartFix}.");
            // Resume may have loaded part of the state before it failed, so the run starts from fresh weights.
            trainer = new Trainer(config, backend, runTrain, runTest);
            selection = new EpochSelection();
        }
        // The trainer's config has the model's input shape and class count taken from the data, so eval and
        // predict rebuild the same network from the files.
        AtomicFile.WriteText(Path.Combine(directory, TrainConfig.FileName), trainer.Config.ToJson() + "\n");
        long flops = ModelSummary.Trace(trainer.Model, [1, runTrain.Channels, runTrain.Height, runTrain.Width])
            .Sum(r => r.Flops);
        trainer.EpochCompleted += metrics =>
        {
            MetricsFiles.Write(directory, trainer.History);
            // The best checkpoint goes before the training state, so a state of epoch k has the best checkpoint
            // of epochs 1 to k beside it, or of epoch k + 1 after a stop between the two writes.
            if (selection.Offer(metrics, trainer.LastTestEvaluation!) && metrics.ValidationAccuracy is not null)
            {
                Checkpoint.Save(Path.Combine(directory, BestCheckpointFileName), trainer.Model, trainer.Config,
                    data.ClassNames, trainer.Normalization, metrics.Epoch);
            }
            RunCheckpoint.Save(directory, trainer, data.ClassNames);
            EpochCompleted?.Invoke(run, metrics);
        };
        RunStarted?.Invoke(run, trainer);
        trainer.Run(cancellation);

        var history = trainer.History;
        var selected = selection.Metrics!;
        // A continued run may select an epoch from before the stop. That epoch's test confusion matrix was not
        // kept, so its checkpoint is evaluated again.
        var confusion = selection.Confusion;
        if (confusion is null)
        {
            var model = selected.ValidationAccuracy is null ? trainer.Model : LoadBest(directory, selected.Epoch);
            confusion = Evaluate(model, runTest, trainer);
        }
        var result = new RunResult
        {
            Arm = run.Arm.Name,
            Seed = run.Seed,
            Device = backend.Name,
            Hardware = Hardware,
            Engine = Engine,
            Command = Command,
            Data = data.Description,
            DataFingerprint = trainer.DataFingerprint,
            TestAccuracy = selected.TestAccuracy,
            TestLoss = selected.TestLoss,
            FinalTestAccuracy = history[^1].TestAccuracy,
            SelectedEpoch = selected.Epoch,
            SelectedByValidation = selected.ValidationAccuracy is not null,
            ValidationAccuracy = selected.ValidationAccuracy,
            Epochs = history.Count,
            Parameters = trainer.Model.ParameterCount(),
            FlopsPerImage = flops,
            // Epochs trained before a stop may have run on another machine, so only this process's epochs count
            // when there are any.
            SecondsPerEpoch = history.Skip(history.Count > trainer.StartEpoch ? trainer.StartEpoch : 0)
                .Average(e => e.Seconds),
            TrainImages = trainer.TrainCount,
            ValidationImages = trainer.Validation?.Count ?? 0,
            TestImages = runTest.Count,
            Confusion = ToJagged(confusion),
            ClassNames = data.ClassNames.ToArray(),
            Config = JsonNode.Parse(config.ToJson())!.AsObject(),
            History = history.ToList(),
        };
        result.Write(directory);
        // The training state only serves to continue the run, and it is as large as the model twice over.
        File.Delete(Path.Combine(directory, RunCheckpoint.StateFileName));
        return result;
    }

    /// <summary>What the study does when a saved state cannot be read, for the messages of <see cref="RunCheckpoint"/>.</summary>
    private const string RestartFix = "the study trains the run again from its first epoch";

    /// <summary>
    /// Loads the run's saved training state into <paramref name="trainer"/> and the epochs it completed into
    /// <paramref name="selection"/>. Returns null on success, or why the state cannot be continued: it is
    /// damaged, comes from another config or other data, or its best checkpoint is not of the selected epoch.
    /// </summary>
    private static string? TryResume(StudyRun run, string directory, Trainer trainer, EpochSelection selection)
    {
        ResumeState state;
        try
        {
            state = RunCheckpoint.Load(directory, RestartFix);
        }
        catch (CheckpointException e)
        {
            return e.Message;
        }
        string statePath = Path.Combine(directory, RunCheckpoint.StateFileName);
        if (JsonDifference.First(JsonNode.Parse(state.Config.ToJson()), JsonNode.Parse(trainer.Config.ToJson()),
                "$.config", "the saved state") is { } change)
            return $"{statePath} was saved with a different config: {change}";
        if (state.Epoch > run.Config.Epochs)
            return $"{statePath} records {state.Epoch} epochs, more than the {run.Config.Epochs} of the run";
        // Checked here as well as in Trainer.Resume, whose message suggests a new 'train' run.
        if (state.DataFingerprint is { } saved && saved != trainer.DataFingerprint)
            return $"{statePath} was saved with other images (fingerprint {saved[..12]}, now " +
                   $"{trainer.DataFingerprint[..12]})";
        foreach (var metrics in state.History)
            selection.Offer(metrics, test: null);
        if (selection.Metrics is { ValidationAccuracy: not null } selected)
        {
            string best = Path.Combine(directory, BestCheckpointFileName);
            if (!File.Exists(best))
                return $"{best} is missing, but the run selects epoch {selected.Epoch} by validation accuracy";
            int? bestEpoch;
            try
            {
                bestEpoch = Checkpoint.ReadEpoch(SafeTensors.Read(best, RestartFix).Metadata, best);
            }
            catch (CheckpointException e)
            {
                return e.Message;
            }
            // A stop between the best checkpoint and the state leaves the checkpoint of an epoch after the state's,
            // which the run trains again and, being deterministic, saves again.
            if (bestEpoch != selected.Epoch && !(bestEpoch > state.Epoch))
            {
                string found = bestEpoch is { } epoch ? $"is of epoch {epoch}" : "records no epoch";
                return $"{best} {found}, but the run selects epoch {selected.Epoch} by validation accuracy";
            }
        }
        try
        {
            trainer.Resume(state);
        }
        catch (CheckpointException e)
        {
            return e.Message;
        }
        return null;
    }

    /// <summary>Loads the best checkpoint, which must be of the selected epoch.</summary>
    /// <exception cref="StudyFolderException">The checkpoint is of another epoch.</exception>
    private Module LoadBest(string directory, int epoch)
    {
        string path = Path.Combine(directory, BestCheckpointFileName);
        var loaded = Checkpoint.Load(path, backend);
        if (loaded.Epoch != epoch)
            throw new StudyFolderException(
                $"{path} is of epoch {loaded.Epoch}, but the run selects epoch {epoch}. Delete {directory} to train " +
                "the run again.");
        return loaded.Model;
    }

    /// <summary>Test confusion matrix of <paramref name="model"/>, batched as the trainer's own evaluation.</summary>
    private static int[,] Evaluate(Module model, ImageDataset test, Trainer trainer) =>
        Trainer.Evaluate(model, test, trainer.Normalization, trainer.Config.BatchSize).Confusion;

    /// <summary>Checkpoint of the best validation epoch, written only when the run has a validation split.</summary>
    public const string BestCheckpointFileName = "best.safetensors";

    /// <summary>
    /// Files that a study run writes into its folder, results.json last. The training state is deleted once
    /// results.json is written.
    /// </summary>
    public static readonly IReadOnlyList<string> RunFileNames =
    [
        TrainConfig.FileName, MetricsFiles.JsonFileName, MetricsFiles.CsvFileName, Checkpoint.FileName,
        RunCheckpoint.StateFileName, BestCheckpointFileName, RunResult.FileName,
    ];

    private static int[][] ToJagged(int[,] matrix)
    {
        var rows = new int[matrix.GetLength(0)][];
        for (int row = 0; row < rows.Length; row++)
        {
            rows[row] = new int[matrix.GetLength(1)];
            for (int column = 0; column < rows[row].Length; column++)
                rows[row][column] = matrix[row, column];
        }
        return rows;
    }

    /// <summary>
    /// Keeps the epoch a run reports: the highest validation accuracy (the earliest on ties), or the latest epoch
    /// when there is no validation split.
    /// </summary>
    private sealed class EpochSelection
    {
        public EpochMetrics? Metrics { get; private set; }

        public int[,]? Confusion { get; private set; }

        /// <summary>
        /// Considers an epoch and returns whether it became the selected one. <paramref name="test"/> is null for
        /// the epochs of a saved state, whose confusion matrices were not kept.
        /// </summary>
        public bool Offer(EpochMetrics metrics, Evaluation? test)
        {
            // Rounded as a saved history is, so a continued run breaks ties as an uninterrupted one does.
            bool better = Metrics is null || metrics.ValidationAccuracy is not { } accuracy ||
                          Math.Round(accuracy, 6) > Math.Round(Metrics.ValidationAccuracy ?? 0, 6);
            if (better)
            {
                Metrics = metrics;
                Confusion = test?.Confusion;
            }
            return better;
        }
    }
}

/// <summary>
/// A study folder contains a finished run that the study file no longer describes (another config or other data), so
/// training there would mix results or delete them.
/// </summary>
public sealed class StudyFolderException(string message) : Exception(message);
