using System.Text.Json;
using FashionCuda.Data;
using FashionCuda.Models;
using FashionCuda.Optim;

namespace FashionCuda.Training;

/// <summary>Optimizer settings; <c>Name</c> is sgd, adam or adamw.</summary>
public sealed record OptimizerConfig
{
    public string Name { get; init; } = "sgd";

    public float LearningRate { get; init; } = 0.05f;

    public float Momentum { get; init; } = 0.9f;

    public float Dampening { get; init; }

    public bool Nesterov { get; init; } = true;

    public float WeightDecay { get; init; } = 5e-4f;

    public float Beta1 { get; init; } = 0.9f;

    public float Beta2 { get; init; } = 0.999f;

    public float Epsilon { get; init; } = 1e-8f;
}

/// <summary>Training-time augmentation of 28×28 images; each is off unless set.</summary>
public sealed record AugmentationConfig
{
    /// <summary>Random horizontal flip with probability 0.5.</summary>
    public bool Flip { get; init; }

    /// <summary>Random crop after zero padding by this many pixels on each side; 0 turns it off.</summary>
    public int CropPadding { get; init; }

    /// <summary>Random erasing (probability 0.5, area 2–33 %, aspect ratio 0.3–3.3) after normalization.</summary>
    public bool Erasing { get; init; }
}

/// <summary>
/// Where the images come from: <c>fashion-mnist</c> (the IDX files, 1×28×28) or <c>folder</c> (photos read by
/// <see cref="ImageFolder"/>, decoded to <see cref="Channels"/>×<see cref="Size"/>×<see cref="Size"/>).
/// </summary>
public sealed record DataConfig
{
    public static readonly string[] KindNames = ["fashion-mnist", "folder"];
    public static readonly string[] ResizeNames = ["crop", "pad"];

    public string Kind { get; init; } = "fashion-mnist";

    /// <summary>
    /// Folder or CSV list of a <c>folder</c> dataset, or the IDX folder of Fashion-MNIST (null: the usual search).
    /// <see cref="TrainConfig.Load"/> resolves a relative path against the config file's folder.
    /// </summary>
    public string? Path { get; init; }

    /// <summary>1 or 3; Fashion-MNIST has 1. Photo folders default to 3.</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Side of the square input; Fashion-MNIST has 28. Photo folders default to 32.</summary>
    public int Size { get; init; } = 28;

    public ResizeMode Resize { get; init; } = ResizeMode.Crop;

    /// <summary>Share of each class held out for testing when a folder has no train/ and test/ subfolders.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Whether decoded photos are cached on disk between epochs and runs.</summary>
    public bool Cache { get; init; } = true;

    public bool IsFolder => Kind == "folder";

    /// <summary>Returns the decoding settings of a photo folder.</summary>
    public ImageTransform ToTransform() => new() { Channels = Channels, Size = Size, Resize = Resize };
}

/// <summary>The resolved configuration of one training run, as read from JSON and written back beside its results.</summary>
public sealed record TrainConfig
{
    /// <summary>File name of the resolved config in a run folder.</summary>
    public const string FileName = "config.json";

    public static readonly string[] ModelNames = ModelConfig.Names;
    public static readonly string[] OptimizerNames = ["sgd", "adam", "adamw"];
    public static readonly string[] ScheduleNames = ["constant", "step", "multistep", "cosine"];

    public ModelConfig Model { get; init; } = new();

    public OptimizerConfig Optimizer { get; init; } = new();

    public LearningRateSchedule Schedule { get; init; } = new();

    public AugmentationConfig Augmentation { get; init; } = new();

    public DataConfig Data { get; init; } = new();

    public int Epochs { get; init; } = 10;

    public int BatchSize { get; init; } = 128;

    public ulong Seed { get; init; } = 1;

    public float LabelSmoothing { get; init; }

    /// <summary>Use at most this many training images (0: all), for quick runs.</summary>
    public int TrainLimit { get; init; }

    /// <summary>Use at most this many test images (0: all).</summary>
    public int TestLimit { get; init; }

    /// <summary>
    /// Training images held out for validation (0: none). The split is drawn by <see cref="Seed"/>, after
    /// <see cref="TrainLimit"/> trims the training set; validation figures pick the best epoch, and the test set
    /// only reports.
    /// </summary>
    public int ValidationCount { get; init; }

    /// <summary>Reads a config file; every problem is a <see cref="ConfigException"/> naming the file and JSON path.</summary>
    public static TrainConfig Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            if (Directory.Exists(path))
                throw new ConfigException($"Config '{path}' is a folder; pass the JSON file, e.g. studies/quickstart.json.");
            throw new ConfigException($"Cannot read config '{path}': {e.Message} Pass an existing JSON file with --config.");
        }
        TrainConfig config;
        try
        {
            config = Parse(json, path);
        }
        catch (ConfigException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new ConfigException($"{path}: {e.Message}");
        }
        if (config.Data.Path is { } dataPath)
        {
            string baseDirectory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".";
            config = config with
            {
                Data = config.Data with { Path = System.IO.Path.GetFullPath(dataPath, baseDirectory) },
            };
        }
        return config;
    }

    public static TrainConfig Parse(string json, string source = "config")
    {
        var root = ConfigReader.Parse(json, source);
        if (root.IsSet("arms") && root.IsSet("base"))
            throw new ConfigException(
                "$: this is a study file (it has arms and a base config), not a training config; run it with " +
                "'fashioncuda study FILE', or copy its base object into a file of its own to train one model.");
        var defaults = new TrainConfig();
        var model = ModelConfig.Read(root.Object("model"));
        int epochs = root.Int("epochs", defaults.Epochs, 1, 100_000);
        var optimizer = ReadOptimizer(root.Object("optimizer"), defaults.Optimizer);
        var schedule = ReadSchedule(root.Object("schedule"), optimizer.LearningRate, epochs);
        var augmentation = defaults.Augmentation;
        if (root.Object("augmentation") is { } a)
        {
            augmentation = new AugmentationConfig
            {
                Flip = a.Bool("flip", false),
                CropPadding = a.Int("crop_padding", 0, 0, 14),
                Erasing = a.Bool("erasing", false),
            };
            a.RejectUnknownKeys();
        }
        var data = ReadData(root.Object("data"));
        var config = new TrainConfig
        {
            Data = data,
            Model = model,
            Optimizer = optimizer,
            Schedule = schedule,
            Augmentation = augmentation,
            Epochs = epochs,
            BatchSize = root.Int("batch_size", defaults.BatchSize, 2, 65536),
            Seed = (ulong)root.Int("seed", (int)defaults.Seed, 0),
            LabelSmoothing = (float)root.Number("label_smoothing", 0, 0, 1, maxExclusive: true),
            TrainLimit = root.Int("train_limit", 0, 0),
            TestLimit = root.Int("test_limit", 0, 0),
            ValidationCount = root.Int("validation_count", 0, 0),
        };
        root.RejectUnknownKeys();
        return config;
    }

    /// <summary>Returns a copy that trains for <paramref name="epochs"/> epochs, with the schedule following.</summary>
    public TrainConfig WithEpochs(int epochs) =>
        this with { Epochs = epochs, Schedule = Schedule with { TotalEpochs = epochs } };

    private static OptimizerConfig ReadOptimizer(ConfigReader? o, OptimizerConfig defaults)
    {
        if (o is null)
            return defaults;
        string name = o.String("name", defaults.Name, OptimizerNames);
        bool sgd = name == "sgd";
        // Only the keys of the chosen optimizer are read, so a key of another one is rejected as unknown.
        var config = new OptimizerConfig
        {
            Name = name,
            LearningRate = (float)o.Number("lr", sgd ? defaults.LearningRate : 1e-3, 0, 10, minExclusive: true),
            WeightDecay = (float)o.Number("weight_decay", name == "adamw" ? 0.01 : sgd ? defaults.WeightDecay : 0, 0, 1),
        };
        if (sgd)
        {
            config = config with
            {
                Momentum = (float)o.Number("momentum", defaults.Momentum, 0, 1, maxExclusive: true),
                Dampening = (float)o.Number("dampening", 0, 0, 1),
                Nesterov = o.Bool("nesterov", defaults.Nesterov),
            };
        }
        else
        {
            config = config with
            {
                Momentum = 0,
                Nesterov = false,
                Beta1 = (float)o.Number("beta1", defaults.Beta1, 0, 1, maxExclusive: true),
                Beta2 = (float)o.Number("beta2", defaults.Beta2, 0, 1, maxExclusive: true),
                Epsilon = (float)o.Number("eps", defaults.Epsilon, 0, 1, minExclusive: true),
            };
        }
        if (config.Nesterov && (config.Momentum <= 0 || config.Dampening != 0))
            throw new ConfigException($"{o.Path}.nesterov: Nesterov momentum needs momentum > 0 and dampening 0.");
        o.RejectUnknownKeys();
        return config;
    }

    private static DataConfig ReadData(ConfigReader? d)
    {
        if (d is null)
            return new DataConfig();
        string kind = d.String("kind", "fashion-mnist", DataConfig.KindNames);
        bool folder = kind == "folder";
        var config = new DataConfig
        {
            Kind = kind,
            Path = d.Has("path") ? d.String("path", "") : null,
            Channels = d.Int("channels", folder ? 3 : 1, 1, 3),
            Size = d.Int("size", folder ? 32 : 28, 8, 1024),
            Resize = d.String("resize", "crop", DataConfig.ResizeNames) == "pad" ? ResizeMode.Pad : ResizeMode.Crop,
            TestFraction = d.Number("test_fraction", 0.2, 0, 1, maxExclusive: true),
            Cache = d.Bool("cache", true),
        };
        if (config.Channels == 2)
            throw new ConfigException($"{d.Path}.channels: 2 is not allowed; use 1 (grey) or 3 (RGB).");
        if (!folder && (config.Channels != 1 || config.Size != 28))
            throw new ConfigException(
                $"{d.Path}: Fashion-MNIST images are 1×28×28, so channels must be 1 and size 28; set " +
                "\"kind\": \"folder\" to read photos at another size.");
        if (config.Path is "")
            throw new ConfigException($"{d.Path}.path: the path is empty; name a folder or a CSV list file.");
        if (folder && config.Path is null)
            throw new ConfigException(
                $"{d.Path}.path: a folder dataset needs a path: the folder of class subfolders or a CSV list.");
        d.RejectUnknownKeys();
        return config;
    }

    private static LearningRateSchedule ReadSchedule(ConfigReader? s, float learningRate, int epochs)
    {
        var schedule = new LearningRateSchedule { BaseLearningRate = learningRate, TotalEpochs = epochs };
        if (s is null)
            return schedule;
        string name = s.String("name", "constant", ScheduleNames);
        // As for optimizers, only the keys of the chosen schedule are read.
        schedule = schedule with
        {
            WarmupEpochs = s.Number("warmup_epochs", 0, 0, 1000),
            WarmupStartFactor = (float)s.Number("warmup_start_factor", 0.1, 0, 1),
        };
        schedule = name switch
        {
            "step" => schedule with
            {
                Kind = ScheduleKind.Step,
                Gamma = (float)s.Number("gamma", 0.1, 0, 1, minExclusive: true),
                StepEpochs = s.Int("step_epochs", 10, 1),
            },
            "multistep" => schedule with
            {
                Kind = ScheduleKind.MultiStep,
                Gamma = (float)s.Number("gamma", 0.1, 0, 1, minExclusive: true),
                Milestones = s.IntList("milestones", [], 1),
            },
            "cosine" => schedule with
            {
                Kind = ScheduleKind.Cosine,
                MinLearningRate = (float)s.Number("min_lr", 0, 0, learningRate),
            },
            _ => schedule,
        };
        for (int i = 1; i < schedule.Milestones.Count; i++)
        {
            if (schedule.Milestones[i] <= schedule.Milestones[i - 1])
                throw new ConfigException(
                    $"{s.Path}.milestones: epochs must increase, but {schedule.Milestones[i]} follows " +
                    $"{schedule.Milestones[i - 1]}.");
        }
        if (schedule.WarmupEpochs > epochs)
            throw new ConfigException(
                $"{s.Path}.warmup_epochs: {schedule.WarmupEpochs} is more than the run's $.epochs, {epochs}; use " +
                "fewer warm-up epochs or more epochs.");
        s.RejectUnknownKeys();
        return schedule;
    }

    /// <summary>Writes every setting, defaults included, in the same shape <see cref="Parse"/> reads.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            Model.WriteJson(json);
            json.WriteStartObject("optimizer");
            json.WriteString("name", Optimizer.Name);
            WriteFloat(json, "lr", Optimizer.LearningRate);
            WriteFloat(json, "weight_decay", Optimizer.WeightDecay);
            if (Optimizer.Name == "sgd")
            {
                WriteFloat(json, "momentum", Optimizer.Momentum);
                WriteFloat(json, "dampening", Optimizer.Dampening);
                json.WriteBoolean("nesterov", Optimizer.Nesterov);
            }
            else
            {
                WriteFloat(json, "beta1", Optimizer.Beta1);
                WriteFloat(json, "beta2", Optimizer.Beta2);
                WriteFloat(json, "eps", Optimizer.Epsilon);
            }
            json.WriteEndObject();
            json.WriteStartObject("schedule");
            json.WriteString("name", Schedule.Kind.ToString().ToLowerInvariant());
            switch (Schedule.Kind)
            {
                case ScheduleKind.Step:
                    WriteFloat(json, "gamma", Schedule.Gamma);
                    json.WriteNumber("step_epochs", Schedule.StepEpochs);
                    break;
                case ScheduleKind.MultiStep:
                    WriteFloat(json, "gamma", Schedule.Gamma);
                    json.WriteStartArray("milestones");
                    foreach (int milestone in Schedule.Milestones)
                        json.WriteNumberValue(milestone);
                    json.WriteEndArray();
                    break;
                case ScheduleKind.Cosine:
                    WriteFloat(json, "min_lr", Schedule.MinLearningRate);
                    break;
            }
            json.WriteNumber("warmup_epochs", Schedule.WarmupEpochs);
            WriteFloat(json, "warmup_start_factor", Schedule.WarmupStartFactor);
            json.WriteEndObject();
            json.WriteStartObject("data");
            json.WriteString("kind", Data.Kind);
            if (Data.Path is null)
                json.WriteNull("path");
            else
                json.WriteString("path", Data.Path);
            json.WriteNumber("channels", Data.Channels);
            json.WriteNumber("size", Data.Size);
            json.WriteString("resize", Data.Resize == ResizeMode.Pad ? "pad" : "crop");
            json.WriteNumber("test_fraction", Data.TestFraction);
            json.WriteBoolean("cache", Data.Cache);
            json.WriteEndObject();
            json.WriteStartObject("augmentation");
            json.WriteBoolean("flip", Augmentation.Flip);
            json.WriteNumber("crop_padding", Augmentation.CropPadding);
            json.WriteBoolean("erasing", Augmentation.Erasing);
            json.WriteEndObject();
            json.WriteNumber("epochs", Epochs);
            json.WriteNumber("batch_size", BatchSize);
            json.WriteNumber("seed", Seed);
            WriteFloat(json, "label_smoothing", LabelSmoothing);
            json.WriteNumber("train_limit", TrainLimit);
            json.WriteNumber("test_limit", TestLimit);
            json.WriteNumber("validation_count", ValidationCount);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes a float by its shortest round-trip text, so 0.05f reads back as 0.05, not 0.0500000007.</summary>
    private static void WriteFloat(Utf8JsonWriter json, string key, float value) =>
        json.WriteNumber(key, double.Parse(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            System.Globalization.CultureInfo.InvariantCulture));
}
