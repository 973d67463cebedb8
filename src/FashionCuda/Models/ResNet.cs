using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Models;

/// <summary>
/// Residual block of two 3×3 convs on x (N, C, H, W) → (N, K, P, Q), with P = ⌈H / stride⌉:
/// relu(bn2(conv2(relu(bn1(conv1(x))))) [→ cbam] + shortcut(x)). The shortcut is the identity, or a 1×1 conv with
/// the block's stride and a batch norm when the stride is not 1 or C ≠ K. Submodules, as in torchvision:
/// <c>conv1</c>, <c>bn1</c>, <c>relu</c> (used twice), <c>conv2</c>, <c>bn2</c>, <c>cbam</c> (optional) and
/// <c>downsample</c> (a Sequential of the 1×1 conv and its batch norm, only when the shape changes). The convs have
/// no bias because a batch norm follows each.
/// </summary>
public sealed class BasicBlock : Module
{
    public BasicBlock(IBackend backend, Rng rng, int inChannels, int outChannels, int stride, CbamOptions? cbam)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
        Conv1 = RegisterModule("conv1", new Conv2d(backend, rng, inChannels, outChannels, 3, stride, 1, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(backend, outChannels));
        Relu = RegisterModule("relu", new ReLU());
        Conv2 = RegisterModule("conv2", new Conv2d(backend, rng, outChannels, outChannels, 3, 1, 1, bias: false));
        Bn2 = RegisterModule("bn2", new BatchNorm2d(backend, outChannels));
        if (cbam is not null)
            Cbam = RegisterModule("cbam", new Cbam(backend, rng, outChannels, cbam));
        if (stride != 1 || inChannels != outChannels)
            Downsample = RegisterModule("downsample", new Sequential(
                new Conv2d(backend, rng, inChannels, outChannels, 1, stride, 0, bias: false),
                new BatchNorm2d(backend, outChannels)));
    }

    public int InChannels { get; }

    public int OutChannels { get; }

    public int Stride { get; }

    public Conv2d Conv1 { get; }

    public BatchNorm2d Bn1 { get; }

    public ReLU Relu { get; }

    public Conv2d Conv2 { get; }

    public BatchNorm2d Bn2 { get; }

    public Cbam? Cbam { get; }

    public Sequential? Downsample { get; }

    protected override bool RunsOwnOps => true;

    public override Tensor Forward(Tensor input)
    {
        var residual = Bn2.Call(Conv2.Call(Relu.Call(Bn1.Call(Conv1.Call(input)))));
        if (Cbam is not null)
            residual = Cbam.Call(residual);
        var shortcut = Downsample is null ? input : Downsample.Call(input);
        return Relu.Call(F.Add(residual, shortcut));
    }

    /// <summary>The residual addition; the layers count their own work.</summary>
    public override long ForwardFlops(int[] inputShape, int[] outputShape) => Shape.Elements(outputShape);

    public override string Describe() =>
        $"{InChannels}→{OutChannels}, stride {Stride}" + (Downsample is null ? "" : ", projection shortcut") +
        (Cbam is null ? "" : ", CBAM");
}

/// <summary>Settings of a <see cref="ResNet"/>; <see cref="ResNet18"/> and <see cref="Narrow"/> give the two layouts.</summary>
public sealed record ResNetOptions
{
    /// <summary>BasicBlocks per stage; stage i has Width·2^i channels and stride 1 in its first stage, 2 after.</summary>
    public IReadOnlyList<int> Blocks { get; init; } = [2, 2, 2, 2];

    /// <summary>Channels of the stem and of the first stage.</summary>
    public int Width { get; init; } = 64;

    /// <summary>CBAM settings for every BasicBlock, or null for none.</summary>
    public CbamOptions? Cbam { get; init; }

    public int InputChannels { get; init; } = 1;

    public int InputSize { get; init; } = 28;

    public int Classes { get; init; } = 10;

    /// <summary>ResNet-18: stages of 2, 2, 2, 2 blocks with widths w, 2w, 4w, 8w (64-128-256-512 at w = 64).</summary>
    public static ResNetOptions ResNet18(int width = 64) => new() { Blocks = [2, 2, 2, 2], Width = width };

    /// <summary>The ResNet-20 layout: stages of 3, 3, 3 blocks with widths w, 2w, 4w (16-32-64 at w = 16).</summary>
    public static ResNetOptions Narrow(int width = 16) => new() { Blocks = [3, 3, 3], Width = width };
}

/// <summary>
/// ResNet for small images, input (N, C, S, S) → logits (N, classes). The stem is a 3×3 stride-1 conv with batch
/// norm and ReLU and no max pool, so 28×28 inputs keep their resolution in the first stage. Each later stage
/// halves it in its first block (28 → 14 → 7 → 4 for ResNet-18). Global average pooling and one linear layer
/// follow. Submodules as in torchvision: <c>conv1</c>, <c>bn1</c>, <c>relu</c>, <c>layer1</c> … <c>layerN</c>
/// (Sequentials of <see cref="BasicBlock"/>s, so <c>layer1.0.conv1.weight</c>), <c>avgpool</c> and <c>fc</c>.
/// </summary>
public sealed class ResNet : Module
{
    public ResNet(IBackend backend, Rng rng, ResNetOptions options)
    {
        if (options.Width < 1 || options.Blocks.Count == 0 || options.Blocks.Any(b => b < 1))
            throw new ArgumentException(
                $"Invalid ResNet layout: width {options.Width}, blocks [{string.Join(", ", options.Blocks)}].");
        if (options.InputChannels < 1 || options.InputSize < 1 || options.Classes < 1)
            throw new ArgumentException(
                $"Invalid ResNet input: {options.InputChannels} channels, size {options.InputSize}, " +
                $"{options.Classes} classes.");
        options.Cbam?.Validate();
        Options = options;
        Conv1 = RegisterModule("conv1",
            new Conv2d(backend, rng, options.InputChannels, options.Width, 3, 1, 1, bias: false));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(backend, options.Width));
        Relu = RegisterModule("relu", new ReLU());
        int channels = options.Width;
        var stages = new List<Sequential>();
        for (int stage = 0; stage < options.Blocks.Count; stage++)
        {
            int outChannels = options.Width << stage;
            var layer = new Sequential();
            for (int block = 0; block < options.Blocks[stage]; block++)
            {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                layer.Add(new BasicBlock(backend, rng, channels, outChannels, stride, options.Cbam));
                channels = outChannels;
            }
            stages.Add(RegisterModule($"layer{stage + 1}", layer));
        }
        Stages = stages;
        AvgPool = RegisterModule("avgpool", new GlobalAvgPool2d());
        Fc = RegisterModule("fc", new Linear(backend, rng, channels, options.Classes));
    }

    public ResNetOptions Options { get; }

    public Conv2d Conv1 { get; }

    public BatchNorm2d Bn1 { get; }

    public ReLU Relu { get; }

    /// <summary>The stages <c>layer1</c>, <c>layer2</c>, … in order.</summary>
    public IReadOnlyList<Sequential> Stages { get; }

    public GlobalAvgPool2d AvgPool { get; }

    public Linear Fc { get; }

    public override Tensor Forward(Tensor input)
    {
        var x = Relu.Call(Bn1.Call(Conv1.Call(input)));
        foreach (var stage in Stages)
            x = stage.Call(x);
        return Fc.Call(F.Flatten(AvgPool.Call(x)));
    }
}
