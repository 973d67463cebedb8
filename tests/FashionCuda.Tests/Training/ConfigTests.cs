using FashionCuda.Models;
using FashionCuda.Nn;
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
    [InlineData("""{ "epochs": 3, "arms": "x" }""", "$.arms: unknown key", "epochs")]
    [InlineData("""{ "model": { "widht": 3 } }""", "$.model.widht: unknown key", "width")]
    [InlineData("""{ "model": { "name": "vgg" } }""", "$.model.name: 'vgg' is not allowed", "'alexnet-fm'")]
    [InlineData("""{ "optimizer": { "name": "rmsprop" } }""", "$.optimizer.name", "'adamw'")]
    [InlineData("""{ "optimizer": { "lr": "fast" } }""", "$.optimizer.lr: expected a number", "\"fast\"")]
    [InlineData("""{ "optimizer": { "lr": -1 } }""", "$.optimizer.lr: -1 is out of range", "above 0")]
    [InlineData("""{ "batch_size": 0 }""", "$.batch_size: 0 is out of range", "2 to 65536")]
    [InlineData("""{ "model": { "conv_layers": 4 } }""", "$.model.conv_layers: 4 is not allowed", "3, 5 or 7")]
    [InlineData("""{ "schedule": { "name": "multistep", "milestones": [2, "x"] } }""", "$.schedule.milestones[1]", "integer")]
    [InlineData("""{ "schedule": { "name": "multistep", "milestones": [4, 2] } }""", "$.schedule.milestones", "increase")]
    [InlineData("""{ "schedule": { "name": "constant", "gamma": 0.5 } }""", "$.schedule.gamma: unknown key", "warmup_epochs")]
    [InlineData("""{ "optimizer": { "name": "sgd", "beta1": 0.9 } }""", "$.optimizer.beta1: unknown key", "momentum")]
    [InlineData("""{ "optimizer": { "name": "adam", "eps": 0 } }""", "$.optimizer.eps: 0 is out of range", "above 0")]
    [InlineData("""{ "epochs": 2, "epochs": 3 }""", "$.epochs: the key appears twice", "keep one")]
    [InlineData("""{ "epochs": 2, "schedule": { "warmup_epochs": 3 } }""", "$.schedule.warmup_epochs", "more than")]
    [InlineData("""{ "augmentation": { "flip": 1 } }""", "$.augmentation.flip: expected true or false", "1")]
    [InlineData("""{ "model": 3 }""", "$.model: expected an object", "number")]
    public void Parse_RejectsBadValuesWithPath(string json, string expectedStart, string expectedHint)
    {
        var error = Assert.Throws<ConfigException>(() => TrainConfig.Parse(json));
        Assert.StartsWith(expectedStart, error.Message);
        Assert.Contains(expectedHint, error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n ")]
    public void Parse_RejectsEmptyFile(string json)
    {
        var error = Assert.Throws<ConfigException>(() => TrainConfig.Parse(json, "run.json"));
        Assert.Equal("run.json is empty; it should hold one JSON object, { ... }.", error.Message);
    }

    [Fact]
    public void Parse_ReadsResNetWithCbam()
    {
        var config = TrainConfig.Parse("""
            { "model": { "name": "resnet-narrow", "cbam": { "mode": "spatial", "reduction": 8, "kernel_size": 3 },
                         "input_channels": 3, "input_size": 32, "classes": 5 } }
            """);
        Assert.Equal("resnet-narrow", config.Model.Name);
        Assert.Equal(16, config.Model.Width);
        Assert.NotNull(config.Model.Cbam);
        Assert.Equal(CbamMode.Spatial, config.Model.Cbam.Mode);
        Assert.Equal(8, config.Model.Cbam.Reduction);
        Assert.Equal(3, config.Model.Cbam.KernelSize);
        var options = config.Model.ToResNetOptions();
        Assert.Equal([3, 3, 3], options.Blocks);
        Assert.Equal(3, options.InputChannels);
        Assert.Equal(32, options.InputSize);
        Assert.Equal(5, options.Classes);
        Assert.Same(config.Model.Cbam, options.Cbam);
    }

    [Theory]
    [InlineData("alexnet-fm", 64)]
    [InlineData("resnet-18", 64)]
    [InlineData("resnet-narrow", 16)]
    public void Parse_DefaultWidthDependsOnModel(string name, int width)
    {
        var config = TrainConfig.Parse($$"""{ "model": { "name": "{{name}}" } }""");
        Assert.Equal(width, config.Model.Width);
        Assert.Null(config.Model.Cbam);
    }

    [Fact]
    public void Parse_AlexNetCbamPlacementReachesTheModel()
    {
        var config = TrainConfig.Parse("""
            { "model": { "width": 4, "cbam": { "placement": "after-conv5", "mode": "channel" } } }
            """);
        var options = config.Model.ToAlexNetFmOptions();
        Assert.Equal(4, options.Width);
        Assert.Equal(CbamPlacement.AfterConv5, options.CbamPlacement);
        Assert.NotNull(options.Cbam);
        Assert.Equal(CbamMode.Channel, options.Cbam.Mode);
        Assert.Equal(16, options.Cbam.Reduction);
        Assert.Equal(7, options.Cbam.KernelSize);
        Assert.True(options.HasCbamAfter(5));
        Assert.False(options.HasCbamAfter(4));
    }

    [Theory]
    [InlineData("""{ "model": { "name": "resnet-18", "cbam": null } }""")]
    [InlineData("""{ "model": { "name": "resnet-narrow", "width": 8, "cbam": { "mode": "both" } } }""")]
    [InlineData("""{ "model": { "name": "resnet-18", "cbam": { "reduction": 4 }, "classes": 7 } }""")]
    [InlineData("""{ "model": { "conv_layers": 3, "cbam": { "placement": "every-conv", "kernel_size": 3 } } }""")]
    [InlineData("""{ "model": { "name": "alexnet-fm", "input_channels": 3, "input_size": 32 } }""")]
    public void ToJson_RoundTripsModelSection(string json)
    {
        var config = TrainConfig.Parse(json);
        var again = TrainConfig.Parse(config.ToJson());
        Assert.Equal(config.ToJson(), again.ToJson());
        Assert.Equal(config.Model.Name, again.Model.Name);
        Assert.Equal(config.Model.Width, again.Model.Width);
        Assert.Equal(config.Model.Cbam, again.Model.Cbam);
        Assert.Equal(config.Model.CbamPlacement, again.Model.CbamPlacement);
        Assert.Equal(config.Model.AlexNet, again.Model.AlexNet);
        Assert.Equal(config.Model.Classes, again.Model.Classes);
        Assert.Equal(config.Model.InputSize, again.Model.InputSize);
    }

    [Theory]
    [InlineData("""{ "model": { "name": "resnet-18", "cbam": { "placement": "every-conv" } } }""",
        "$.model.cbam.placement: a ResNet puts CBAM in every BasicBlock", "alexnet-fm")]
    [InlineData("""{ "model": { "name": "resnet-narrow", "conv_layers": 5 } }""",
        "$.model.conv_layers: applies only to alexnet-fm", "Remove the key")]
    [InlineData("""{ "model": { "name": "resnet-18", "dropout": 0.2 } }""", "$.model.dropout", "alexnet-fm")]
    [InlineData("""{ "model": { "cbam": { "mode": "both" } } }""", "$.model.cbam.placement: missing",
        "'after-conv2'")]
    [InlineData("""{ "model": { "conv_layers": 3, "cbam": { "placement": "after-conv5" } } }""",
        "$.model.cbam.placement: 'after-conv5' needs at least 5 conv layers", "3")]
    [InlineData("""{ "model": { "cbam": { "placement": "after-conv3" } } }""",
        "$.model.cbam.placement: 'after-conv3' is not allowed", "'every-conv'")]
    [InlineData("""{ "model": { "name": "resnet-18", "cbam": { "kernel_size": 5 } } }""",
        "$.model.cbam.kernel_size: 5 is not allowed", "3 or 7")]
    [InlineData("""{ "model": { "name": "resnet-18", "cbam": { "mode": "pixel" } } }""",
        "$.model.cbam.mode: 'pixel' is not allowed", "'spatial'")]
    [InlineData("""{ "model": { "name": "resnet-18", "cbam": { "reduction": 0 } } }""",
        "$.model.cbam.reduction: 0 is out of range", "1 to 4096")]
    [InlineData("""{ "model": { "name": "resnet-18", "cbam": { "ratio": 8 } } }""",
        "$.model.cbam.ratio: unknown key", "reduction")]
    [InlineData("""{ "model": { "name": "resnet-18", "cbam": 16 } }""", "$.model.cbam: expected an object",
        "number")]
    [InlineData("""{ "model": { "input_size": 6 } }""", "$.model.input_size: 6 is out of range", "8 to 4096")]
    [InlineData("""{ "model": { "classes": 1 } }""", "$.model.classes: 1 is out of range", "2 to 100000")]
    [InlineData("""{ "model": { "name": "resnet-18", "hiden": 3 } }""", "$.model.hiden: unknown key", "width")]
    public void Parse_RejectsBadModelSettingsWithPath(string json, string expectedStart, string expectedHint)
    {
        var error = Assert.Throws<ConfigException>(() => TrainConfig.Parse(json));
        Assert.StartsWith(expectedStart, error.Message);
        Assert.Contains(expectedHint, error.Message);
    }

    [Fact]
    public void ResNetUnknownKey_ListsResNetKeys()
    {
        var error = Assert.Throws<ConfigException>(() =>
            TrainConfig.Parse("""{ "model": { "name": "resnet-18", "depth": 3 } }"""));
        Assert.Contains("cbam", error.Message);
        Assert.DoesNotContain("conv_layers", error.Message);
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
