using System.Numerics.Tensors;
using Tensor = FashionCuda.Tensors.Tensor;

namespace FashionCuda.Backends.Cpu;

// Linear layer on the GEMM: input (N, in), weight (out, in), bias (out), output (N, out).
public sealed partial class CpuBackend
{
    public unsafe void LinearForward(Tensor input, Tensor weight, Tensor? bias, Tensor output)
    {
        var (n, inFeatures, outFeatures) = LinearSizes(input, weight, output);
        float[] x = Array(input), wt = Array(weight), y = Array(output);
        float beta = 0f;
        if (bias is not null)
        {
            RequireLength(bias, outFeatures, "bias");
            var b = Data(bias);
            for (int row = 0; row < n; row++)
                b.CopyTo(y.AsSpan(row * outFeatures, outFeatures));
            beta = 1f;
        }
        fixed (float* px = x, pw = wt, py = y)
            gemm.Multiply(false, true, n, outFeatures, inFeatures, 1f, px, inFeatures, pw, inFeatures, beta, py,
                outFeatures);
    }

    public unsafe void LinearBackward(Tensor input, Tensor weight, Tensor gradOutput, Tensor? gradInput,
        Tensor? gradWeight, Tensor? gradBias)
    {
        var (n, inFeatures, outFeatures) = LinearSizes(input, weight, gradOutput);
        float[] x = Array(input), wt = Array(weight), dy = Array(gradOutput);
        fixed (float* px = x, pw = wt, pdy = dy)
        {
            if (gradInput is not null)
            {
                RequireSameLength(input, gradInput);
                fixed (float* pdx = Array(gradInput))
                    gemm.Multiply(false, false, n, inFeatures, outFeatures, 1f, pdy, outFeatures, pw, inFeatures, 0f,
                        pdx, inFeatures);
            }
            if (gradWeight is not null)
            {
                RequireSameLength(weight, gradWeight);
                fixed (float* pdw = Array(gradWeight))
                    gemm.Multiply(true, false, outFeatures, inFeatures, n, 1f, pdy, outFeatures, px, inFeatures, 0f,
                        pdw, inFeatures);
            }
        }
        if (gradBias is not null)
        {
            RequireLength(gradBias, outFeatures, "bias gradient");
            var sum = Data(gradBias);
            sum.Clear();
            for (int row = 0; row < n; row++)
                TensorPrimitives.Add(sum, dy.AsSpan(row * outFeatures, outFeatures), sum);
        }
    }

    private static (int N, int In, int Out) LinearSizes(Tensor input, Tensor weight, Tensor output)
    {
        if (weight.Rank != 2)
            throw new ArgumentException($"The linear weight must be (out, in), but it is {weight}.");
        int outFeatures = weight.Dimensions[0], inFeatures = weight.Dimensions[1];
        int n = input.Rank == 0 ? 1 : input.Dimensions[0];
        RequireLength(input, (long)n * inFeatures, "linear input");
        RequireLength(output, (long)n * outFeatures, "linear output");
        return (n, inFeatures, outFeatures);
    }
}
