using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Tensors;

namespace FashionCuda.Nn;

/// <summary>
/// 2-D convolution. Input (N, C, H, W), weight (K, C, R, S) with R = S = kernel, bias (K), output (N, K, P, Q).
/// Weight starts Kaiming-normal (fan-in, ReLU gain: std = sqrt(2 / (C·R·S))), bias at zero.
/// </summary>
public sealed class Conv2d : Module
{
    public Conv2d(IBackend backend, Rng rng, int inChannels, int outChannels, int kernel, int stride = 1,
        int padding = 0, bool bias = true)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernel <= 0 || stride <= 0 || padding < 0)
            throw new ArgumentException(
                $"Invalid conv2d settings: in {inChannels}, out {outChannels}, kernel {kernel}, stride {stride}, " +
                $"padding {padding}.");
        InChannels = inChannels;
        OutChannels = outChannels;
        Kernel = kernel;
        Stride = stride;
        Padding = padding;
        int fanIn = inChannels * kernel * kernel;
        Weight = RegisterParameter("weight",
            Upload(backend, Init.Normal(rng, outChannels * fanIn, Math.Sqrt(2.0 / fanIn)),
                [outChannels, inChannels, kernel, kernel]));
        if (bias)
            Bias = RegisterParameter("bias", Upload(backend, new float[outChannels], [outChannels]));
    }

    public int InChannels { get; }

    public int OutChannels { get; }

    public int Kernel { get; }

    public int Stride { get; }

    public int Padding { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor input) => F.Conv2d(input, Weight, Bias, Stride, Padding);

    public override long ForwardFlops(int[] inputShape, int[] outputShape) =>
        2L * outputShape[1] * outputShape[2] * outputShape[3] * InChannels * Kernel * Kernel
        + (Bias is null ? 0 : (long)outputShape[1] * outputShape[2] * outputShape[3]);

    public override string Describe() =>
        $"{InChannels}→{OutChannels}, {Kernel}×{Kernel}, stride {Stride}, pad {Padding}" + (Bias is null ? ", no bias" : "");
}

/// <summary>
/// Fully connected layer: input (N, in), weight (out, in), bias (out), output (N, out). Initialized as
/// PyTorch's Linear: weight and bias uniform in ±1/sqrt(in).
/// </summary>
public sealed class Linear : Module
{
    public Linear(IBackend backend, Rng rng, int inFeatures, int outFeatures, bool bias = true)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Invalid linear settings: in {inFeatures}, out {outFeatures}.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        double bound = 1.0 / Math.Sqrt(inFeatures);
        Weight = RegisterParameter("weight",
            Upload(backend, Init.Uniform(rng, outFeatures * inFeatures, bound), [outFeatures, inFeatures]));
        if (bias)
            Bias = RegisterParameter("bias", Upload(backend, Init.Uniform(rng, outFeatures, bound), [outFeatures]));
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor input) => F.Linear(input, Weight, Bias);

    public override long ForwardFlops(int[] inputShape, int[] outputShape) =>
        2L * inputShape[0] * InFeatures * OutFeatures + (Bias is null ? 0 : (long)inputShape[0] * OutFeatures);

    public override string Describe() => $"{InFeatures}→{OutFeatures}";
}

/// <summary>max(x, 0) elementwise, any shape.</summary>
public sealed class ReLU : Module
{
    public override Tensor Forward(Tensor input) => F.Relu(input);

    public override long ForwardFlops(int[] inputShape, int[] outputShape) => Shape.Elements(outputShape);
}

/// <summary>1 / (1 + e^−x) elementwise, any shape.</summary>
public sealed class Sigmoid : Module
{
    public override Tensor Forward(Tensor input) => F.Sigmoid(input);

    public override long ForwardFlops(int[] inputShape, int[] outputShape) => 4 * Shape.Elements(outputShape);
}

/// <summary>Max pooling over (N, C, H, W) with a square window.</summary>
public sealed class MaxPool2d(int kernel, int stride, int padding = 0) : Module
{
    public int Kernel { get; } = kernel;

    public int Stride { get; } = stride;

    public int Padding { get; } = padding;

    public override Tensor Forward(Tensor input) => F.MaxPool2d(input, Kernel, Stride, Padding);

    public override long ForwardFlops(int[] inputShape, int[] outputShape) =>
        Shape.Elements(outputShape) * Kernel * Kernel;

    public override string Describe() => $"{Kernel}×{Kernel}, stride {Stride}, pad {Padding}";
}

/// <summary>Average pooling over (N, C, H, W) with a square window; padding counts in the divisor.</summary>
public sealed class AvgPool2d(int kernel, int stride, int padding = 0) : Module
{
    public int Kernel { get; } = kernel;

    public int Stride { get; } = stride;

    public int Padding { get; } = padding;

    public override Tensor Forward(Tensor input) => F.AvgPool2d(input, Kernel, Stride, Padding);

    public override long ForwardFlops(int[] inputShape, int[] outputShape) =>
        Shape.Elements(outputShape) * Kernel * Kernel;

    public override string Describe() => $"{Kernel}×{Kernel}, stride {Stride}, pad {Padding}";
}

/// <summary>(N, C, H, W) → (N, C, 1, 1) by the mean over H×W.</summary>
public sealed class GlobalAvgPool2d : Module
{
    public override Tensor Forward(Tensor input) => F.GlobalAvgPool2d(input);

    public override long ForwardFlops(int[] inputShape, int[] outputShape) => Shape.Elements(inputShape);
}

/// <summary>(N, C, H, W) → (N, C·H·W), row-major, as torch.flatten(x, 1).</summary>
public sealed class Flatten : Module
{
    public override Tensor Forward(Tensor input) => F.Flatten(input);
}

/// <summary>
/// Inverted dropout with drop probability P; identity in evaluation mode. Each training call draws a fresh mask
/// seed from the module's generator, so a run is reproducible from the model seed.
/// </summary>
public sealed class Dropout(Rng rng, float probability) : Module
{
    public float Probability { get; } = probability is >= 0f and < 1f
        ? probability
        : throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout must be in [0, 1).");

    public Rng Generator { get; } = rng;

    public override Tensor Forward(Tensor input) =>
        Training && Probability > 0f ? F.Dropout(input, Probability, true, Generator.NextUInt64()) : input;

    public override string Describe() => $"p = {Probability}";
}

/// <summary>Local response normalization across channels of (N, C, H, W), as in AlexNet.</summary>
public sealed class LocalResponseNorm(int size, float alpha = 1e-4f, float beta = 0.75f, float k = 1f) : Module
{
    public override Tensor Forward(Tensor input) => F.LocalResponseNorm(input, size, alpha, beta, k);

    public override long ForwardFlops(int[] inputShape, int[] outputShape) =>
        Shape.Elements(outputShape) * (2L * size + 4);

    public override string Describe() => $"size {size}, α {alpha}, β {beta}, k {k}";
}

/// <summary>
/// Batch normalization of (N, C, H, W) per channel. Parameters weight (C) = 1 and bias (C) = 0; buffers
/// running_mean (C) = 0 and running_var (C) = 1, updated with <see cref="Momentum"/> in training mode.
/// </summary>
public sealed class BatchNorm2d : Module
{
    public BatchNorm2d(IBackend backend, int channels, float momentum = 0.1f, float epsilon = 1e-5f)
    {
        Channels = channels;
        Momentum = momentum;
        Epsilon = epsilon;
        Weight = RegisterParameter("weight", Tensor.Full(backend, [channels], 1f, persistent: true));
        Bias = RegisterParameter("bias", Tensor.Zeros(backend, [channels], persistent: true));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(backend, [channels], persistent: true));
        RunningVar = RegisterBuffer("running_var", Tensor.Full(backend, [channels], 1f, persistent: true));
    }

    public int Channels { get; }

    public float Momentum { get; }

    public float Epsilon { get; }

    public Tensor Weight { get; }

    public Tensor Bias { get; }

    public Tensor RunningMean { get; }

    public Tensor RunningVar { get; }

    public override Tensor Forward(Tensor input) =>
        F.BatchNorm2d(input, Weight, Bias, RunningMean, RunningVar, Training, Momentum, Epsilon);

    public override long ForwardFlops(int[] inputShape, int[] outputShape) => 4 * Shape.Elements(outputShape);

    public override string Describe() => $"{Channels} channels";
}

/// <summary>Runs its submodules in order; they are named "0", "1", … as in torch.nn.Sequential.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> layers = new();

    public Sequential(params Module[] modules)
    {
        foreach (var module in modules)
            Add(module);
    }

    public int Count => layers.Count;

    public Module this[int index] => layers[index];

    public Sequential Add(Module module)
    {
        RegisterModule(layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        layers.Add(module);
        return this;
    }

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in layers)
            x = layer.Call(x);
        return x;
    }
}

/// <summary>Initializers that draw on the host from the engine's seeded generator.</summary>
public static class Init
{
    public static float[] Normal(Rng rng, int count, double std)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = (float)(rng.NextNormal() * std);
        return values;
    }

    public static float[] Uniform(Rng rng, int count, double bound)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = (float)((2.0 * rng.NextDouble() - 1.0) * bound);
        return values;
    }
}
