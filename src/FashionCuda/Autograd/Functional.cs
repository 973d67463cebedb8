using FashionCuda.Backends;
using FashionCuda.Onnx;
using FashionCuda.Tensors;

namespace FashionCuda.Autograd;

/// <summary>
/// Differentiable ops: each allocates its output on the input's backend, runs the backend's forward kernel and,
/// when an input requires gradients, records the matching backward kernels on the <see cref="Tape"/>. Images
/// are NCHW: N batch, C channels, H height, W width.
/// </summary>
public static partial class F
{
    /// <summary>2-D convolution: input (N, C, H, W), weight (K, C, R, S), bias (K) or null → (N, K, P, Q).</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, int stride = 1, int padding = 0)
    {
        RequireRank(input, 4, "conv2d input");
        RequireRank(weight, 4, "conv2d weight");
        if (input[1] != weight[1])
            throw new ArgumentException(
                $"conv2d: input {Shape.Format(input.Dimensions)} has {input[1]} channels but weight " +
                $"{Shape.Format(weight.Dimensions)} expects {weight[1]}.");
        var g = new Conv2dGeometry(input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3],
            stride, stride, padding, padding);
        g.Validate();
        var backend = input.Backend;
        var output = Tensor.Empty(backend, g.OutputShape);
        backend.Conv2dForward(input, weight, bias, output, g);
        if (GradMode.NeedsGrad(input, weight, bias))
        {
            Tape.Current.Record(output, gradOutput =>
            {
                var gradInput = GradFor(input);
                var gradWeight = GradFor(weight);
                var gradBias = bias is null ? null : GradFor(bias);
                backend.Conv2dBackward(input, weight, gradOutput, gradInput, gradWeight, gradBias, g);
                Deliver(input, gradInput);
                Deliver(weight, gradWeight);
                if (bias is not null)
                    Deliver(bias, gradBias);
            });
        }
        OnnxRecorder.Current?.Conv2d(input, weight, bias, stride, padding, output);
        return output;
    }

    /// <summary>Fully connected layer: input (N, in), weight (out, in), bias (out) or null → (N, out).</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias)
    {
        RequireRank(input, 2, "linear input");
        RequireRank(weight, 2, "linear weight");
        if (input[1] != weight[1])
            throw new ArgumentException(
                $"linear: input {Shape.Format(input.Dimensions)} has {input[1]} features but weight " +
                $"{Shape.Format(weight.Dimensions)} expects {weight[1]}.");
        var backend = input.Backend;
        var output = Tensor.Empty(backend, [input[0], weight[0]]);
        backend.LinearForward(input, weight, bias, output);
        if (GradMode.NeedsGrad(input, weight, bias))
        {
            Tape.Current.Record(output, gradOutput =>
            {
                var gradInput = GradFor(input);
                var gradWeight = GradFor(weight);
                var gradBias = bias is null ? null : GradFor(bias);
                backend.LinearBackward(input, weight, gradOutput, gradInput, gradWeight, gradBias);
                Deliver(input, gradInput);
                Deliver(weight, gradWeight);
                if (bias is not null)
                    Deliver(bias, gradBias);
            });
        }
        OnnxRecorder.Current?.Linear(input, weight, bias, output);
        return output;
    }

    public static Tensor Relu(Tensor input)
    {
        var backend = input.Backend;
        var result = Unary(input, input.Dimensions, output => backend.ReluForward(input, output),
            (output, gradOutput, gradInput) => backend.ReluBackward(output, gradOutput, gradInput));
        OnnxRecorder.Current?.Unary("Relu", input, result);
        return result;
    }

    public static Tensor Sigmoid(Tensor input)
    {
        var backend = input.Backend;
        var result = Unary(input, input.Dimensions, output => backend.SigmoidForward(input, output),
            (output, gradOutput, gradInput) => backend.SigmoidBackward(output, gradOutput, gradInput));
        OnnxRecorder.Current?.Unary("Sigmoid", input, result);
        return result;
    }

    /// <summary>Elementwise sum of two tensors of the same shape (residual connections).</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        RequireSameShape(a, b, "add");
        var backend = a.Backend;
        var output = Tensor.Empty(backend, a.Dimensions);
        backend.Add(a, b, output);
        if (GradMode.NeedsGrad(a, b))
        {
            Tape.Current.Record(output, gradOutput =>
            {
                PassThrough(a, gradOutput);
                PassThrough(b, gradOutput);
            });
        }
        OnnxRecorder.Current?.Binary("Add", a, b, output);
        return output;
    }

    /// <summary>
    /// Elementwise product of a (N, C, H, W) with b of shape (N, C, H, W), (N, C, 1, 1) or (N, 1, H, W).
    /// The broadcast follows from b's shape.
    /// </summary>
    public static Tensor Multiply(Tensor a, Tensor b)
    {
        RequireRank(a, 4, "multiply input");
        RequireRank(b, 4, "multiply factor");
        var broadcast = InferBroadcast(a, b);
        var backend = a.Backend;
        var output = Tensor.Empty(backend, a.Dimensions);
        backend.Multiply(a, b, output, broadcast);
        if (GradMode.NeedsGrad(a, b))
        {
            Tape.Current.Record(output, gradOutput =>
            {
                var gradA = GradFor(a);
                var gradB = GradFor(b);
                backend.MultiplyBackward(a, b, gradOutput, gradA, gradB, broadcast);
                Deliver(a, gradA);
                Deliver(b, gradB);
            });
        }
        OnnxRecorder.Current?.Binary("Mul", a, b, output);
        return output;
    }

    /// <summary>
    /// Returns a tensor with the same elements in another shape; one dimension may be −1 and is then inferred.
    /// The result shares storage with <paramref name="input"/>.
    /// </summary>
    public static Tensor Reshape(Tensor input, params int[] shape)
    {
        var resolved = ResolveShape(input, shape);
        var output = input.View(resolved);
        if (GradMode.NeedsGrad(input))
        {
            Tape.Current.Record(output, gradOutput =>
            {
                // A copy, not a view: the input's gradient may be accumulated into later, in place.
                var gradInput = Tensor.Empty(input.Backend, input.Dimensions);
                input.Backend.Copy(gradOutput, gradInput);
                GradMode.AccumulateGrad(input, gradInput);
            });
        }
        OnnxRecorder.Current?.Reshape(input, output);
        return output;
    }

    /// <summary>(N, C, H, W) → (N, C·H·W).</summary>
    public static Tensor Flatten(Tensor input) => Reshape(input, input[0], -1);

    private static int[] ResolveShape(Tensor input, int[] shape)
    {
        var resolved = (int[])shape.Clone();
        int inferred = Array.IndexOf(resolved, -1);
        if (inferred >= 0)
        {
            long known = 1;
            for (int i = 0; i < resolved.Length; i++)
            {
                if (i != inferred)
                    known *= resolved[i];
            }
            if (known <= 0 || input.Length % known != 0)
                throw new ArgumentException(
                    $"reshape: cannot fit {input.Length} elements of {Shape.Format(input.Dimensions)} " +
                    $"into {Shape.Format(shape)}.");
            resolved[inferred] = (int)(input.Length / known);
        }
        if (Shape.Elements(resolved) != input.Length)
            throw new ArgumentException(
                $"reshape: {Shape.Format(input.Dimensions)} has {input.Length} elements, " +
                $"{Shape.Format(shape)} has {Shape.Elements(resolved)}.");
        return resolved;
    }

    private static Broadcast InferBroadcast(Tensor a, Tensor b)
    {
        int n = a[0], c = a[1], h = a[2], w = a[3];
        if (b[0] == n && b[1] == c && b[2] == h && b[3] == w)
            return Broadcast.None;
        if (b[0] == n && b[1] == c && b[2] == 1 && b[3] == 1)
            return Broadcast.PerChannel;
        if (b[0] == n && b[1] == 1 && b[2] == h && b[3] == w)
            return Broadcast.PerPixel;
        throw new ArgumentException(
            $"multiply: cannot broadcast {Shape.Format(b.Dimensions)} over {Shape.Format(a.Dimensions)}; the " +
            $"factor must be ({n}, {c}, {h}, {w}), ({n}, {c}, 1, 1) or ({n}, 1, {h}, {w}).");
    }

    /// <summary>
    /// Runs a one-input op: allocates the output, calls <paramref name="forward"/> on it and, when the input
    /// requires gradients, records <paramref name="backward"/>(output, gradOutput, gradInput) on the tape.
    /// </summary>
    private static Tensor Unary(Tensor input, int[] outputShape, Action<Tensor> forward,
        Action<Tensor, Tensor, Tensor> backward)
    {
        var output = Tensor.Empty(input.Backend, outputShape);
        forward(output);
        if (GradMode.NeedsGrad(input))
        {
            Tape.Current.Record(output, gradOutput =>
            {
                var gradInput = Tensor.Empty(input.Backend, input.Dimensions);
                backward(output, gradOutput, gradInput);
                GradMode.AccumulateGrad(input, gradInput);
            });
        }
        return output;
    }

    /// <summary>Allocates a gradient buffer for <paramref name="tensor"/>, or returns null if it needs none.</summary>
    private static Tensor? GradFor(Tensor tensor) =>
        tensor.RequiresGrad ? Tensor.Empty(tensor.Backend, tensor.Dimensions) : null;

    private static void Deliver(Tensor tensor, Tensor? grad)
    {
        if (grad is not null)
            GradMode.AccumulateGrad(tensor, grad);
    }

    /// <summary>Hands an unchanged upstream gradient to an input, as a copy it owns.</summary>
    private static void PassThrough(Tensor input, Tensor gradOutput)
    {
        if (!input.RequiresGrad)
            return;
        var grad = Tensor.Empty(input.Backend, input.Dimensions);
        input.Backend.Copy(gradOutput, grad);
        GradMode.AccumulateGrad(input, grad);
    }

    private static void RequireRank(Tensor tensor, int rank, string what)
    {
        if (tensor.Rank != rank)
            throw new ArgumentException(
                $"{what} must have {rank} dimensions, but its shape is {Shape.Format(tensor.Dimensions)}.");
    }

    private static void RequireSameShape(Tensor a, Tensor b, string what)
    {
        if (!Shape.Equal(a.Dimensions, b.Dimensions))
            throw new ArgumentException(
                $"{what}: shapes {Shape.Format(a.Dimensions)} and {Shape.Format(b.Dimensions)} differ.");
    }
}
