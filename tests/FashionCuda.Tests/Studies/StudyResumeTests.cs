using FashionCuda.Backends.Cpu;
using FashionCuda.Studies;
using FashionCuda.Training;

namespace FashionCuda.Tests.Studies;

/// <summary>
/// A study run stopped part-way continues from its training state on the next run of the study, and its result
/// is the one an uninterrupted run gives.
/// </summary>
public sealed class StudyResumeTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-resume-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Epochs of every run in these tests.</summary>
    private const int Epochs = 4;

    private static StudyDefinition Study(int validation = 16) => StudyDefinition.Parse($$"""
        {
          "name": "tiny",
          "base": { "model": { "width": 2, "hidden": 8, "classifier": "linear" }, "epochs": {{Epochs}},
                    "batch_size": 16, "validation_count": {{validation}}, "test_limit": 20,
                    "augmentation": { "flip": true } },
          "seeds": [1],
          "arms": [ { "name": "a" } ]
        }
        """, "tiny.json");

    private StudyRunner Runner(string folder, int validation = 16, ulong trainSeed = 1) =>
        new(Study(validation), quick: false, Path.Combine(directory, folder), new CpuBackend(),
            StudyRunnerTests.RandomImages(64, trainSeed), StudyRunnerTests.RandomImages(30, 2));

    private string RunFolder(string folder) => Path.Combine(directory, folder, "a", "seed-1");

    /// <summary>Trains the study until epoch <paramref name="stopAfter"/> has saved its state, then stops it.</summary>
    private void Interrupt(string folder, int stopAfter, int validation = 16)
    {
        var runner = Runner(folder, validation);
        using var cancellation = new CancellationTokenSource();
        // Cancelling ends the run before its next epoch; after the last epoch only an exception stops it.
        runner.EpochCompleted += (_, metrics) =>
        {
            if (metrics.Epoch == stopAfter && stopAfter == Epochs)
                throw new TimeoutException("stopped after the last epoch");
            if (metrics.Epoch == stopAfter)
                cancellation.Cancel();
        };
        if (stopAfter == Epochs)
            Assert.Throws<TimeoutException>(() => runner.Run(cancellation.Token));
        else
            Assert.Throws<OperationCanceledException>(() => runner.Run(cancellation.Token));
        Assert.False(File.Exists(Path.Combine(RunFolder(folder), RunResult.FileName)));
        Assert.True(File.Exists(Path.Combine(RunFolder(folder), RunCheckpoint.StateFileName)));
    }

    /// <summary>Runs the study to the end and returns its result, the epoch it started from and any rejections.</summary>
    private (RunResult Result, int StartEpoch, List<string> Rejections) Finish(string folder, int validation = 16,
        ulong trainSeed = 1)
    {
        var runner = Runner(folder, validation, trainSeed);
        int startEpoch = -1;
        var rejections = new List<string>();
        runner.RunStarted += (_, trainer) => startEpoch = trainer.StartEpoch;
        runner.ResumeRejected += (_, problem) => rejections.Add(problem);
        var result = runner.Run().Single();
        return (result, startEpoch, rejections);
    }

    /// <summary>
    /// The epochs before a stop come back from the saved state, which keeps 6 decimals as metrics.json does, so
    /// their figures match to that.
    /// </summary>
    private const double Rounding = 1e-6;

    private static void AssertSameRun(RunResult expected, RunResult actual)
    {
        Assert.Equal(expected.SelectedEpoch, actual.SelectedEpoch);
        Assert.Equal(expected.TestAccuracy, actual.TestAccuracy, Rounding);
        Assert.Equal(expected.TestLoss, actual.TestLoss, Rounding);
        Assert.Equal(expected.ValidationAccuracy ?? -1, actual.ValidationAccuracy ?? -1, Rounding);
        Assert.Equal(expected.SecondsPerEpoch > 0, actual.SecondsPerEpoch > 0);
        Assert.Equal(expected.Confusion, actual.Confusion);
        Assert.Equal(expected.Epochs, actual.Epochs);
        // Seconds and throughput differ between runs; every learned figure must not.
        foreach (var (before, after) in expected.History.Zip(actual.History))
        {
            Assert.Equal(before.TrainLoss, after.TrainLoss, Rounding);
            Assert.Equal(before.TrainAccuracy, after.TrainAccuracy, Rounding);
            Assert.Equal(before.TestLoss, after.TestLoss, Rounding);
            Assert.Equal(before.TestAccuracy, after.TestAccuracy, Rounding);
            Assert.Equal(before.ValidationLoss ?? -1, after.ValidationLoss ?? -1, Rounding);
            Assert.Equal(before.ValidationAccuracy ?? -1, after.ValidationAccuracy ?? -1, Rounding);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Resume_MatchesUninterruptedRun(int stopAfter)
    {
        var (uninterrupted, fromStart, _) = Finish("whole");
        Interrupt("stopped", stopAfter);

        var (resumed, startEpoch, rejections) = Finish("stopped");

        Assert.Equal(0, fromStart);
        Assert.Equal(stopAfter, startEpoch);
        Assert.Empty(rejections);
        AssertSameRun(uninterrupted, resumed);
        Assert.False(File.Exists(Path.Combine(RunFolder("stopped"), RunCheckpoint.StateFileName)));
        Assert.Equal(RunState.Finished, RunResult.Inspect(RunFolder("stopped"), Runner("stopped").Runs[0]).State);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(0)]
    public void Resume_AfterLastEpochEvaluatesAgain(int validation)
    {
        // Stopped between the last epoch's state and results.json, so the rerun trains no epoch and takes the
        // confusion matrix of the selected epoch from its checkpoint.
        var (uninterrupted, _, _) = Finish("whole", validation);
        Interrupt("stopped", stopAfter: Epochs, validation);
        // With validation the selected epoch is an earlier one, so its checkpoint is not the final model.
        if (validation > 0)
            Assert.True(uninterrupted.SelectedEpoch < Epochs, $"selected epoch {uninterrupted.SelectedEpoch}");

        var (resumed, startEpoch, rejections) = Finish("stopped", validation);

        Assert.Equal(Epochs, startEpoch);
        Assert.Empty(rejections);
        AssertSameRun(uninterrupted, resumed);
        Assert.Equal(validation > 0, resumed.SelectedByValidation);
    }

    [Fact]
    public void SavedEpoch_ReadsStateOrNull()
    {
        Interrupt("stopped", stopAfter: 2);
        string state = Path.Combine(RunFolder("stopped"), RunCheckpoint.StateFileName);

        Assert.Equal(2, RunCheckpoint.SavedEpoch(RunFolder("stopped")));
        Assert.Null(RunCheckpoint.SavedEpoch(Path.Combine(directory, "no-such-run")));
        File.WriteAllBytes(state, [1, 2, 3]);
        Assert.Null(RunCheckpoint.SavedEpoch(RunFolder("stopped")));
    }

    [Fact]
    public void Resume_DamagedStateRestarts()
    {
        var (uninterrupted, _, _) = Finish("whole");
        Interrupt("stopped", stopAfter: 2);
        string state = Path.Combine(RunFolder("stopped"), RunCheckpoint.StateFileName);
        File.WriteAllBytes(state, [1, 2, 3]);

        var (resumed, startEpoch, rejections) = Finish("stopped");

        Assert.Equal(0, startEpoch);
        Assert.Contains(state, Assert.Single(rejections));
        Assert.EndsWith("; the study trains the run again from its first epoch.", rejections[0]);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(rejections[0], "from its first epoch"));
        AssertSameRun(uninterrupted, resumed);
    }

    [Fact]
    public void Resume_MissingBestCheckpointRestarts()
    {
        Interrupt("stopped", stopAfter: 2);
        string best = Path.Combine(RunFolder("stopped"), StudyRunner.BestCheckpointFileName);
        File.Delete(best);

        var (_, startEpoch, rejections) = Finish("stopped");

        Assert.Equal(0, startEpoch);
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(best)} is missing, but the run selects " +
                       "epoch [12] by validation accuracy; the study trains the run again from its first epoch\\.$",
            Assert.Single(rejections));
    }

    [Fact]
    public void Resume_OtherConfigRestarts()
    {
        // The same folder with another validation split: the unfinished run is not the run the study now describes.
        Interrupt("stopped", stopAfter: 2, validation: 16);

        var (_, startEpoch, rejections) = Finish("stopped", validation: 8);

        Assert.Equal(0, startEpoch);
        Assert.Equal($"{Path.Combine(RunFolder("stopped"), RunCheckpoint.StateFileName)} was saved with a different " +
                     "config: $.config.validation_count is 16 in the saved state, 8 now; the study trains the run " +
                     "again from its first epoch.", Assert.Single(rejections));
    }

    [Fact]
    public void Resume_OtherImagesRestarts()
    {
        Interrupt("stopped", stopAfter: 2);

        var (_, startEpoch, rejections) = Finish("stopped", trainSeed: 7);

        Assert.Equal(0, startEpoch);
        Assert.Matches("^.*training-state.safetensors was saved with other images \\(fingerprint [0-9a-f]{12}, now " +
                       "[0-9a-f]{12}\\); the study trains the run again from its first epoch\\.$", Assert.Single(rejections));
    }

    [Fact]
    public void Resume_BestCheckpointAheadOfStateContinues()
    {
        // A stop after epoch 2's best checkpoint but before its state: the state is epoch 1's, and epoch 2 trains
        // again and saves the same checkpoint.
        var (uninterrupted, _, _) = Finish("whole");
        Interrupt("stopped", stopAfter: 1);
        string best = Path.Combine(RunFolder("stopped"), StudyRunner.BestCheckpointFileName);
        File.Copy(Path.Combine(RunFolder("whole"), StudyRunner.BestCheckpointFileName), best, overwrite: true);
        int bestEpoch = Checkpoint.ReadEpoch(SafeTensors.Read(best).Metadata, best)!.Value;
        Assert.True(bestEpoch > 1, $"best epoch {bestEpoch}");

        var (resumed, startEpoch, rejections) = Finish("stopped");

        Assert.Equal(1, startEpoch);
        Assert.Empty(rejections);
        AssertSameRun(uninterrupted, resumed);
    }
}
