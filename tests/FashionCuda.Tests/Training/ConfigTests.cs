using FashionCuda.Models;
using FashionCuda.Optim;
using FashionCuda.Training;

namespace FashionCuda.Tests.Training;

public class ConfigTests
{
    [Fact]
    public void Parse_ReadsEverySection()
    {
        var config = TrainConfig.Parse("""
            {
              "model": { "name": "alexnet-fm", "width": 8, "conv_layers": 7, "classifier": "gap", "batch_norm": true },
              "optimizer": { "name": "adamw", "lr": 0.002, "weight_decay": 0.05 },
              "schedule": { "name": "multistep", "milestones": [3, 6], "gamma": 0.5, "warmup_epochs": 1 },
              "augmentation": { "flip": true, "crop_padding": 2, "erasing": true },
              "epochs": 9, "batch_size": 32, "seed": 5, "label_smoothing": 0.1
            }
            """);
        Assert.Equal(8, config.Model.Width);
        Assert.Equal(7, config.Model.AlexNet.ConvLayers);
        Assert.Equal(ClassifierHead.GlobalAveragePool, config.Model.AlexNet.Classifier);
        Assert.True(config.Model.AlexNet.BatchNorm);
        Assert.Equal("adamw", config.Optimizer.Name);
        Assert.Equal(0.002f, config.Optimizer.LearningRate);
        Assert.Equal(0.05f, config.Optimizer.WeightDecay);
        Assert.Equal(ScheduleKind.MultiStep, config.Schedule.Kind);
        Assert.Equal([3, 6], config.Schedule.Milestones);
        Assert.Equal(9, config.Schedule.TotalEpochs);
        Assert.Equal(0.002f, config.Schedule.BaseLearningRate);
        Assert.True(config.Augmentation.Flip);
        Assert.Equal(2, config.Augmentation.CropPadding);
        Assert.True(config.Augmentation.Erasing);
        Assert.Equal(9, config.Epochs);
        Assert.Equal(32, config.BatchSize);
        Assert.Equal(5UL, config.Seed);
        Assert.Equal(0.1f, config.LabelSmoothing);
    }

    [Fact]
    public void ToJson_RoundTrips()
    {
        var config = TrainConfig.Parse("""
            { "model": { "width": 12, "classifier": "linear" }, "optimizer": { "name": "sgd", "lr": 0.1 },
              "schedule": { "name": "step", "step_epochs": 2 }, "epochs": 4 }
            """);
        var again = TrainConfig.Parse(config.ToJson());
        Assert.Equal(config.ToJson(), again.ToJson());
        Assert.Equal(ClassifierHead.Linear, again.Model.AlexNet.Classifier);
        Assert.Equal(ScheduleKind.Step, again.Schedule.Kind);
    }

    [Theory]
    [InlineData("""{ "epochs": 3, "epoch": 4 }""", "$.epoch: unknown key", "epochs")]
    [InlineData("""{ "model": { "widht": 3 } }""", "$.model.widht: unknown key", "width")]
    [InlineData("""{ "model": { "name": "vgg" } }""", "$.model.name: 'vgg' is not allowed", "'alexnet-fm'")]
    [InlineData("""{ "optimizer": { "name": "rmsprop" } }""", "$.optimizer.name", "'adamw'")]
    [InlineData("""{ "optimizer": { "lr": "fast" } }""", "$.optimizer.lr: expected a number", "\"fast\"")]
    [InlineData("""{ "optimizer": { "lr": -1 } }""", "$.optimizer.lr: -1 is out of range", "from 0")]
    [InlineData("""{ "batch_size": 0 }""", "$.batch_size: 0 is out of range", "1 to 65536")]
    [InlineData("""{ "model": { "conv_layers": 4 } }""", "$.model.conv_layers: 4 is not allowed", "3, 5 or 7")]
    [InlineData("""{ "schedule": { "milestones": [2, "x"] } }""", "$.schedule.milestones[1]", "integer")]
    [InlineData("""{ "augmentation": { "flip": 1 } }""", "$.augmentation.flip: expected true or false", "1")]
    [InlineData("""{ "model": 3 }""", "$.model: expected an object", "number")]
    public void Parse_RejectsBadValuesWithPath(string json, string expectedStart, string expectedHint)
    {
        var error = Assert.Throws<ConfigException>(() => TrainConfig.Parse(json));
        Assert.StartsWith(expectedStart, error.Message);
        Assert.Contains(expectedHint, error.Message);
    }

    [Fact]
    public void Parse_RejectsInvalidJson()
    {
        var error = Assert.Throws<ConfigException>(() => TrainConfig.Parse("{ \"epochs\": ", "my.json"));
        Assert.StartsWith("my.json is not valid JSON", error.Message);
    }

    [Fact]
    public void Load_NamesMissingFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid()}.json");
        var error = Assert.Throws<ConfigException>(() => TrainConfig.Load(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Schedules_FollowTheirDefinitions()
    {
        var step = new LearningRateSchedule { Kind = ScheduleKind.Step, BaseLearningRate = 1f, Gamma = 0.5f, StepEpochs = 2 };
        Assert.Equal(1f, step.At(1.9));
        Assert.Equal(0.5f, step.At(2.0));
        Assert.Equal(0.25f, step.At(4.5));
        var multi = new LearningRateSchedule
        {
            Kind = ScheduleKind.MultiStep, BaseLearningRate = 1f, Gamma = 0.1f, Milestones = [3, 5],
        };
        Assert.Equal(1f, multi.At(2.99));
        Assert.Equal(0.1f, multi.At(3), 6);
        Assert.Equal(0.01f, multi.At(5), 6);
        var cosine = new LearningRateSchedule
        {
            Kind = ScheduleKind.Cosine, BaseLearningRate = 1f, TotalEpochs = 10, WarmupEpochs = 2,
            WarmupStartFactor = 0.1f,
        };
        Assert.Equal(0.1f, cosine.At(0), 6);
        Assert.Equal(0.55f, cosine.At(1), 6);
        Assert.Equal(1f, cosine.At(2), 6);
        Assert.Equal(0.5f, cosine.At(6), 6);
        Assert.Equal(0f, cosine.At(10), 6);
    }
}
