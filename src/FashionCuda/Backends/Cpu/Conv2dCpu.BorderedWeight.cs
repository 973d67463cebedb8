using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FashionCuda.Backends.Cpu;

// dWeight of 3×3 stride-1 convs with few output channels on maps such as 14×14 and 28×28, like the 16-channel
// convs of the narrow ResNet's first stage, without the im2col operand. With K = 16 the GEMM path packs C·9 values of
// the input per output position and uses each for only 16 multiply-adds, so its packing costs as much as its
// arithmetic.
// Here each input plane is copied once into a zero-bordered plane of row width Wb = W + 2·PadW, and each dOutput
// plane into rows of the same width with zeros past Q (as in Conv2dCpu.SingleOutput.cs). Then
//   dw[k, c, r, s] = Σ over n, i of dyWide[n, k][i] · bordered x[n, c][i + r·Wb + s]
// and one pass over a pair of planes updates all nine taps from one load of dOutput and nine shifted loads of
// the input.
public sealed partial class CpuBackend
{
    /// <summary>
    /// Largest K that takes this path. In single-conv timings at batch 128, K = 64 and 96 on 7×7 maps ran 3 to 4
    /// times slower here than through the GEMM, and K = 48 on 14×14 about as fast.
    /// </summary>
    private const int BorderedWeightMaxK = 48;

    /// <summary>
    /// Smallest P·Wb that takes this path: sixteen 8-float vectors. On 7×7 maps (P·Wb = 63) a pass over a pair of
    /// planes is 7 vectors long, and its fixed cost (nine horizontal sums and the scalar tail) outweighs the work.
    /// </summary>
    private const int BorderedWeightMinLength = 128;

    /// <summary>Images whose dWeight terms are summed together, in image order, before the groups are added.</summary>
    private const int BorderedWeightGroup = 8;

    private static bool UsesBorderedWeight(in Conv2dGeometry g) =>
        g.R == 3 && g.S == 3 && g.StrideH == 1 && g.StrideW == 1 && g.PadH < 3 && g.PadW < 3 &&
        g.K <= BorderedWeightMaxK && g.P * (g.W + 2 * g.PadW) >= BorderedWeightMinLength &&
        Vector256.IsHardwareAccelerated;

    /// <summary>Computes dWeight (K, C, 3, 3) of a conv that <see cref="UsesBorderedWeight"/> accepts.</summary>
    private void BorderedWeightGradient(float[] x, float[] dy, float[] dw, Conv2dGeometry g)
    {
        int width = g.W + 2 * g.PadW, borderedRows = g.H + 2 * g.PadH;
        int planeLength = borderedRows * width + 2, wideLength = g.P * width;
        int kcrs = g.K * g.C * 9;
        int groups = (g.N + BorderedWeightGroup - 1) / BorderedWeightGroup;
        // Each group of images has its own sums, added below in group order, so the result does not depend on
        // the thread count.
        var partials = RentScratch(groups * kcrs);
        ForItems(groups, (long)BorderedWeightGroup * kcrs * wideLength, group =>
        {
            var sums = partials.AsSpan(group * kcrs, kcrs);
            sums.Clear();
            var scratch = RentScratch(g.C * planeLength + g.K * wideLength);
            var planes = scratch.AsSpan(0, g.C * planeLength);
            var grads = scratch.AsSpan(g.C * planeLength, g.K * wideLength);
            int end = Math.Min(g.N, (group + 1) * BorderedWeightGroup);
            for (int image = group * BorderedWeightGroup; image < end; image++)
            {
                for (int c = 0; c < g.C; c++)
                {
                    CopyBordered(x.AsSpan((image * g.C + c) * g.H * g.W, g.H * g.W), g.H, g.W, g.PadH, g.PadW,
                        width, planes.Slice(c * planeLength, planeLength));
                }
                for (int k = 0; k < g.K; k++)
                {
                    CopyBordered(dy.AsSpan((image * g.K + k) * g.P * g.Q, g.P * g.Q), g.P, g.Q, 0, 0, width,
                        grads.Slice(k * wideLength, wideLength));
                }
                for (int k = 0; k < g.K; k++)
                {
                    var grad = grads.Slice(k * wideLength, wideLength);
                    for (int c = 0; c < g.C; c++)
                        AddTapDots(grad, planes.Slice(c * planeLength, planeLength), width,
                            sums.Slice((k * g.C + c) * 9, 9));
                }
            }
            ReturnScratch(scratch);
        });
        SumPartials(partials, groups, dw.AsSpan(0, kcrs));
    }

    /// <summary>
    /// Adds Σ over i of grad[i] · plane[i + r·width + s] to target[r·3 + s] for the nine taps (r, s) of a 3×3
    /// kernel. The plane needs grad.Length + 2·width + 2 elements.
    /// </summary>
    private static void AddTapDots(ReadOnlySpan<float> grad, ReadOnlySpan<float> plane, int width,
        Span<float> target)
    {
        if (plane.Length < grad.Length + 2 * width + 2)
            throw new ArgumentException("The bordered plane is too short for the 3×3 taps of this gradient.");
        ref float g = ref MemoryMarshal.GetReference(grad);
        ref float p = ref MemoryMarshal.GetReference(plane);
        nuint row1 = (nuint)width, row2 = (nuint)(2 * width);
        Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default,
            a12 = default, a20 = default, a21 = default, a22 = default;
        int i = 0;
        for (; i + Vector256<float>.Count <= grad.Length; i += Vector256<float>.Count)
        {
            nuint at = (nuint)i;
            var d = Vector256.LoadUnsafe(ref g, at);
            a00 = Vector256.FusedMultiplyAdd(d, Vector256.LoadUnsafe(ref p, at), a00);
            a01 = Vector256.FusedMultiplyAdd(d, Vector256.LoadUnsafe(ref p, at + 1), a01);
            a02 = Vector256.FusedMultiplyAdd(d, Vector256.LoadUnsafe(ref p, at + 2), a02);
            a10 = Vector256.FusedMultiplyAdd(d, Vector256.LoadUnsafe(ref p, at + row1), a10);
            a11 = Vector256.FusedMultiplyAdd(d, Vector256.LoadUnsafe(ref p, at + row1 + 1), a11);
            a12 = Vector256.FusedMultiplyAdd(d, Vector256.LoadUnsafe(ref p, at + row1 + 2), a12);
            a20 = Vector256.FusedMultiplyAdd(d, Vector256.LoadUnsafe(ref p, at + row2), a20);
            a21 = Vector256.FusedMultiplyAdd(d, Vector256.LoadUnsafe(ref p, at + row2 + 1), a21);
            a22 = Vector256.FusedMultiplyAdd(d, Vector256.LoadUnsafe(ref p, at + row2 + 2), a22);
        }
        Span<float> tail = stackalloc float[9];
        for (; i < grad.Length; i++)
        {
            float d = grad[i];
            for (int r = 0; r < 3; r++)
            {
                for (int s = 0; s < 3; s++)
                    tail[r * 3 + s] += d * plane[i + r * width + s];
            }
        }
        target[0] += Vector256.Sum(a00) + tail[0];
        target[1] += Vector256.Sum(a01) + tail[1];
        target[2] += Vector256.Sum(a02) + tail[2];
        target[3] += Vector256.Sum(a10) + tail[3];
        target[4] += Vector256.Sum(a11) + tail[4];
        target[5] += Vector256.Sum(a12) + tail[5];
        target[6] += Vector256.Sum(a20) + tail[6];
        target[7] += Vector256.Sum(a21) + tail[7];
        target[8] += Vector256.Sum(a22) + tail[8];
    }
}
