using System.Diagnostics;
using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Data;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Optim;
using FashionCuda.Tensors;

namespace FashionCuda.Training;

/// <summary>Progress of one training step, for progress bars.</summary>
public readonly record struct StepProgress(int Epoch, int Step, int StepsPerEpoch, double Loss, double ImagesPerSecond);

/// <summary>
/// Trains a model from a <see cref="TrainConfig"/> on 28×28 grey images: seeded initialization, shuffled and
/// augmented batches, the configured optimizer and learning-rate schedule, and an evaluation after each epoch.
/// The engine prints nothing; callers observe progress through <see cref="StepCompleted"/> and
/// <see cref="EpochCompleted"/>.
/// </summary>
public sealed class Trainer
{
    private readonly IBackend backend;
    private readonly ImageDataset train;
    private readonly ImageDataset test;
    private readonly Rng modelRng;
    private readonly ImageDataset[] fingerprintedData;
    private string? dataFingerprint;

    /// <summary>
    /// Prepares a run. With <see cref="TrainConfig.ValidationCount"/> above 0, that many images of
    /// <paramref name="train"/> are split off by the config's seed into <see cref="Validation"/>; normalization and
    /// training then use only the rest.
    /// </summary>
    public Trainer(TrainConfig config, IBackend backend, ImageDataset train, ImageDataset test)
    {
        if (train.Height != train.Width || test.Height != train.Height || test.Channels != train.Channels)
            throw new ArgumentException(
                $"The training images are {train.Channels}×{train.Height}×{train.Width} and the test images " +
                $"{test.Channels}×{test.Height}×{test.Width}; both must be the same square size.");
        config = ForData(config, train);
        Config = config;
        fingerprintedData = [train, test];
        this.backend = backend;
        DeviceDatasets = backend as IDeviceDatasetBackend;
        if (config.ValidationCount > 0)
        {
            if (config.ValidationCount >= train.Count)
                throw new ConfigException(
                    $"$.validation_count: {config.ValidationCount} leaves no training images, because the " +
                    $"training set has {train.Count}; hold out fewer images.");
            (train, Validation) = train.SplitValidation(config.ValidationCount, config.Seed ^ ValidationSeedSalt);
        }
        this.train = train;
        this.test = test;
        RequireInputSize(config.Model, train, "training");
        RequireInputSize(config.Model, test, "test");
        Normalization = Normalization.Compute(train);
        modelRng = new Rng(config.Seed);
        Model = ModelFactory.Create(config, backend, modelRng);
        Optimizer = CreateOptimizer(config.Optimizer, Model.Parameters());
    }

    /// <summary>Mixed into the config's seed for the validation split, so the split and the weights draw apart.</summary>
    private const ulong ValidationSeedSalt = 0x5A11D47EUL;

    public TrainConfig Config { get; }

    /// <summary>
    /// Where <see cref="Run"/> keeps the training, validation and test sets: the backend itself when it implements
    /// <see cref="IDeviceDatasetBackend"/> (CUDA), so batches are built on the device. It is null for the CPU and
    /// reference backends, whose batches are built on the host. Tests set an emulated device here.
    /// </summary>
    internal IDeviceDatasetBackend? DeviceDatasets { get; init; }

    /// <summary>Held-out training images evaluated after each epoch, or null without a validation split.</summary>
    public ImageDataset? Validation { get; }

    /// <summary>Images the model trains on: the training set less <see cref="Validation"/>.</summary>
    public int TrainCount => train.Count;

    /// <summary>The test evaluation after the latest epoch, with its confusion matrix; null before the first.</summary>
    public Evaluation? LastTestEvaluation { get; private set; }

    public Module Model { get; }

    public Optimizer Optimizer { get; }

    /// <summary>Mean and standard deviation of the training pixels, on the [0, 1] scale.</summary>
    public Normalization Normalization { get; }

    public List<EpochMetrics> History { get; } = new();

    /// <summary>Epoch (from 0) that <see cref="Run"/> starts with: 0, or the epochs a resumed run completed.</summary>
    public int StartEpoch { get; private set; }

    /// <summary>
    /// State of the generator the model's dropout layers draw their mask seeds from. Together with the weights,
    /// the optimizer state and the epoch it is all a run needs to continue bit for bit, because each epoch's
    /// data order and augmentation are derived from (seed, epoch) alone.
    /// </summary>
    public ulong ModelRngState => modelRng.State;

    /// <summary>
    /// <see cref="DatasetFingerprint"/> of the training set (before the validation split) and the test set,
    /// computed on first use.
    /// </summary>
    public string DataFingerprint => dataFingerprint ??= DatasetFingerprint.Compute(fingerprintedData);

    public event Action<StepProgress>? StepCompleted;

    public event Action<EpochMetrics>? EpochCompleted;

    /// <summary>
    /// Returns <paramref name="config"/> with the model's input channels, input size and class count taken from
    /// the training images, so the network adapts its flatten size to them.
    /// </summary>
    public static TrainConfig ForData(TrainConfig config, ImageDataset train) => config with
    {
        Model = config.Model with
        {
            InputChannels = train.Channels,
            InputSize = train.Height,
            Classes = train.ClassCount,
        },
    };

    public static Optimizer CreateOptimizer(OptimizerConfig config, IEnumerable<Tensor> parameters) =>
        config.Name switch
        {
            "sgd" => new Sgd(parameters, config.LearningRate, config.Momentum, config.Dampening, config.WeightDecay,
                config.Nesterov),
            "adam" => new Adam(parameters, config.LearningRate, config.Beta1, config.Beta2, config.Epsilon,
                config.WeightDecay),
            "adamw" => new Adam(parameters, config.LearningRate, config.Beta1, config.Beta2, config.Epsilon,
                config.WeightDecay, decoupledWeightDecay: true),
            _ => throw new ConfigException(
                $"$.optimizer.name: unknown optimizer '{config.Name}'; use one of " +
                $"{string.Join(", ", TrainConfig.OptimizerNames)}."),
        };

    /// <summary>
    /// Continues a run from a saved state: loads the weights and buffers, the optimizer state, the model's
    /// generator and the history, so <see cref="Run"/> starts at epoch <see cref="ResumeState.Epoch"/>. Throws
    /// <see cref="CheckpointException"/> when the state does not fit this model or optimizer.
    /// </summary>
    public void Resume(ResumeState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        // Checked first, because changed data also changes the class count and so the shapes below.
        if (state.DataFingerprint is { } saved && saved != DataFingerprint)
            throw new CheckpointException(
                $"The data in {state.Config.Data.Path ?? "the Fashion-MNIST folder"} changed since {state.Source} " +
                $"saved epoch {state.Epoch} (images or labels were added, removed or edited), so the run cannot " +
                "continue; start a new run with 'train --config FILE', or restore the data as it was.");
        // Shapes are checked before any upload, so a mismatch leaves the model as it was.
        foreach (var (name, tensor) in Model.StateDict())
        {
            if (state.ModelTensors.TryGetValue(name, out var savedTensor) &&
                !Shape.Equal(savedTensor.Shape, tensor.Dimensions))
                throw new CheckpointException(
                    $"{state.Source}: '{name}' has shape {Shape.Format(savedTensor.Shape)} but the model expects " +
                    $"{Shape.Format(tensor.Dimensions)}.");
        }
        try
        {
            Model.LoadStateDict(state.ModelTensors, state.Source);
            Optimizer.LoadState(state.Optimizer, state.Source);
        }
        catch (FormatException e)
        {
            throw new CheckpointException(e.Message);
        }
        modelRng.State = state.ModelRngState;
        History.Clear();
        History.AddRange(state.History);
        StartEpoch = state.Epoch;
    }

    /// <summary>
    /// Runs the epochs from <see cref="StartEpoch"/> to the config's last and returns the history. On a device
    /// backend the datasets are uploaded once per call.
    /// </summary>
    public IReadOnlyList<EpochMetrics> Run(CancellationToken cancellation = default)
    {
        using var trainSource = CreateSource(train, new DataLoaderOptions
        {
            BatchSize = Config.BatchSize,
            Shuffle = true,
            Seed = Config.Seed ^ 0xDA7A5EEDUL,
            Augmentation = ToOptions(Config.Augmentation),
        });
        using var testSource = CreateSource(test, EvaluationOptions(Config.BatchSize));
        using var validationSource = Validation is null ? null
            : CreateSource(Validation, EvaluationOptions(Config.BatchSize));
        for (int epoch = StartEpoch; epoch < Config.Epochs; epoch++)
        {
            cancellation.ThrowIfCancellationRequested();
            var metrics = TrainEpoch(trainSource, testSource, validationSource, epoch, cancellation);
            History.Add(metrics);
            EpochCompleted?.Invoke(metrics);
        }
        return History;
    }

    private IBatchSource CreateSource(ImageDataset dataset, DataLoaderOptions options) =>
        BatchSources.Create(backend, DeviceDatasets, dataset, Normalization, options);

    /// <summary>Batches in dataset order without augmentation.</summary>
    private static DataLoaderOptions EvaluationOptions(int batchSize) =>
        new() { BatchSize = batchSize, Shuffle = false };

    private EpochMetrics TrainEpoch(IBatchSource trainSource, IBatchSource testSource,
        IBatchSource? validationSource, int epoch, CancellationToken cancellation)
    {
        Model.Train();
        var timer = Stopwatch.StartNew();
        int steps = trainSource.BatchesPerEpoch;
        double lossSum = 0;
        long correct = 0, seen = 0;
        float learningRate = 0;
        int step = 0;
        var logits = Array.Empty<float>();
        foreach (var batch in trainSource.Epoch(epoch))
        {
            cancellation.ThrowIfCancellationRequested();
            // Batch norm needs two values per channel; a trailing batch of one image is skipped.
            if (batch.Count < 2)
                continue;
            learningRate = Config.Schedule.At(epoch + (double)step / steps);
            Optimizer.LearningRate = learningRate;
            var (loss, batchCorrect) = TrainStep(trainSource, batch, ref logits);
            lossSum += loss * batch.Count;
            correct += batchCorrect;
            seen += batch.Count;
            step++;
            StepCompleted?.Invoke(new StepProgress(epoch, step, steps, loss, seen / timer.Elapsed.TotalSeconds));
        }
        double trainSeconds = timer.Elapsed.TotalSeconds;
        var validation = validationSource is null ? null : Evaluate(Model, validationSource, Validation!);
        var evaluation = Evaluate(Model, testSource, test);
        LastTestEvaluation = evaluation;
        if (!double.IsFinite(evaluation.Loss) || (validation is not null && !double.IsFinite(validation.Loss)))
            throw new TrainingDivergedException(
                $"After epoch {epoch + 1} the evaluation loss is {evaluation.Loss}, so the weights overflowed; " +
                $"lower optimizer.lr (now {Config.Optimizer.LearningRate}) or add schedule.warmup_epochs.");
        // The float rate goes through its shortest text, so metrics.json shows 0.05 and not 0.0500000007.
        double rate = double.Parse(learningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            System.Globalization.CultureInfo.InvariantCulture);
        return new EpochMetrics(epoch + 1, lossSum / Math.Max(1, seen), (double)correct / Math.Max(1, seen),
            evaluation.Loss, evaluation.Accuracy, timer.Elapsed.TotalSeconds, rate, seen / trainSeconds,
            validation?.Loss, validation?.Accuracy);
    }

    private static void RequireInputSize(ModelConfig model, ImageDataset dataset, string which)
    {
        if (dataset.Height != model.InputSize || dataset.Width != model.InputSize)
            throw new ConfigException(
                $"$.model.input_size: the {which} images are {dataset.Height}×{dataset.Width} but the model " +
                $"expects {model.InputSize}×{model.InputSize}; set model.input_size or use matching data.");
    }

    /// <summary>Forward, loss, backward and update on one batch; returns the loss and the correct count.</summary>
    private (double Loss, int Correct) TrainStep(IBatchSource source, Batch batch, ref float[] logits)
    {
        using var scope = new TensorScope();
        var (input, labels) = source.Load(batch);
        Optimizer.ZeroGrad();
        var output = Model.Call(input);
        var loss = F.SoftmaxCrossEntropy(output, labels, Config.LabelSmoothing);
        loss.Backward();
        Optimizer.Step();
        double lossValue = loss.Item();
        if (!double.IsFinite(lossValue))
            throw new TrainingDivergedException(
                $"The training loss became {lossValue}; lower optimizer.lr (now {Optimizer.LearningRate}) or add " +
                "a warm-up (schedule.warmup_epochs).");
        return (lossValue, CountCorrect(output, batch.Labels, ref logits));
    }

    /// <summary>Loss, accuracy and confusion matrix of <paramref name="model"/> in evaluation mode.</summary>
    public static Evaluation Evaluate(Module model, ImageDataset dataset, Normalization normalization, int batchSize)
    {
        var backend = model.Parameters().First().Backend;
        using var source = BatchSources.Create(backend, dataset, normalization, EvaluationOptions(batchSize));
        return Evaluate(model, source, dataset);
    }

    /// <summary>Evaluates on the batches of <paramref name="source"/>, the source of <paramref name="dataset"/>.</summary>
    private static Evaluation Evaluate(Module model, IBatchSource source, ImageDataset dataset)
    {
        bool wasTraining = model.Training;
        model.Eval();
        var confusion = new int[dataset.ClassCount, dataset.ClassCount];
        double lossSum = 0;
        long correct = 0;
        var logits = Array.Empty<float>();
        using var noGrad = GradMode.NoGrad();
        foreach (var batch in source.Epoch(0))
        {
            using var scope = new TensorScope();
            var (input, labels) = source.Load(batch);
            var output = model.Call(input);
            lossSum += F.SoftmaxCrossEntropy(output, labels).Item() * batch.Count;
            int classes = output[1];
            Download(output, ref logits);
            for (int i = 0; i < batch.Count; i++)
            {
                int predicted = ArgMax(logits.AsSpan(i * classes, classes));
                int actual = (int)batch.Labels[i];
                confusion[actual, predicted]++;
                if (predicted == actual)
                    correct++;
            }
        }
        model.Train(wasTraining);
        return new Evaluation(lossSum / Math.Max(1, dataset.Count), (double)correct / Math.Max(1, dataset.Count),
            confusion);
    }

    public static AugmentationOptions ToOptions(AugmentationConfig config) => new()
    {
        Flip = config.Flip ? new FlipOptions() : null,
        Crop = config.CropPadding > 0 ? new CropOptions { Padding = config.CropPadding } : null,
        Erasing = config.Erasing ? new ErasingOptions() : null,
    };

    private static int CountCorrect(Tensor output, ReadOnlySpan<float> labels, ref float[] logits)
    {
        Download(output, ref logits);
        int classes = output[1];
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (ArgMax(logits.AsSpan(i * classes, classes)) == (int)labels[i])
                correct++;
        }
        return correct;
    }

    /// <summary>Copies logits to a host buffer that grows only when a batch is larger than any before.</summary>
    private static void Download(Tensor output, ref float[] buffer)
    {
        if (buffer.Length < output.Length)
            buffer = new float[output.Length];
        output.Backend.Download(output, buffer.AsSpan(0, (int)output.Length));
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }
}

/// <summary>The loss became NaN or infinite.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
