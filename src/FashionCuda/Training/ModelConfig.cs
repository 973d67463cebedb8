using System.Text.Json;
using FashionCuda.Models;
using FashionCuda.Nn;

namespace FashionCuda.Training;

/// <summary>
/// The <c>model</c> section of a config: which network to build and its settings. The AlexNet-FM settings
/// (<see cref="AlexNet"/>) apply only to <c>alexnet-fm</c>; a ResNet's layout is fixed by its name apart from
/// <see cref="Width"/>.
/// </summary>
public sealed record ModelConfig
{
    public const string AlexNetFm = "alexnet-fm";
    public const string ResNet18 = "resnet-18";
    public const string ResNetNarrow = "resnet-narrow";

    public static readonly string[] Names = [AlexNetFm, ResNet18, ResNetNarrow];
    public static readonly string[] ClassifierNames = ["fc3", "linear", "gap"];
    public static readonly string[] CbamPlacementNames = ["after-conv2", "after-conv5", "every-conv"];
    public static readonly string[] CbamModeNames = ["both", "channel", "spatial"];

    /// <summary>Keys that only <c>alexnet-fm</c> reads.</summary>
    private static readonly string[] AlexNetKeys = ["conv_layers", "classifier", "batch_norm", "dropout", "hidden"];

    public string Name { get; init; } = AlexNetFm;

    /// <summary>AlexNet-FM width w, or the ResNet base width (channels of the stem and the first stage).</summary>
    public int Width { get; init; } = 64;

    /// <summary>
    /// Conv layers, classifier head, batch norm, dropout and hidden width of AlexNet-FM. Its width, input, class
    /// count and CBAM fields are unused here: <see cref="ToAlexNetFmOptions"/> takes them from this record.
    /// </summary>
    public AlexNetFmOptions AlexNet { get; init; } = new();

    /// <summary>CBAM settings, or null for a network without CBAM.</summary>
    public CbamOptions? Cbam { get; init; }

    /// <summary>Where AlexNet-FM puts its CBAM blocks; a ResNet has one in every BasicBlock.</summary>
    public CbamPlacement CbamPlacement { get; init; } = CbamPlacement.EveryConv;

    public int InputChannels { get; init; } = 1;

    /// <summary>Height and width of the square input images.</summary>
    public int InputSize { get; init; } = 28;

    public int Classes { get; init; } = 10;

    public bool IsResNet => Name is ResNet18 or ResNetNarrow;

    /// <summary>One line for logs and reports, e.g. "resnet-narrow width 16, CBAM both r=16 k=7".</summary>
    public string Describe()
    {
        string text = $"{Name} width {Width}";
        if (!IsResNet)
            text += $", {AlexNet.ConvLayers} conv layers, {ClassifierNames[(int)AlexNet.Classifier]} head" +
                    (AlexNet.BatchNorm ? ", batch norm" : "");
        if (Cbam is not null)
            text += $", CBAM {Cbam.Mode.ToString().ToLowerInvariant()} r={Cbam.Reduction} k={Cbam.KernelSize}" +
                    (IsResNet ? " in every block" : $" {PlacementName(CbamPlacement)}");
        return text;
    }

    /// <summary>
    /// Largest accepted width. AlexNet-FM at 512 already has about 90 million conv weights, and a weight tensor
    /// must stay below 2^31 elements.
    /// </summary>
    public const int MaxWidth = 512;

    /// <summary>The default <see cref="Width"/> of each model: 64, except 16 for <c>resnet-narrow</c>.</summary>
    public static int DefaultWidth(string name) => name == ResNetNarrow ? 16 : 64;

    public AlexNetFmOptions ToAlexNetFmOptions() => AlexNet with
    {
        Width = Width,
        InputChannels = InputChannels,
        InputSize = InputSize,
        Classes = Classes,
        Cbam = Cbam,
        CbamPlacement = CbamPlacement,
    };

    public ResNetOptions ToResNetOptions()
    {
        var layout = Name == ResNetNarrow ? ResNetOptions.Narrow(Width) : ResNetOptions.ResNet18(Width);
        return layout with { Cbam = Cbam, InputChannels = InputChannels, InputSize = InputSize, Classes = Classes };
    }

    /// <summary>Reads the <c>model</c> object, or returns the defaults when it is absent.</summary>
    public static ModelConfig Read(ConfigReader? m)
    {
        if (m is null)
            return new ModelConfig();
        string name = m.String("name", AlexNetFm, Names);
        bool resNet = name != AlexNetFm;
        var alexNet = resNet ? new AlexNetFmOptions() : ReadAlexNet(m);
        if (resNet)
            RejectAlexNetKeys(m, name);
        var config = new ModelConfig
        {
            Name = name,
            Width = m.Int("width", DefaultWidth(name), 1, MaxWidth),
            AlexNet = alexNet,
            InputChannels = m.Int("input_channels", 1, 1, 1024),
            // Three 2×2 max pools need at least 8 pixels; the strided convs of a ResNet accept any size.
            InputSize = m.Int("input_size", 28, resNet ? 1 : 8, 4096),
            Classes = m.Int("classes", 10, 2, 100_000),
        };
        if (m.Object("cbam") is { } c)
            config = ReadCbam(c, config);
        m.RejectUnknownKeys();
        return config;
    }

    private static AlexNetFmOptions ReadAlexNet(ConfigReader m)
    {
        var defaults = new AlexNetFmOptions();
        string classifier = m.String("classifier", "fc3", ClassifierNames);
        int layers = m.Int("conv_layers", defaults.ConvLayers, 3, 7);
        if (layers is not (3 or 5 or 7))
            throw new ConfigException($"{m.Path}.conv_layers: {layers} is not allowed; use 3, 5 or 7.");
        return new AlexNetFmOptions
        {
            ConvLayers = layers,
            Classifier = classifier switch
            {
                "linear" => ClassifierHead.Linear,
                "gap" => ClassifierHead.GlobalAveragePool,
                _ => ClassifierHead.ThreeLayer,
            },
            BatchNorm = m.Bool("batch_norm", defaults.BatchNorm),
            Dropout = (float)m.Number("dropout", defaults.Dropout, 0, 1, maxExclusive: true),
            HiddenFeatures = m.Int("hidden", defaults.HiddenFeatures, 1, 65536),
        };
    }

    private static void RejectAlexNetKeys(ConfigReader m, string name)
    {
        foreach (string key in AlexNetKeys)
        {
            if (m.IsSet(key))
                throw new ConfigException(
                    $"{m.Path}.{key}: applies only to {AlexNetFm}; {name} has a fixed layout, set by its name and " +
                    "width. Remove the key.");
        }
    }

    private static ModelConfig ReadCbam(ConfigReader c, ModelConfig config)
    {
        var placement = CbamPlacement.EveryConv;
        if (config.IsResNet)
        {
            if (c.IsSet("placement"))
                throw new ConfigException(
                    $"{c.Path}.placement: a ResNet puts CBAM in every BasicBlock, so placement applies only to " +
                    $"{AlexNetFm}. Remove the key.");
        }
        else
        {
            if (!c.Has("placement"))
                throw new ConfigException(
                    $"{c.Path}.placement: missing; AlexNet-FM needs one of " +
                    $"{string.Join(", ", CbamPlacementNames.Select(p => $"'{p}'"))}.");
            placement = c.String("placement", "every-conv", CbamPlacementNames) switch
            {
                "after-conv2" => CbamPlacement.AfterConv2,
                "after-conv5" => CbamPlacement.AfterConv5,
                _ => CbamPlacement.EveryConv,
            };
            if (placement == CbamPlacement.AfterConv5 && config.AlexNet.ConvLayers < 5)
                throw new ConfigException(
                    $"{c.Path}.placement: 'after-conv5' needs at least 5 conv layers, but conv_layers is " +
                    $"{config.AlexNet.ConvLayers}.");
        }
        var defaults = new CbamOptions();
        var options = new CbamOptions
        {
            Mode = c.String("mode", "both", CbamModeNames) switch
            {
                "channel" => CbamMode.Channel,
                "spatial" => CbamMode.Spatial,
                _ => CbamMode.Both,
            },
            Reduction = c.Int("reduction", defaults.Reduction, 1, 4096),
            KernelSize = c.Int("kernel_size", defaults.KernelSize, 3, 7),
        };
        if (options.KernelSize is not (3 or 7))
            throw new ConfigException($"{c.Path}.kernel_size: {options.KernelSize} is not allowed; use 3 or 7.");
        c.RejectUnknownKeys();
        return config with { Cbam = options, CbamPlacement = placement };
    }

    private static string PlacementName(CbamPlacement placement) => placement switch
    {
        CbamPlacement.AfterConv2 => "after-conv2",
        CbamPlacement.AfterConv5 => "after-conv5",
        _ => "every-conv",
    };

    /// <summary>Writes the <c>model</c> object with every setting that <see cref="Read"/> accepts for this model.</summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject("model");
        json.WriteString("name", Name);
        json.WriteNumber("width", Width);
        if (!IsResNet)
        {
            json.WriteNumber("conv_layers", AlexNet.ConvLayers);
            json.WriteString("classifier", AlexNet.Classifier switch
            {
                ClassifierHead.Linear => "linear",
                ClassifierHead.GlobalAveragePool => "gap",
                _ => "fc3",
            });
            json.WriteBoolean("batch_norm", AlexNet.BatchNorm);
            json.WriteNumber("dropout", AlexNet.Dropout);
            json.WriteNumber("hidden", AlexNet.HiddenFeatures);
        }
        if (Cbam is null)
        {
            json.WriteNull("cbam");
        }
        else
        {
            json.WriteStartObject("cbam");
            if (!IsResNet)
                json.WriteString("placement", PlacementName(CbamPlacement));
            json.WriteString("mode", Cbam.Mode.ToString().ToLowerInvariant());
            json.WriteNumber("reduction", Cbam.Reduction);
            json.WriteNumber("kernel_size", Cbam.KernelSize);
            json.WriteEndObject();
        }
        json.WriteNumber("input_channels", InputChannels);
        json.WriteNumber("input_size", InputSize);
        json.WriteNumber("classes", Classes);
        json.WriteEndObject();
    }
}
