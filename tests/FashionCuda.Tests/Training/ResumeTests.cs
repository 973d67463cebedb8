using FashionCuda.Backends.Cpu;
using FashionCuda.Data;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Tests.Training;

public sealed class ResumeTests : IDisposable
{
    private static readonly string[] ClassNames = Enumerable.Range(0, 10).Select(i => $"class {i}").ToArray();

    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-resume-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Random 28×28 images with labels; the same seed gives the same dataset.</summary>
    private static ImageDataset RandomDataset(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var pixels = new byte[count * 28 * 28];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)rng.NextInt(256);
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
            labels[i] = (byte)rng.NextInt(10);
        return new ImageDataset(pixels, labels, 28, 28);
    }

    // Dropout, batch norm, augmentation and a schedule that changes per step: every kind of state a resume
    // has to carry over.
    private static TrainConfig Config(string optimizer) => TrainConfig.Parse($$"""
        { "model": { "width": 2, "hidden": 16, "batch_norm": true, "dropout": 0.3 },
          "optimizer": { "name": "{{optimizer}}" },
          "schedule": { "name": "cosine", "warmup_epochs": 0.5 },
          "augmentation": { "flip": true, "crop_padding": 2, "erasing": true },
          "epochs": 3, "batch_size": 24, "seed": 5 }
        """);

    private static Dictionary<string, float[]> Weights(Trainer trainer) =>
        trainer.Model.StateDict().ToDictionary(entry => entry.Name, entry => entry.Tensor.ToArray());

    private static void AssertBitIdentical(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected)
        {
            var other = actual[name];
            int mismatch = Enumerable.Range(0, values.Length)
                .FirstOrDefault(i => BitConverter.SingleToInt32Bits(values[i]) !=
                                     BitConverter.SingleToInt32Bits(other[i]), -1);
            Assert.True(mismatch < 0,
                $"{name}[{mismatch}]: uninterrupted {values[Math.Max(0, mismatch)]}, resumed " +
                $"{other[Math.Max(0, mismatch)]}");
        }
    }

    /// <summary>Trains with a cancellation right after epoch 1 is saved, so the run stops there.</summary>
    private void TrainUntilInterrupted(TrainConfig config, ImageDataset train, ImageDataset test) =>
        TrainUntilInterrupted(directory, config, train, test);

    private static void TrainUntilInterrupted(string directory, TrainConfig config, ImageDataset train,
        ImageDataset test)
    {
        using var backend = new CpuBackend();
        var trainer = new Trainer(config, backend, train, test);
        using var cancellation = new CancellationTokenSource();
        trainer.EpochCompleted += metrics =>
        {
            RunCheckpoint.Save(directory, trainer, ClassNames);
            if (metrics.Epoch == 1)
                cancellation.Cancel();
        };
        Assert.Throws<OperationCanceledException>(() => trainer.Run(cancellation.Token));
        Assert.Single(trainer.History);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void Resume_AfterInterruptionGivesBitIdenticalWeights(string optimizer)
    {
        var config = Config(optimizer);
        var train = RandomDataset(72, 1);
        var test = RandomDataset(16, 2);
        using var backend = new CpuBackend();
        var uninterrupted = new Trainer(config, backend, train, test);
        uninterrupted.Run();

        TrainUntilInterrupted(config, train, test);
        var state = RunCheckpoint.Load(directory);
        Assert.Equal(1, state.Epoch);
        var resumed = new Trainer(state.Config, backend, train, test);
        resumed.Resume(state);
        Assert.Equal(1, resumed.StartEpoch);
        resumed.Run();

        AssertBitIdentical(Weights(uninterrupted), Weights(resumed));
        Assert.Equal(uninterrupted.Optimizer.StepCount, resumed.Optimizer.StepCount);
        Assert.Equal(3, resumed.History.Count);
        Assert.Equal(uninterrupted.History[^1].TrainLoss, resumed.History[^1].TrainLoss);
    }

    [Fact]
    public void Resume_WithoutOptimizerStateWouldDiffer()
    {
        // The control for the test above: weights alone are not enough to continue the same run.
        var config = Config("sgd");
        var train = RandomDataset(72, 1);
        var test = RandomDataset(16, 2);
        using var backend = new CpuBackend();
        var uninterrupted = new Trainer(config, backend, train, test);
        uninterrupted.Run();

        TrainUntilInterrupted(config, train, test);
        var state = RunCheckpoint.Load(directory);
        var fresh = new Trainer(state.Config, backend, train, test);
        var optimizerOfFreshRun = fresh.Optimizer.SaveState();
        fresh.Resume(state with { Optimizer = optimizerOfFreshRun });
        fresh.Run();

        var expected = Weights(uninterrupted);
        var actual = Weights(fresh);
        Assert.NotEqual(expected["classifier.6.weight"], actual["classifier.6.weight"]);
    }

    [Fact]
    public void OptimizerState_RoundTripsMomentumAndSteps()
    {
        using var backend = new CpuBackend();
        var parameter = Tensor.FromArray(backend, [1f, 2f, 3f], [3], persistent: true);
        parameter.RequiresGrad = true;
        var sgd = new FashionCuda.Optim.Sgd([parameter], 0.1f, momentum: 0.9f);
        sgd.ZeroGrad();
        backend.Fill(parameter.Grad!, 0.5f);
        sgd.Step();
        sgd.Step();

        var saved = sgd.SaveState();

        Assert.Equal("sgd", saved.Kind);
        Assert.Equal(2, saved.StepCount);
        Assert.Equal([2], saved.ParameterSteps);
        Assert.Equal([0.95f, 0.95f, 0.95f], saved.Tensors["0.momentum_buffer"].Values);
        var copy = new FashionCuda.Optim.Sgd([parameter], 0.1f, momentum: 0.9f);
        copy.LoadState(saved, "test");
        Assert.Equal(saved.Tensors["0.momentum_buffer"].Values, copy.SaveState().Tensors["0.momentum_buffer"].Values);
        Assert.Equal(2, copy.StepCount);
    }

    [Fact]
    public void OptimizerState_OfAnotherKindIsRejected()
    {
        using var backend = new CpuBackend();
        var parameter = Tensor.FromArray(backend, [1f], [1], persistent: true);
        var adam = new FashionCuda.Optim.Adam([parameter], 0.1f);
        var sgdState = new FashionCuda.Optim.OptimizerState("sgd", 1, [1], new Dictionary<string, (int[], float[])>());

        var error = Assert.Throws<FormatException>(() => adam.LoadState(sgdState, "run/state"));

        Assert.Contains("run/state", error.Message);
        Assert.Contains("sgd", error.Message);
    }

    [Fact]
    public void Load_TruncatedStateIsReportedWithPath()
    {
        TrainUntilInterrupted(Config("sgd"), RandomDataset(72, 1), RandomDataset(16, 2));
        string statePath = Path.Combine(directory, RunCheckpoint.StateFileName);
        var bytes = File.ReadAllBytes(statePath);
        File.WriteAllBytes(statePath, bytes[..^40]);

        var error = Assert.Throws<CheckpointException>(() => RunCheckpoint.Load(directory));

        Assert.Contains(statePath, error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.Contains("start it again with 'train --config", error.Message);
    }

    [Fact]
    public void Load_EpochMismatchIsReported()
    {
        TrainUntilInterrupted(Config("sgd"), RandomDataset(72, 1), RandomDataset(16, 2));
        string modelPath = Path.Combine(directory, Checkpoint.FileName);
        var (tensors, metadata) = SafeTensors.Read(modelPath);
        metadata["epoch"] = "0";
        SafeTensors.Write(modelPath, tensors.Select(t => (t.Key, t.Value.Shape, t.Value.Values)), metadata);

        var error = Assert.Throws<CheckpointException>(() => RunCheckpoint.Load(directory));

        Assert.Contains("epoch 0", error.Message);
        Assert.Contains("epoch 1", error.Message);
        Assert.Contains("without --resume", error.Message);
    }

    [Fact]
    public void Load_MissingStateFileNamesIt()
    {
        string path = Path.Combine(directory, Checkpoint.FileName);
        File.WriteAllBytes(path, [0]);

        var error = Assert.Throws<CheckpointException>(() => RunCheckpoint.Load(directory));

        Assert.Contains(RunCheckpoint.StateFileName, error.Message);
    }

    [Fact]
    public void Resume_WithChangedDataIsRejected()
    {
        var config = Config("sgd");
        var train = RandomDataset(72, 1);
        var test = RandomDataset(16, 2);
        TrainUntilInterrupted(config, train, test);
        var state = RunCheckpoint.Load(directory);
        using var backend = new CpuBackend();

        var fewer = new Trainer(state.Config, backend, train.Take(71), test);
        var error = Assert.Throws<CheckpointException>(() => fewer.Resume(state));
        Assert.Contains("changed since", error.Message);
        Assert.Contains("epoch 1", error.Message);

        var edited = (byte[])train.Labels.Clone();
        edited[0] = (byte)((edited[0] + 1) % 10);
        var relabelled = new Trainer(state.Config, backend, new ImageDataset(train.Pixels, edited, 28, 28), test);
        Assert.Throws<CheckpointException>(() => relabelled.Resume(state));

        var same = new Trainer(state.Config, backend, new ImageDataset((byte[])train.Pixels.Clone(),
            (byte[])train.Labels.Clone(), 28, 28), test);
        same.Resume(state);
        Assert.Equal(1, same.StartEpoch);
    }

    [Fact]
    public void Load_ModelOfAnotherRunIsRejected()
    {
        string other = Path.Combine(directory, "other");
        Directory.CreateDirectory(other);
        TrainUntilInterrupted(Config("sgd"), RandomDataset(72, 1), RandomDataset(16, 2));
        TrainUntilInterrupted(other, Config("sgd") with { Seed = 6 }, RandomDataset(72, 1), RandomDataset(16, 2));
        File.Copy(Path.Combine(other, Checkpoint.FileName), Path.Combine(directory, Checkpoint.FileName),
            overwrite: true);

        var error = Assert.Throws<CheckpointException>(() => RunCheckpoint.Load(directory));

        Assert.Contains("is not the model", error.Message);
        Assert.Contains("--config", error.Message);
    }

    [Fact]
    public void CheckpointLoad_RejectsTrainingState()
    {
        TrainUntilInterrupted(Config("sgd"), RandomDataset(72, 1), RandomDataset(16, 2));
        using var backend = new CpuBackend();

        var error = Assert.Throws<CheckpointException>(() =>
            Checkpoint.Load(Path.Combine(directory, RunCheckpoint.StateFileName), backend));

        Assert.Contains("training state", error.Message);
        Assert.Contains(Path.Combine(directory, Checkpoint.FileName), error.Message);
    }
}
