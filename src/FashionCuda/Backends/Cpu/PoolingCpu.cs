using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
                    TwoByTwoForwardRow(plane.Slice(2 * p * g.W, g.W), plane.Slice((2 * p + 1) * g.W, g.W),
                        target.Slice(p * g.Q, g.Q));
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
            if (IsTwoByTwo(g))
            {
                for (int p = 0; p < g.P; p++)
                {
                    var row0 = plane.Slice(2 * p * g.W, g.W);
                    var row1 = plane.Slice((2 * p + 1) * g.W, g.W);
                    var gradRow0 = gradPlane.Slice(2 * p * g.W, g.W);
                    var gradRow1 = gradPlane.Slice((2 * p + 1) * g.W, g.W);
                    TwoByTwoBackwardRow(row0, row1, gradWindow.Slice(p * g.Q, g.Q), gradRow0, gradRow1);
                    // An odd width leaves a last column that no window covers.
                    gradRow0[(2 * g.Q)..].Clear();
                    gradRow1[(2 * g.Q)..].Clear();
                }
                gradPlane[(2 * g.P * g.W)..].Clear();
                return;
            }
            gradPlane.Clear();
            for (int p = 0; p < g.P; p++)
            {
                for (int q = 0; q < g.Q; q++)
                    gradPlane[WindowArgMax(plane, g, p, q)] += gradWindow[p * g.Q + q];
            }
        });
    }

    // The 2×2 stride-2 windows of one output row read input rows 2p (row0) and 2p+1 (row1). Window q covers
    // a = row0[2q], b = row0[2q+1], c = row1[2q], d = row1[2q+1], scanned in that order by the rule of IsNewMax.
    // The vector loops take four windows at a time: deinterleaving eight inputs of a row gives the four a (or c)
    // and the four b (or d).

    /// <summary>Maximum of each 2×2 window of one output row.</summary>
    private static void TwoByTwoForwardRow(ReadOnlySpan<float> row0, ReadOnlySpan<float> row1, Span<float> output)
    {
        int q = 0;
        if (Sse.IsSupported)
        {
            ref float top = ref MemoryMarshal.GetReference(row0);
            ref float bottom = ref MemoryMarshal.GetReference(row1);
            for (; q + 4 <= output.Length; q += 4)
            {
                var (a, b) = Deinterleave(ref top, 2 * q);
                var (c, d) = Deinterleave(ref bottom, 2 * q);
                var best = Vector128.ConditionalSelect(IsNewMax(b, a), b, a);
                best = Vector128.ConditionalSelect(IsNewMax(c, best), c, best);
                best = Vector128.ConditionalSelect(IsNewMax(d, best), d, best);
                best.CopyTo(output[q..]);
            }
        }
        for (; q < output.Length; q++)
        {
            float best = row0[2 * q];
            if (IsNewMax(row0[2 * q + 1], best))
                best = row0[2 * q + 1];
            if (IsNewMax(row1[2 * q], best))
                best = row1[2 * q];
            if (IsNewMax(row1[2 * q + 1], best))
                best = row1[2 * q + 1];
            output[q] = best;
        }
    }

    /// <summary>
    /// Writes the input gradient of rows 2p and 2p+1 for the windows of one output row: each window's gradient
    /// goes to its maximum and zeros to its other three elements. Columns past 2Q are left to the caller.
    /// </summary>
    private static void TwoByTwoBackwardRow(ReadOnlySpan<float> row0, ReadOnlySpan<float> row1,
        ReadOnlySpan<float> gradOutput, Span<float> gradRow0, Span<float> gradRow1)
    {
        int q = 0;
        if (Sse.IsSupported)
        {
            ref float top = ref MemoryMarshal.GetReference(row0);
            ref float bottom = ref MemoryMarshal.GetReference(row1);
            for (; q + 4 <= gradOutput.Length; q += 4)
            {
                var (a, b) = Deinterleave(ref top, 2 * q);
                var (c, d) = Deinterleave(ref bottom, 2 * q);
                var bWins = IsNewMax(b, a);
                var best = Vector128.ConditionalSelect(bWins, b, a);
                var cWins = IsNewMax(c, best);
                best = Vector128.ConditionalSelect(cWins, c, best);
                var dWins = IsNewMax(d, best);
                // A later winner overrides an earlier one, so each window keeps exactly one of the four masks.
                var laterC = cWins | dWins;
                var grad = Vector128.Create(gradOutput[q..]);
                var gradA = grad & ~(bWins | laterC);
                var gradB = grad & bWins & ~laterC;
                var gradC = grad & cWins & ~dWins;
                var gradD = grad & dWins;
                Sse.UnpackLow(gradA, gradB).CopyTo(gradRow0[(2 * q)..]);
                Sse.UnpackHigh(gradA, gradB).CopyTo(gradRow0[(2 * q + 4)..]);
                Sse.UnpackLow(gradC, gradD).CopyTo(gradRow1[(2 * q)..]);
                Sse.UnpackHigh(gradC, gradD).CopyTo(gradRow1[(2 * q + 4)..]);
            }
        }
        for (; q < gradOutput.Length; q++)
        {
            int best = 0;
            float bestValue = row0[2 * q];
            if (IsNewMax(row0[2 * q + 1], bestValue))
                (best, bestValue) = (1, row0[2 * q + 1]);
            if (IsNewMax(row1[2 * q], bestValue))
                (best, bestValue) = (2, row1[2 * q]);
            if (IsNewMax(row1[2 * q + 1], bestValue))
                best = 3;
            gradRow0[2 * q] = best == 0 ? gradOutput[q] : 0f;
            gradRow0[2 * q + 1] = best == 1 ? gradOutput[q] : 0f;
            gradRow1[2 * q] = best == 2 ? gradOutput[q] : 0f;
            gradRow1[2 * q + 1] = best == 3 ? gradOutput[q] : 0f;
        }
    }

    /// <summary>Elements offset, offset+2, +4, +6 and offset+1, +3, +5, +7 of a row.</summary>
    private static (Vector128<float> Even, Vector128<float> Odd) Deinterleave(ref float row, int offset)
    {
        var low = Vector128.LoadUnsafe(ref row, (nuint)offset);
        var high = Vector128.LoadUnsafe(ref row, (nuint)(offset + 4));
        return (Sse.Shuffle(low, high, 0b10_00_10_00), Sse.Shuffle(low, high, 0b11_01_11_01));
    }

    /// <summary>The 2×2, stride-2, unpadded window of every AlexNet-FM pool, which takes a vector path on x86.</summary>
    private static bool IsTwoByTwo(in Pool2dGeometry g) =>
        g.KernelH == 2 && g.KernelW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0;

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
                if (best < 0 || IsNewMax(plane[index], bestValue))
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

    /// <summary>Index of the first maximum by the rule of <see cref="IsNewMax(float, float)"/>.</summary>
    private static int FirstArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (IsNewMax(values[i], values[best]))
                best = i;
        }
        return best;
    }

    /// <summary>
    /// Whether <paramref name="value"/> replaces <paramref name="best"/> as a running maximum, by the reference's
    /// rule. A strictly larger value does, so the first of equal maxima stays. A NaN after a number does too, so a
    /// NaN in a window reaches the output.
    /// </summary>
    private static bool IsNewMax(float value, float best) =>
        value > best || (float.IsNaN(value) && !float.IsNaN(best));

    /// <summary><see cref="IsNewMax(float, float)"/> for four lanes: all bits set where the value replaces.</summary>
    private static Vector128<float> IsNewMax(Vector128<float> value, Vector128<float> best) =>
        Vector128.GreaterThan(value, best) |
        Vector128.AndNot(Vector128.Equals(best, best), Vector128.Equals(value, value));
}
