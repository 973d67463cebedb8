using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Tensor = FashionCuda.Tensors.Tensor;

namespace FashionCuda.Backends.Cpu;

// Batch norm over (N, C, H, W) with per-channel statistics: one task per channel, which walks the N planes of
// that channel. Plane sums are float32 SIMD sums; the sums over planes are double.
public sealed partial class CpuBackend
{
    public void BatchNorm2dForwardTraining(Tensor input, Tensor weight, Tensor bias, Tensor output, Tensor saveMean,
        Tensor saveInvStd, Tensor runningMean, Tensor runningVar, float momentum, float epsilon)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, output);
        foreach (var (tensor, role) in new[] { (weight, "weight"), (bias, "bias"), (saveMean, "saved mean"),
            (saveInvStd, "saved inverse std"), (runningMean, "running mean"), (runningVar, "running var") })
            RequireLength(tensor, c, role);
        int plane = h * w;
        long count = (long)n * plane;
        if (count < 2)
            throw new ArgumentException(
                $"Batch norm training needs at least 2 values per channel to estimate the variance; {input} has " +
                $"{count}. Use a larger batch or evaluation mode.");
        float[] x = Array(input), y = Array(output), gamma = Array(weight), beta = Array(bias);
        float[] mean = Array(saveMean), invStd = Array(saveInvStd), rm = Array(runningMean), rv = Array(runningVar);
        ForItems(c, count, channel =>
        {
            // pass 1: mean; pass 2: biased variance around it, which avoids E[x²] − E[x]² cancellation.
            double sum = 0;
            for (int image = 0; image < n; image++)
                sum += TensorPrimitives.Sum(x.AsSpan((image * c + channel) * plane, plane));
            float channelMean = (float)(sum / count);
            double squares = 0;
            for (int image = 0; image < n; image++)
                squares += SumSquaredDeviations(x.AsSpan((image * c + channel) * plane, plane), channelMean);
            double variance = squares / count;
            float channelInvStd = (float)(1.0 / Math.Sqrt(variance + epsilon));
            mean[channel] = channelMean;
            invStd[channel] = channelInvStd;
            // The running estimate uses the unbiased variance, as PyTorch does.
            double unbiased = squares / (count - 1);
            rm[channel] = (1f - momentum) * rm[channel] + momentum * channelMean;
            rv[channel] = (float)((1.0 - momentum) * rv[channel] + momentum * unbiased);
            float scale = gamma[channel] * channelInvStd;
            float shift = beta[channel] - channelMean * scale;
            for (int image = 0; image < n; image++)
            {
                int offset = (image * c + channel) * plane;
                ScaleShift(x.AsSpan(offset, plane), scale, shift, y.AsSpan(offset, plane));
            }
        });
    }

    public void BatchNorm2dForwardInference(Tensor input, Tensor weight, Tensor bias, Tensor runningMean,
        Tensor runningVar, Tensor output, float epsilon)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, output);
        foreach (var (tensor, role) in new[] { (weight, "weight"), (bias, "bias"), (runningMean, "running mean"),
            (runningVar, "running var") })
            RequireLength(tensor, c, role);
        int plane = h * w;
        float[] x = Array(input), y = Array(output), gamma = Array(weight), beta = Array(bias);
        float[] rm = Array(runningMean), rv = Array(runningVar);
        ForItems(n * c, plane, item =>
        {
            int channel = item % c;
            float scale = (float)(gamma[channel] / Math.Sqrt(rv[channel] + (double)epsilon));
            float shift = beta[channel] - rm[channel] * scale;
            ScaleShift(x.AsSpan(item * plane, plane), scale, shift, y.AsSpan(item * plane, plane));
        });
    }

    public void BatchNorm2dBackward(Tensor input, Tensor weight, Tensor saveMean, Tensor saveInvStd,
        Tensor gradOutput, Tensor gradInput, Tensor gradWeight, Tensor gradBias)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, gradOutput);
        RequireSameLength(input, gradInput);
        foreach (var (tensor, role) in new[] { (weight, "weight"), (saveMean, "saved mean"),
            (saveInvStd, "saved inverse std"), (gradWeight, "weight gradient"), (gradBias, "bias gradient") })
            RequireLength(tensor, c, role);
        int plane = h * w;
        long count = (long)n * plane;
        float[] x = Array(input), dy = Array(gradOutput), dx = Array(gradInput), gamma = Array(weight);
        float[] mean = Array(saveMean), invStd = Array(saveInvStd), dGamma = Array(gradWeight), dBeta = Array(gradBias);
        ForItems(c, count, channel =>
        {
            float channelMean = mean[channel], channelInvStd = invStd[channel];
            double sumDy = 0, sumDyCentered = 0;
            for (int image = 0; image < n; image++)
            {
                int offset = (image * c + channel) * plane;
                sumDy += TensorPrimitives.Sum(dy.AsSpan(offset, plane));
                sumDyCentered += DotCentered(dy.AsSpan(offset, plane), x.AsSpan(offset, plane), channelMean);
            }
            double sumDyXhat = sumDyCentered * channelInvStd;
            dBeta[channel] = (float)sumDy;
            dGamma[channel] = (float)sumDyXhat;
            // dx = γ·invStd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), written as k1·dy + k2·x + k3.
            double k1 = gamma[channel] * (double)channelInvStd;
            double k2 = -k1 * channelInvStd * sumDyXhat / count;
            double k3 = -k1 * sumDy / count - k2 * channelMean;
            for (int image = 0; image < n; image++)
            {
                int offset = (image * c + channel) * plane;
                LinearCombination(dy.AsSpan(offset, plane), x.AsSpan(offset, plane), (float)k1, (float)k2, (float)k3,
                    dx.AsSpan(offset, plane));
            }
        });
    }

    /// <summary>Σ (x − mean)² in float32 lanes.</summary>
    private static float SumSquaredDeviations(ReadOnlySpan<float> values, float mean)
    {
        var center = Vector512.Create(mean);
        var lanes = Vector512<float>.Zero;
        int i = 0;
        for (; i <= values.Length - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            var deviation = Vector512.Create(values.Slice(i)) - center;
            lanes = Vector512.FusedMultiplyAdd(deviation, deviation, lanes);
        }
        float sum = Vector512.Sum(lanes);
        for (; i < values.Length; i++)
            sum += (values[i] - mean) * (values[i] - mean);
        return sum;
    }

    /// <summary>Σ dy·(x − mean) in float32 lanes.</summary>
    private static float DotCentered(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean)
    {
        var center = Vector512.Create(mean);
        var lanes = Vector512<float>.Zero;
        int i = 0;
        for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            var deviation = Vector512.Create(x.Slice(i)) - center;
            lanes = Vector512.FusedMultiplyAdd(Vector512.Create(dy.Slice(i)), deviation, lanes);
        }
        float sum = Vector512.Sum(lanes);
        for (; i < x.Length; i++)
            sum += dy[i] * (x[i] - mean);
        return sum;
    }

    /// <summary>output = scale·x + shift, in place when <paramref name="output"/> is <paramref name="x"/>.</summary>
    private static void ScaleShift(ReadOnlySpan<float> x, float scale, float shift, Span<float> output)
    {
        var vScale = Vector512.Create(scale);
        var vShift = Vector512.Create(shift);
        int i = 0;
        for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i)), vScale, vShift).CopyTo(output.Slice(i));
        for (; i < x.Length; i++)
            output[i] = scale * x[i] + shift;
    }

    /// <summary>output = k1·a + k2·b + k3, elementwise.</summary>
    private static void LinearCombination(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float k1, float k2, float k3,
        Span<float> output)
    {
        var v1 = Vector512.Create(k1);
        var v2 = Vector512.Create(k2);
        var v3 = Vector512.Create(k3);
        int i = 0;
        for (; i <= a.Length - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            var term = Vector512.FusedMultiplyAdd(Vector512.Create(b.Slice(i)), v2, v3);
            Vector512.FusedMultiplyAdd(Vector512.Create(a.Slice(i)), v1, term).CopyTo(output.Slice(i));
        }
        for (; i < a.Length; i++)
            output[i] = k1 * a[i] + k2 * b[i] + k3;
    }
}
