using System.Numerics.Tensors;
using Tensor = FashionCuda.Tensors.Tensor;

namespace FashionCuda.Backends.Cpu;

// Pooling over (N, C, H, W) inputs, one task per (n, c) plane. A plane's gradient is written by one task only,
// so overlapping windows (stride < kernel) accumulate without races.
public sealed partial class CpuBackend
{
    public void MaxPool2dForward(Tensor input, Tensor output, Pool2dGeometry geometry)
    {
        var g = ValidatePool(input, output, geometry);
        float[] x = Array(input), y = Array(output);
        int inPlane = g.H * g.W, outPlane = g.P * g.Q;
        ForItems(g.N * g.C, (long)outPlane * g.KernelH * g.KernelW, item =>
        {
            var plane = x.AsSpan(item * inPlane, inPlane);
            var target = y.AsSpan(item * outPlane, outPlane);
            if (IsTwoByTwo(g))
            {
                for (int p = 0; p < g.P; p++)
                {
                    for (int q = 0; q < g.Q; q++)
                        target[p * g.Q + q] = plane[TwoByTwoArgMax(plane, g.W, p, q)];
                }
                return;
            }
            for (int p = 0; p < g.P; p++)
            {
                for (int q = 0; q < g.Q; q++)
                    target[p * g.Q + q] = plane[WindowArgMax(plane, g, p, q)];
            }
        });
    }

    public void MaxPool2dBackward(Tensor input, Tensor gradOutput, Tensor gradInput, Pool2dGeometry geometry)
    {
        var g = ValidatePool(input, gradOutput, geometry);
        RequireSameLength(input, gradInput);
        float[] x = Array(input), dy = Array(gradOutput), dx = Array(gradInput);
        int inPlane = g.H * g.W, outPlane = g.P * g.Q;
        ForItems(g.N * g.C, (long)outPlane * g.KernelH * g.KernelW, item =>
        {
            var plane = x.AsSpan(item * inPlane, inPlane);
            var gradPlane = dx.AsSpan(item * inPlane, inPlane);
            var gradWindow = dy.AsSpan(item * outPlane, outPlane);
            gradPlane.Clear();
            bool twoByTwo = IsTwoByTwo(g);
            for (int p = 0; p < g.P; p++)
            {
                for (int q = 0; q < g.Q; q++)
                {
                    int index = twoByTwo ? TwoByTwoArgMax(plane, g.W, p, q) : WindowArgMax(plane, g, p, q);
                    gradPlane[index] += gradWindow[p * g.Q + q];
                }
            }
        });
    }

    /// <summary>The 2×2, stride-2, unpadded window of every AlexNet-FM pool, which takes a branch-light path.</summary>
    private static bool IsTwoByTwo(in Pool2dGeometry g) =>
        g.KernelH == 2 && g.KernelW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0;

    /// <summary>
    /// Index of the first maximum of the 2×2 window (p, q) in row-major order, the same element that
    /// <see cref="WindowArgMax"/> picks.
    /// </summary>
    private static int TwoByTwoArgMax(ReadOnlySpan<float> plane, int width, int p, int q)
    {
        int best = 2 * p * width + 2 * q;
        int candidate = best + 1;
        if (plane[candidate] > plane[best])
            best = candidate;
        candidate = 2 * p * width + width + 2 * q;
        if (plane[candidate] > plane[best])
            best = candidate;
        if (plane[candidate + 1] > plane[best])
            best = candidate + 1;
        return best;
    }

    /// <summary>Index in the plane of the first maximum of window (p, q), skipping padded positions.</summary>
    private static int WindowArgMax(ReadOnlySpan<float> plane, Pool2dGeometry g, int p, int q)
    {
        int h0 = p * g.StrideH - g.PadH, w0 = q * g.StrideW - g.PadW;
        int best = -1;
        float bestValue = float.NegativeInfinity;
        for (int kh = 0; kh < g.KernelH; kh++)
        {
            int ih = h0 + kh;
            if ((uint)ih >= (uint)g.H)
                continue;
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int iw = w0 + kw;
                if ((uint)iw >= (uint)g.W)
                    continue;
                int index = ih * g.W + iw;
                // Strict comparison keeps the first of equal maxima.
                if (best < 0 || plane[index] > bestValue)
                {
                    best = index;
                    bestValue = plane[index];
                }
            }
        }
        return best;
    }

    public void AvgPool2dForward(Tensor input, Tensor output, Pool2dGeometry geometry)
    {
        var g = ValidatePool(input, output, geometry);
        float[] x = Array(input), y = Array(output);
        int inPlane = g.H * g.W, outPlane = g.P * g.Q;
        // Padded positions count in the divisor (count_include_pad), so it is the full window size.
        float scale = 1f / (g.KernelH * g.KernelW);
        ForItems(g.N * g.C, (long)outPlane * g.KernelH * g.KernelW, item =>
        {
            var plane = x.AsSpan(item * inPlane, inPlane);
            var target = y.AsSpan(item * outPlane, outPlane);
            for (int p = 0; p < g.P; p++)
            {
                for (int q = 0; q < g.Q; q++)
                {
                    var (hStart, hEnd, wStart, wEnd) = ValidWindow(g, p, q);
                    float sum = 0f;
                    for (int ih = hStart; ih < hEnd; ih++)
                        sum += TensorPrimitives.Sum(plane.Slice(ih * g.W + wStart, wEnd - wStart));
                    target[p * g.Q + q] = sum * scale;
                }
            }
        });
    }

    public void AvgPool2dBackward(Tensor gradOutput, Tensor gradInput, Pool2dGeometry geometry)
    {
        var g = ValidatePool(gradInput, gradOutput, geometry);
        float[] dy = Array(gradOutput), dx = Array(gradInput);
        int inPlane = g.H * g.W, outPlane = g.P * g.Q;
        float scale = 1f / (g.KernelH * g.KernelW);
        ForItems(g.N * g.C, (long)outPlane * g.KernelH * g.KernelW, item =>
        {
            var gradPlane = dx.AsSpan(item * inPlane, inPlane);
            var gradWindow = dy.AsSpan(item * outPlane, outPlane);
            gradPlane.Clear();
            for (int p = 0; p < g.P; p++)
            {
                for (int q = 0; q < g.Q; q++)
                {
                    var (hStart, hEnd, wStart, wEnd) = ValidWindow(g, p, q);
                    float share = gradWindow[p * g.Q + q] * scale;
                    for (int ih = hStart; ih < hEnd; ih++)
                    {
                        var run = gradPlane.Slice(ih * g.W + wStart, wEnd - wStart);
                        TensorPrimitives.Add(run, share, run);
                    }
                }
            }
        });
    }

    /// <summary>The part of window (p, q) inside the input, as half-open row and column ranges.</summary>
    private static (int HStart, int HEnd, int WStart, int WEnd) ValidWindow(Pool2dGeometry g, int p, int q)
    {
        int h0 = p * g.StrideH - g.PadH, w0 = q * g.StrideW - g.PadW;
        return (Math.Max(h0, 0), Math.Min(h0 + g.KernelH, g.H), Math.Max(w0, 0), Math.Min(w0 + g.KernelW, g.W));
    }

    private static Pool2dGeometry ValidatePool(Tensor input, Tensor output, Pool2dGeometry g)
    {
        g.Validate();
        RequireLength(input, (long)g.N * g.C * g.H * g.W, "pooling input");
        RequireLength(output, (long)g.N * g.C * g.P * g.Q, "pooling output");
        return g;
    }

    public void GlobalAvgPoolForward(Tensor input, Tensor output)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireLength(output, (long)n * c, "pooled output");
        int plane = h * w;
        float[] x = Array(input), y = Array(output);
        ForItems(n * c, plane, item => y[item] = TensorPrimitives.Sum(x.AsSpan(item * plane, plane)) / plane);
    }

    public void GlobalAvgPoolBackward(Tensor gradOutput, Tensor gradInput)
    {
        var (n, c, h, w) = Nchw(gradInput, "input gradient");
        RequireLength(gradOutput, (long)n * c, "pooled gradient");
        int plane = h * w;
        float[] dy = Array(gradOutput), dx = Array(gradInput);
        ForItems(n * c, plane, item => dx.AsSpan(item * plane, plane).Fill(dy[item] / plane));
    }

    public void GlobalMaxPoolForward(Tensor input, Tensor output)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireLength(output, (long)n * c, "pooled output");
        int plane = h * w;
        float[] x = Array(input), y = Array(output);
        ForItems(n * c, plane, item =>
        {
            var values = x.AsSpan(item * plane, plane);
            y[item] = values[FirstArgMax(values)];
        });
    }

    public void GlobalMaxPoolBackward(Tensor input, Tensor gradOutput, Tensor gradInput)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireLength(gradOutput, (long)n * c, "pooled gradient");
        RequireSameLength(input, gradInput);
        int plane = h * w;
        float[] x = Array(input), dy = Array(gradOutput), dx = Array(gradInput);
        ForItems(n * c, plane, item =>
        {
            var gradPlane = dx.AsSpan(item * plane, plane);
            gradPlane.Clear();
            gradPlane[FirstArgMax(x.AsSpan(item * plane, plane))] = dy[item];
        });
    }

    /// <summary>Index of the first maximum; the strict comparison sends ties to the lowest index.</summary>
    private static int FirstArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }
}
