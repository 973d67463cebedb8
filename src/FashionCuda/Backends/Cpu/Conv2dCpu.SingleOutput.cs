using System.Numerics.Tensors;

namespace FashionCuda.Backends.Cpu;

// Direct convolution for stride-1 convs with one output channel (K = 1), such as CBAM's spatial-attention conv
// (2 → 1 channels, 7×7). The GEMM of the general path would get a single row, and its 6-row tiles waste most of
// their work on it.
// A plane to convolve is copied into a zero-bordered plane of row width Wb, and the result is summed in rows of
// the same width. Tap (r, s) then reads the bordered plane at the flat offset r·Wb + s for every output, so each
// tap is one multiply-add over a whole plane. The columns past the end of each result row collect values that
// are dropped.
//   forward: y[n, 0] = Σ over c, r, s of weight[0, c, r, s] · x[n, c] bordered by PadH rows and PadW columns,
//            shifted by (r, s), plus the bias. Wb = W + 2·PadW.
//   dInput:  dx[n, c] = the same sum over r, s of dy[n, 0] bordered by R−1−PadH rows and S−1−PadW columns, with
//            the kernel of channel c flipped in r and s. Wb = W + S − 1.
//   dWeight: dw[0, c, r, s] = Σ over n of the dot product of dy[n, 0], laid out Wb wide with zeros past Q, and
//            the bordered x[n, c] shifted by (r, s). Wb = W + 2·PadW.
public sealed partial class CpuBackend
{
    /// <summary>Whether the conv takes the direct path of this file; the dInput border needs PadH ≤ R − 1.</summary>
    private static bool IsSingleOutputConv(in Conv2dGeometry g) =>
        g.K == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH < g.R && g.PadW < g.S;

    private void ConvolveSingleOutput(float[] x, float[] wt, float[]? b, float[] y, Conv2dGeometry g)
    {
        int width = g.W + 2 * g.PadW, borderedRows = g.H + 2 * g.PadH, taps = g.R * g.S;
        int borderedLength = borderedRows * width + g.S - 1, wideLength = g.P * width;
        ForItems(g.N, (long)g.C * g.H * g.W * taps, image =>
        {
            var scratch = RentScratch(borderedLength + wideLength);
            var bordered = scratch.AsSpan(0, borderedLength);
            var wide = scratch.AsSpan(borderedLength, wideLength);
            wide.Fill(b is null ? 0f : b[0]);
            for (int c = 0; c < g.C; c++)
            {
                CopyBordered(x.AsSpan((image * g.C + c) * g.H * g.W, g.H * g.W), g.H, g.W, g.PadH, g.PadW, width,
                    bordered);
                AccumulateTaps(bordered, width, wt.AsSpan(c * taps, taps), g.R, g.S, wide);
            }
            var output = y.AsSpan(image * g.P * g.Q, g.P * g.Q);
            for (int p = 0; p < g.P; p++)
                wide.Slice(p * width, g.Q).CopyTo(output.Slice(p * g.Q, g.Q));
            ReturnScratch(scratch);
        });
    }

    /// <summary>Computes dInput and dWeight of a conv that <see cref="IsSingleOutputConv"/> accepts; either may be empty.</summary>
    private void SingleOutputBackward(float[] x, float[] wt, float[] dy, float[] dx, float[] dw, Conv2dGeometry g)
    {
        int taps = g.R * g.S, crs = g.C * taps;
        bool wantInput = dx.Length > 0, wantWeight = dw.Length > 0;
        // Every image writes its own dWeight terms, summed below in image order, so the result does not depend
        // on the thread count.
        var partials = wantWeight ? RentScratch(g.N * crs) : [];
        float[] flipped = [];
        if (wantInput)
        {
            flipped = RentScratch(crs);
            for (int c = 0; c < g.C; c++)
            {
                for (int t = 0; t < taps; t++)
                    flipped[c * taps + t] = wt[c * taps + taps - 1 - t];
            }
        }
        int inputWidth = g.W + g.S - 1, inputRows = g.H + g.R - 1;
        int weightWidth = g.W + 2 * g.PadW, weightRows = g.H + 2 * g.PadH;
        int borderedLength = Math.Max(inputRows * inputWidth, weightRows * weightWidth) + g.S - 1;
        int wideLength = Math.Max(g.H * inputWidth, g.P * weightWidth);
        ForItems(g.N, (long)g.C * g.H * g.W * taps, image =>
        {
            var scratch = RentScratch(borderedLength + wideLength);
            var bordered = scratch.AsSpan(0, borderedLength);
            var wide = scratch.AsSpan(borderedLength, wideLength);
            var gradPlane = dy.AsSpan(image * g.P * g.Q, g.P * g.Q);
            if (wantInput)
            {
                var borderedGrad = bordered[..(inputRows * inputWidth + g.S - 1)];
                CopyBordered(gradPlane, g.P, g.Q, g.R - 1 - g.PadH, g.S - 1 - g.PadW, inputWidth, borderedGrad);
                var sum = wide[..(g.H * inputWidth)];
                for (int c = 0; c < g.C; c++)
                {
                    sum.Clear();
                    AccumulateTaps(borderedGrad, inputWidth, flipped.AsSpan(c * taps, taps), g.R, g.S, sum);
                    var target = dx.AsSpan((image * g.C + c) * g.H * g.W, g.H * g.W);
                    for (int h = 0; h < g.H; h++)
                        sum.Slice(h * inputWidth, g.W).CopyTo(target.Slice(h * g.W, g.W));
                }
            }
            if (wantWeight)
            {
                var gradWide = wide[..(g.P * weightWidth)];
                gradWide.Clear();
                for (int p = 0; p < g.P; p++)
                    gradPlane.Slice(p * g.Q, g.Q).CopyTo(gradWide.Slice(p * weightWidth, g.Q));
                var borderedInput = bordered[..(weightRows * weightWidth + g.S - 1)];
                for (int c = 0; c < g.C; c++)
                {
                    CopyBordered(x.AsSpan((image * g.C + c) * g.H * g.W, g.H * g.W), g.H, g.W, g.PadH, g.PadW,
                        weightWidth, borderedInput);
                    for (int r = 0; r < g.R; r++)
                    {
                        for (int s = 0; s < g.S; s++)
                        {
                            partials[image * crs + c * taps + r * g.S + s] = TensorPrimitives.Dot(gradWide,
                                borderedInput.Slice(r * weightWidth + s, gradWide.Length));
                        }
                    }
                }
            }
            ReturnScratch(scratch);
        });
        if (wantInput)
            ReturnScratch(flipped);
        if (!wantWeight)
            return;
        SumPartials(partials, g.N, dw.AsSpan(0, crs));
    }

    /// <summary>
    /// Sums <paramref name="count"/> consecutive blocks of <paramref name="partials"/>, each as long as
    /// <paramref name="total"/>, into it in block order, so the result does not depend on the thread count, and
    /// returns the scratch array.
    /// </summary>
    private void SumPartials(float[] partials, int count, Span<float> total)
    {
        partials.AsSpan(0, total.Length).CopyTo(total);
        for (int block = 1; block < count; block++)
            TensorPrimitives.Add(total, partials.AsSpan(block * total.Length, total.Length), total);
        ReturnScratch(partials);
    }

    /// <summary>
    /// Copies a rows × columns plane into <paramref name="target"/> at row <paramref name="top"/> and column
    /// <paramref name="left"/> of a layout <paramref name="width"/> wide, and zeros the rest of the target.
    /// </summary>
    private static void CopyBordered(ReadOnlySpan<float> plane, int rows, int columns, int top, int left, int width,
        Span<float> target)
    {
        target.Clear();
        for (int i = 0; i < rows; i++)
            plane.Slice(i * columns, columns).CopyTo(target.Slice((top + i) * width + left, columns));
    }

    /// <summary>
    /// Adds kernel[r·S + s] · bordered[i + r·width + s] to sum[i] for every tap (r, s) and every i in the sum.
    /// The bordered plane needs sum.Length + (R − 1)·width + S − 1 elements.
    /// </summary>
    private static void AccumulateTaps(ReadOnlySpan<float> bordered, int width, ReadOnlySpan<float> kernel, int r,
        int s, Span<float> sum)
    {
        for (int row = 0; row < r; row++)
        {
            for (int column = 0; column < s; column++)
            {
                TensorPrimitives.MultiplyAdd(bordered.Slice(row * width + column, sum.Length),
                    kernel[row * s + column], sum, sum);
            }
        }
    }
}
