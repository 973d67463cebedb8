using System.Text.Json;
using FashionCuda.Autograd;
using FashionCuda.Backends.Cpu;
using FashionCuda.Tensors;
using FashionCuda.Tests.Studies;
using FashionCuda.Training;

namespace FashionCuda.Tests.Training;

public class ValidationSplitTests
{
    private static TrainConfig Config(int validation) => TrainConfig.Parse($$"""
        { "model": { "width": 2, "hidden": 8, "classifier": "linear" }, "epochs": 1, "batch_size": 16,
          "validation_count": {{validation}} }
        """);

    [Fact]
    public void Trainer_HoldsOutValidationAndReportsIt()
    {
        var trainer = new Trainer(Config(12), new CpuBackend(), StudyRunnerTests.RandomImages(60, 1),
            StudyRunnerTests.RandomImages(20, 2));
        Assert.Equal(12, trainer.Validation!.Count);
        Assert.Equal(48, trainer.TrainCount);
        var epoch = Assert.Single(trainer.Run());
        Assert.NotNull(epoch.ValidationAccuracy);
        Assert.NotNull(epoch.ValidationLoss);
        Assert.InRange(epoch.ValidationAccuracy!.Value, 0, 1);
        Assert.NotNull(trainer.LastTestEvaluation);

        using var json = JsonDocument.Parse(MetricsFiles.ToJson(trainer.History));
        Assert.True(json.RootElement[0].TryGetProperty("validation_accuracy", out _));
        Assert.EndsWith(",validation_loss,validation_accuracy", MetricsFiles.ToCsv(trainer.History).Split('\n')[0]);
        var roundTrip = Assert.Single(MetricsFiles.ReadJson(WriteTemporary(MetricsFiles.ToJson(trainer.History))));
        Assert.Equal(epoch.ValidationAccuracy!.Value, roundTrip.ValidationAccuracy!.Value, 6);
    }

    [Fact]
    public void Trainer_WithoutSplitWritesNoValidationKeys()
    {
        var trainer = new Trainer(Config(0), new CpuBackend(), StudyRunnerTests.RandomImages(32, 1),
            StudyRunnerTests.RandomImages(20, 2));
        Assert.Null(trainer.Validation);
        var epoch = Assert.Single(trainer.Run());
        Assert.Null(epoch.ValidationAccuracy);
        Assert.DoesNotContain("validation", MetricsFiles.ToJson(trainer.History));
        Assert.DoesNotContain("validation", MetricsFiles.ToCsv(trainer.History));
    }

    [Fact]
    public void Trainer_SameSeedGivesSameSplit()
    {
        var data = StudyRunnerTests.RandomImages(60, 1);
        var test = StudyRunnerTests.RandomImages(20, 2);
        var a = new Trainer(Config(12), new CpuBackend(), data, test).Validation!;
        var b = new Trainer(Config(12), new CpuBackend(), data, test).Validation!;
        var c = new Trainer(Config(12) with { Seed = 9 }, new CpuBackend(), data, test).Validation!;
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, c.Pixels);
    }

    [Fact]
    public void Trainer_RejectsSplitOfWholeTrainingSet()
    {
        var error = Assert.Throws<ConfigException>(() => new Trainer(Config(32), new CpuBackend(),
            StudyRunnerTests.RandomImages(32, 1), StudyRunnerTests.RandomImages(20, 2)));
        Assert.StartsWith("$.validation_count: 32 leaves no training images", error.Message);
    }

    [Fact]
    public void Config_RoundTripsValidationCount()
    {
        var config = Config(5000);
        Assert.Equal(5000, config.ValidationCount);
        Assert.Equal(5000, TrainConfig.Parse(config.ToJson()).ValidationCount);
        Assert.Throws<ConfigException>(() => TrainConfig.Parse("""{ "validation_count": -1 }"""));
    }

    [Fact]
    public void Tape_TimesEachEntryWhenAsked()
    {
        var backend = new CpuBackend();
        var x = Tensor.FromArray(backend, [1f, -2f, 3f, 0.5f, 2f, -1f], [2, 3], persistent: true);
        x.RequiresGrad = true;
        var labels = Tensor.FromArray(backend, [0f, 2f], [2], persistent: true);
        var tape = Tape.Current;
        tape.TimeBackward = true;
        try
        {
            using var scope = new TensorScope();
            int start = tape.Count;
            var loss = F.SoftmaxCrossEntropy(F.Relu(x), labels);
            int recorded = tape.Count;
            loss.Backward();
            Assert.Equal(recorded, tape.LastBackwardTimes.Length);
            Assert.True(recorded - start >= 2);
            Assert.True(tape.LastBackwardTimes[start..recorded].Aggregate(TimeSpan.Zero, (a, b) => a + b) >
                        TimeSpan.Zero);
        }
        finally
        {
            tape.TimeBackward = false;
        }
    }

    private static string WriteTemporary(string text)
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, text);
        return path;
    }
}
