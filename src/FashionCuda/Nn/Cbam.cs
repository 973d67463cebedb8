using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Tensors;

namespace FashionCuda.Nn;

// CBAM, the Convolutional Block Attention Module of Woo, Park, Lee and Kweon (ECCV 2018). Every tensor is NCHW:
// the block maps x (N, C, H, W) to an attended x of the same shape. State names follow this torch port:
//   channel.mlp.0.weight (h, C)  channel.mlp.0.bias (h)  channel.mlp.2.weight (C, h)  channel.mlp.2.bias (C)
//   spatial.conv.weight (1, 2, k, k)  spatial.bn.{weight, bias, running_mean, running_var} (1)
// where h = max(1, C / r) and a part that is switched off has no entries.

/// <summary>Which attention parts a <see cref="Cbam"/> block applies.</summary>
public enum CbamMode
{
    /// <summary>Channel attention, then spatial attention.</summary>
    Both,

    Channel,

    Spatial,
}

/// <summary>Settings of one CBAM block.</summary>
public sealed record CbamOptions
{
    public CbamMode Mode { get; init; } = CbamMode.Both;

    /// <summary>Reduction ratio r of the channel MLP, whose hidden width is max(1, C / r).</summary>
    public int Reduction { get; init; } = 16;

    /// <summary>Side of the spatial attention's square conv: 3 or 7.</summary>
    public int KernelSize { get; init; } = 7;

    /// <summary>Throws <see cref="ArgumentException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        if (Reduction < 1)
            throw new ArgumentException($"Invalid CBAM reduction {Reduction}: it must be at least 1.");
        if (KernelSize is not (3 or 7))
            throw new ArgumentException($"Invalid CBAM kernel size {KernelSize}: use 3 or 7.");
        if (!Enum.IsDefined(Mode))
            throw new ArgumentException($"Invalid CBAM mode {Mode}.");
    }
}

/// <summary>
/// Channel attention. The average- and max-pooled descriptors (N, C) of x pass through one shared MLP
/// C → h → C (biases, ReLU between). Their sum passes a sigmoid and gives a gate (N, C, 1, 1) that scales x per
/// channel. Submodule <c>mlp</c> is a Sequential of Linear(C, h), ReLU, Linear(h, C).
/// </summary>
public sealed class ChannelAttention : Module
{
    public ChannelAttention(IBackend backend, Rng rng, int channels, int reduction)
    {
        if (channels < 1 || reduction < 1)
            throw new ArgumentException(
                $"Invalid channel attention settings: {channels} channels, reduction {reduction}.");
        Channels = channels;
        HiddenFeatures = Math.Max(1, channels / reduction);
        Mlp = RegisterModule("mlp", new Sequential(new Linear(backend, rng, channels, HiddenFeatures), new ReLU(),
            new Linear(backend, rng, HiddenFeatures, channels)));
    }

    public int Channels { get; }

    /// <summary>Hidden width h = max(1, C / r) of the shared MLP.</summary>
    public int HiddenFeatures { get; }

    public Sequential Mlp { get; }

    protected override bool RunsOwnOps => true;

    public override Tensor Forward(Tensor input)
    {
        int n = input[0], c = input[1];
        var average = F.Reshape(F.GlobalAvgPool2d(input), n, c);
        var maximum = F.Reshape(F.GlobalMaxPool2d(input), n, c);
        // The same MLP weights see both descriptors, and the gradients of the two calls add up.
        var logits = F.Add(Mlp.Call(average), Mlp.Call(maximum));
        var gate = F.Sigmoid(F.Reshape(logits, n, c, 1, 1));
        return F.Multiply(input, gate);
    }

    /// <summary>The two poolings, the sum of the MLP outputs, the sigmoid (4 per element) and the product.</summary>
    public override long ForwardFlops(int[] inputShape, int[] outputShape)
    {
        long elements = Shape.Elements(inputShape);
        long descriptors = (long)inputShape[0] * inputShape[1];
        return 2 * elements + descriptors + 4 * descriptors + elements;
    }

    public override string Describe() => $"{Channels} channels, hidden {HiddenFeatures}";
}

/// <summary>
/// Spatial attention. The max and the mean of x over channels, stacked in that order as (N, 2, H, W), go through
/// a k×k conv (padding k/2, no bias) to one map. A batch norm and a sigmoid turn the map into a gate (N, 1, H, W)
/// that scales x per pixel. Submodules <c>conv</c> and <c>bn</c>. The batch norm's weight starts at 0, so a new block's gate
/// is 0.5 everywhere.
/// </summary>
public sealed class SpatialAttention : Module, Studies.ISpatialAttentionMap
{
    public SpatialAttention(IBackend backend, Rng rng, int kernelSize)
    {
        if (kernelSize is not (3 or 7))
            throw new ArgumentException($"Invalid spatial attention kernel size {kernelSize}: use 3 or 7.");
        KernelSize = kernelSize;
        Conv = RegisterModule("conv", new Conv2d(backend, rng, 2, 1, kernelSize, 1, kernelSize / 2, bias: false));
        Bn = RegisterModule("bn", new BatchNorm2d(backend, 1));
        backend.Fill(Bn.Weight, 0f);
    }

    public int KernelSize { get; }

    public Conv2d Conv { get; }

    public BatchNorm2d Bn { get; }

    /// <summary>When set, each forward pass keeps its gate in <see cref="LastAttentionMap"/>.</summary>
    public bool KeepAttentionMap { get; set; }

    /// <summary>
    /// The gate (N, 1, H, W), values in (0, 1), of the latest forward pass while <see cref="KeepAttentionMap"/> is
    /// set. It belongs to the tensor scope of that pass, so read it before the scope closes.
    /// </summary>
    public Tensor? LastAttentionMap { get; private set; }

    bool Studies.ISpatialAttentionMap.KeepSpatialAttention
    {
        get => KeepAttentionMap;
        set => KeepAttentionMap = value;
    }

    Tensor? Studies.ISpatialAttentionMap.LastSpatialAttention => LastAttentionMap;

    protected override bool RunsOwnOps => true;

    public override Tensor Forward(Tensor input)
    {
        var pooled = F.ConcatChannels(F.ChannelMax(input), F.ChannelMean(input));
        var gate = F.Sigmoid(Bn.Call(Conv.Call(pooled)));
        if (KeepAttentionMap)
            LastAttentionMap = gate;
        return F.Multiply(input, gate);
    }

    /// <summary>The max and the mean over channels, the sigmoid (4 per pixel) and the product.</summary>
    public override long ForwardFlops(int[] inputShape, int[] outputShape)
    {
        long elements = Shape.Elements(inputShape);
        long pixels = (long)inputShape[0] * inputShape[2] * inputShape[3];
        return 2 * elements + 4 * pixels + elements;
    }

    public override string Describe() => $"{KernelSize}×{KernelSize} conv";
}

/// <summary>
/// CBAM block on x (N, C, H, W): channel attention, then spatial attention, each present only when
/// <see cref="CbamOptions.Mode"/> includes it. Submodules <c>channel</c> and <c>spatial</c>.
/// </summary>
public sealed class Cbam : Module
{
    public Cbam(IBackend backend, Rng rng, int channels, CbamOptions options)
    {
        options.Validate();
        Options = options;
        if (options.Mode is CbamMode.Both or CbamMode.Channel)
            Channel = RegisterModule("channel", new ChannelAttention(backend, rng, channels, options.Reduction));
        if (options.Mode is CbamMode.Both or CbamMode.Spatial)
            Spatial = RegisterModule("spatial", new SpatialAttention(backend, rng, options.KernelSize));
    }

    public CbamOptions Options { get; }

    public ChannelAttention? Channel { get; }

    public SpatialAttention? Spatial { get; }

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        if (Channel is not null)
            x = Channel.Call(x);
        if (Spatial is not null)
            x = Spatial.Call(x);
        return x;
    }
}
