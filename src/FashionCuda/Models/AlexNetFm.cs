using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Models;

/// <summary>Classifier heads for the AlexNet-FM family.</summary>
public enum ClassifierHead
{
    /// <summary>dropout · linear→1024 · ReLU · dropout · linear 1024→1024 · ReLU · linear→classes.</summary>
    ThreeLayer,

    /// <summary>One linear layer from the flattened features to the classes.</summary>
    Linear,

    /// <summary>Global average pooling, then one linear layer.</summary>
    GlobalAveragePool,
}

/// <summary>Conv layers of AlexNet-FM that a CBAM block follows.</summary>
public enum CbamPlacement
{
    /// <summary>After the second conv, at 14×14 for 28×28 inputs.</summary>
    AfterConv2,

    /// <summary>After the fifth conv, the last one of the baseline; needs at least 5 conv layers.</summary>
    AfterConv5,

    EveryConv,
}

/// <summary>Settings of an AlexNet-FM network; the defaults are the <c>alexnet-fm</c> baseline.</summary>
public sealed record AlexNetFmOptions
{
    /// <summary>Channel width w; the convs have w, 3w, 6w, 4w, 4w output channels.</summary>
    public int Width { get; init; } = 64;

    /// <summary>3, 5 (the baseline) or 7 conv layers.</summary>
    public int ConvLayers { get; init; } = 5;

    public ClassifierHead Classifier { get; init; } = ClassifierHead.ThreeLayer;

    /// <summary>Batch norm after each conv, before its ReLU (the conv then has no bias).</summary>
    public bool BatchNorm { get; init; }

    public float Dropout { get; init; } = 0.5f;

    /// <summary>Width of the hidden layers of the three-layer head.</summary>
    public int HiddenFeatures { get; init; } = 1024;

    public int InputChannels { get; init; } = 1;

    public int InputSize { get; init; } = 28;

    public int Classes { get; init; } = 10;

    /// <summary>CBAM settings, or null for the plain network.</summary>
    public CbamOptions? Cbam { get; init; }

    /// <summary>Where CBAM blocks go; read only when <see cref="Cbam"/> is set.</summary>
    public CbamPlacement CbamPlacement { get; init; } = CbamPlacement.EveryConv;

    /// <summary>Whether a CBAM block follows conv layer <paramref name="conv"/> (1-based).</summary>
    public bool HasCbamAfter(int conv) => Cbam is not null && CbamPlacement switch
    {
        CbamPlacement.AfterConv2 => conv == 2,
        CbamPlacement.AfterConv5 => conv == 5,
        _ => true,
    };
}

/// <summary>
/// AlexNet adapted to 28×28 grey images: by default input (N, 1, 28, 28) → logits (N, 10). Every conv is 3×3 with
/// padding 1; three 2×2 max pools bring 28 → 14 → 7 → 3. The baseline (<c>alexnet-fm</c>):
/// conv(1→w) ReLU pool · conv(w→3w) ReLU pool · conv(3w→6w) ReLU · conv(6w→4w) ReLU · conv(4w→4w) ReLU pool ·
/// flatten (4w·3·3) · dropout 0.5 · linear→1024 · ReLU · dropout 0.5 · linear 1024→1024 · ReLU · linear→10.
/// Submodules are <c>features</c> and <c>classifier</c>, numbered as the same torch.nn.Sequential would be. A CBAM
/// block, when configured, follows a conv's ReLU and comes before its pool, as the next entry of <c>features</c>
/// (for example <c>features.5.channel.mlp.0.weight</c> after conv 2), so the names of the network without CBAM
/// are those of the baseline. The input channels, input size and class count come from the options, and the
/// flatten size follows from them.
/// </summary>
public sealed class AlexNetFm : Module
{
    public AlexNetFm(IBackend backend, Rng rng, AlexNetFmOptions options)
    {
        Options = options;
        if (options.Width <= 0)
            throw new ArgumentException($"Invalid width {options.Width}: it must be positive.");
        if (options.ConvLayers is not (3 or 5 or 7))
            throw new ArgumentException($"Invalid conv layer count {options.ConvLayers}: use 3, 5 or 7.");
        if (options.Cbam is not null && options.CbamPlacement == CbamPlacement.AfterConv5 && options.ConvLayers < 5)
            throw new ArgumentException(
                $"CBAM after conv 5 needs at least 5 conv layers, but the network has {options.ConvLayers}.");
        options.Cbam?.Validate();
        Features = RegisterModule("features", BuildFeatures(backend, rng, options, out int channels, out int size));
        Classifier = RegisterModule("classifier", BuildClassifier(backend, rng, options, channels, size));
    }

    public AlexNetFmOptions Options { get; }

    public Sequential Features { get; }

    public Sequential Classifier { get; }

    public override Tensor Forward(Tensor input)
    {
        var features = Features.Call(input);
        if (Options.Classifier != ClassifierHead.GlobalAveragePool)
            features = F.Flatten(features);
        return Classifier.Call(features);
    }

    /// <summary>Output channels of each conv, with true where a 2×2 max pool follows it.</summary>
    public static IReadOnlyList<(int Channels, bool Pool)> ConvPlan(int width, int convLayers) => convLayers switch
    {
        3 => [(width, true), (3 * width, true), (4 * width, true)],
        5 => [(width, true), (3 * width, true), (6 * width, false), (4 * width, false), (4 * width, true)],
        7 =>
        [
            (width, true), (3 * width, true), (6 * width, false), (4 * width, false), (4 * width, false),
            (4 * width, false), (4 * width, true),
        ],
        _ => throw new ArgumentException($"Invalid conv layer count {convLayers}: use 3, 5 or 7."),
    };

    private static Sequential BuildFeatures(IBackend backend, Rng rng, AlexNetFmOptions options, out int channels,
        out int size)
    {
        var features = new Sequential();
        channels = options.InputChannels;
        size = options.InputSize;
        int conv = 0;
        foreach (var (outChannels, pool) in ConvPlan(options.Width, options.ConvLayers))
        {
            conv++;
            features.Add(new Conv2d(backend, rng, channels, outChannels, 3, 1, 1, bias: !options.BatchNorm));
            if (options.BatchNorm)
                features.Add(new BatchNorm2d(backend, outChannels));
            features.Add(new ReLU());
            if (options.HasCbamAfter(conv))
                features.Add(new Cbam(backend, rng, outChannels, options.Cbam!));
            if (pool)
            {
                features.Add(new MaxPool2d(2, 2));
                size /= 2;
            }
            channels = outChannels;
        }
        if (size < 1)
            throw new ArgumentException($"Input size {options.InputSize} is too small for three 2×2 poolings.");
        return features;
    }

    private static Sequential BuildClassifier(IBackend backend, Rng rng, AlexNetFmOptions options, int channels,
        int size)
    {
        int flat = channels * size * size;
        int hidden = options.HiddenFeatures;
        return options.Classifier switch
        {
            ClassifierHead.ThreeLayer => new Sequential(
                new Dropout(rng, options.Dropout), new Linear(backend, rng, flat, hidden), new ReLU(),
                new Dropout(rng, options.Dropout), new Linear(backend, rng, hidden, hidden), new ReLU(),
                new Linear(backend, rng, hidden, options.Classes)),
            ClassifierHead.Linear => new Sequential(new Linear(backend, rng, flat, options.Classes)),
            ClassifierHead.GlobalAveragePool => new Sequential(
                new GlobalAvgPool2d(), new Flatten(), new Linear(backend, rng, channels, options.Classes)),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Classifier, "Unknown classifier."),
        };
    }
}
