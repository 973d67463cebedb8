using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Tensor = FashionCuda.Tensors.Tensor;

namespace FashionCuda.Backends.Cpu;

// Convolution as GEMM over a group of images at once, so the GEMM gets N = images·P·Q columns even when P·Q is
// small (7×7 maps give 49 columns per image, which would waste most of a 32-column tile).
//   columns (C·R·S, g·P·Q): im2col of g images; row (c, r, s), column (image, p, q)
//   staging (K, g·P·Q):     GEMM output or gathered dOutput of the group
//   forward:      staging = weight (K, C·R·S) · columns, then scattered to output (N, K, P, Q)
//   dWeight:      dWeight += staging · columnsᵀ over all groups
//   dInput:       columns = weightᵀ · staging, then col2im into dInput (N, C, H, W)
// Stride-1 convs with W = Q ("same" padding) never write the columns for the forward pass and dWeight: the GEMM
// packs them straight from the input (Im2ColOperand). Their dInput is a forward conv of dOutput when C ≥ K
// (ConvolveTransposed), else it goes through columns and col2im as above. Stride-1 convs with one output channel
// skip the GEMM (Conv2dCpu.SingleOutput.cs), and so does dWeight of 3×3 stride-1 convs with K ≤ 48 on maps such
// as 14×14 and 28×28 (Conv2dCpu.BorderedWeight.cs).
public sealed partial class CpuBackend
{
    // Cap on the columns buffer (4 MiB), which bounds the group size g. Im2col writes a group's columns and the
    // GEMM's packing reads them back at once, so a buffer that stays in the last-level cache saves a trip to memory.
    // In paired bench runs, 4 MiB trained 9 to 28 % faster than 16 MiB (docs/benchmarks.md).
    private const long MaxColumnFloats = 1L << 20;

    private float[] columns = [];
    private float[] staging = [];

    // Tables of the conv in progress that uses the implicit im2col (see Im2ColOperand.FillTables): R·S·P·Q masks,
    // and C·R·S tap offsets and mask starts.
    private uint[] tapMasks = [];
    private long[] tapOffsets = [];
    private int[] tapMaskStarts = [];

    // weight′ (C, K, R, S) of the dInput conv, see ConvolveTransposed.
    private float[] flippedWeight = [];

    public unsafe void Conv2dForward(Tensor input, Tensor weight, Tensor? bias, Tensor output, Conv2dGeometry geometry)
    {
        ValidateConv(input, weight, output, geometry);
        if (bias is not null)
            RequireLength(bias, geometry.K, "bias");
        Convolve(Array(input), Array(weight), bias is null ? null : Array(bias), Array(output), geometry);
    }

    /// <summary>The forward pass on arrays: output = conv(input, weight) + bias, shapes as in the file header.</summary>
    private unsafe void Convolve(float[] x, float[] wt, float[]? b, float[] y, Conv2dGeometry g)
    {
        if (IsSingleOutputConv(g))
        {
            ConvolveSingleOutput(x, wt, b, y, g);
            return;
        }
        int pq = g.P * g.Q, crs = g.C * g.R * g.S;
        int group = ImagesPerGroup(g);
        bool implicitColumns = UsesImplicitIm2Col(g);
        EnsureConvBuffers(implicitColumns ? 0 : crs, g.K, group * pq, implicitColumns ? g : null);
        fixed (float* px = x, pw = wt, py = y, pcol = columns, pstage = staging)
        fixed (uint* pmask = tapMasks)
        fixed (long* poffset = tapOffsets)
        fixed (int* pstart = tapMaskStarts)
        {
            for (int n0 = 0; n0 < g.N; n0 += group)
            {
                int images = Math.Min(group, g.N - n0);
                int ld = images * pq;
                var operand = implicitColumns ? InputColumns(px, pmask, poffset, pstart, g, n0, images) : default;
                float* col = IsPointwise(g) && images == 1 ? px + (long)n0 * g.C * g.H * g.W : pcol;
                if (col == pcol && !implicitColumns)
                    Im2Col(x, g, n0, images, columns);
                if (images == 1)
                {
                    // One image: the GEMM writes output[n] (K, P·Q) in place, on top of the bias.
                    float* target = py + (long)n0 * g.K * pq;
                    if (b is not null)
                        FillRows(target, g.K, pq, b);
                    float beta = b is null ? 0f : 1f;
                    if (implicitColumns)
                        gemm.MultiplyIm2Col(false, g.K, 1f, pw, crs, operand, beta, target, pq);
                    else
                        gemm.Multiply(false, false, g.K, pq, crs, 1f, pw, crs, col, ld, beta, target, pq);
                }
                else
                {
                    if (implicitColumns)
                        gemm.MultiplyIm2Col(false, g.K, 1f, pw, crs, operand, 0f, pstage, ld);
                    else
                        gemm.Multiply(false, false, g.K, ld, crs, 1f, pw, crs, col, ld, 0f, pstage, ld);
                    ScatterGroup(staging, y, b, g.K, pq, n0, images);
                }
            }
        }
    }

    public unsafe void Conv2dBackward(Tensor input, Tensor weight, Tensor gradOutput, Tensor? gradInput,
        Tensor? gradWeight, Tensor? gradBias, Conv2dGeometry geometry)
    {
        ValidateConv(input, weight, gradOutput, geometry);
        var g = geometry;
        int pq = g.P * g.Q, crs = g.C * g.R * g.S;
        float[] dy = Array(gradOutput);
        if (gradBias is not null)
        {
            RequireLength(gradBias, g.K, "bias gradient");
            ConvBiasGradient(dy, Array(gradBias), g.N, g.K, pq);
        }
        if (gradWeight is not null)
            RequireLength(gradWeight, weight.Length, "weight gradient");
        if (gradInput is not null)
            RequireLength(gradInput, input.Length, "input gradient");
        if (gradWeight is null && gradInput is null)
            return;
        int group = ImagesPerGroup(g);
        float[] x = Array(input), wt = Array(weight);
        float[] dw = gradWeight is null ? [] : Array(gradWeight);
        float[] dx = gradInput is null ? [] : Array(gradInput);
        // The direct dWeight paths below multiply zeros by input values that the conv never pairs with an output.
        // An Inf or NaN there turns its dWeight entry into NaN where the reference has a number, so a non-finite
        // dWeight is computed again by the GEMM, which skips those values as the reference does.
        if (IsSingleOutputConv(g))
        {
            SingleOutputBackward(x, wt, dy, dx, dw, g);
            if (gradWeight is null || AllFinite(dw, weight.Length))
                return;
            gradInput = null;
        }
        else if (gradWeight is not null && UsesBorderedWeight(g))
        {
            BorderedWeightGradient(x, dy, dw, g);
            if (AllFinite(dw, weight.Length))
            {
                gradWeight = null;
                if (gradInput is null)
                    return;
            }
        }
        if (gradInput is not null && HasTransposedConv(g))
        {
            // dInput as a forward conv of dOutput (below), which needs neither the columns nor col2im.
            ConvolveTransposed(dy, wt, dx, g);
            gradInput = null;
            if (gradWeight is null)
                return;
        }
        bool implicitColumns = gradWeight is not null && UsesImplicitIm2Col(g);
        // The columns are needed for col2im, and for dWeight unless the GEMM reads them from the input.
        bool needColumns = gradInput is not null || !implicitColumns;
        EnsureConvBuffers(needColumns ? crs : 0, g.K, group * pq, implicitColumns ? g : null);
        fixed (float* px = x, pw = wt, pdy = dy, pdw = dw, pdx = dx, pcol = columns, pstage = staging)
        fixed (uint* pmask = tapMasks)
        fixed (long* poffset = tapOffsets)
        fixed (int* pstart = tapMaskStarts)
        {
            for (int n0 = 0; n0 < g.N; n0 += group)
            {
                int images = Math.Min(group, g.N - n0);
                int ld = images * pq;
                float* dyGroup = pdy + (long)n0 * g.K * pq;
                if (images > 1)
                {
                    GatherGroup(dy, staging, g.K, pq, n0, images);
                    dyGroup = pstage;
                }
                bool direct = IsPointwise(g) && images == 1;
                if (implicitColumns)
                {
                    var operand = InputColumns(px, pmask, poffset, pstart, g, n0, images);
                    gemm.MultiplyIm2Col(true, g.K, 1f, dyGroup, ld, operand, n0 == 0 ? 0f : 1f, pdw, crs);
                }
                else if (gradWeight is not null)
                {
                    float* col = direct ? px + (long)n0 * g.C * g.H * g.W : pcol;
                    if (!direct)
                        Im2Col(x, g, n0, images, columns);
                    gemm.Multiply(false, true, g.K, crs, ld, 1f, dyGroup, ld, col, ld, n0 == 0 ? 0f : 1f, pdw, crs);
                }
                if (gradInput is not null)
                {
                    float* target = direct ? pdx + (long)n0 * g.C * g.H * g.W : pcol;
                    gemm.Multiply(true, false, crs, ld, g.K, 1f, pw, crs, dyGroup, ld, 0f, target, ld);
                    if (!direct)
                        Col2Im(columns, dx, g, n0, images);
                }
            }
        }
    }

    private static void ValidateConv(Tensor input, Tensor weight, Tensor output, Conv2dGeometry g)
    {
        g.Validate();
        RequireLength(input, (long)g.N * g.C * g.H * g.W, "input");
        RequireLength(weight, (long)g.K * g.C * g.R * g.S, "weight");
        RequireLength(output, (long)g.N * g.K * g.P * g.Q, "output");
    }

    private static bool IsPointwise(Conv2dGeometry g) =>
        g.R == 1 && g.S == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0;

    /// <summary>Picks how many images share one GEMM, balanced so that the last group is not a sliver.</summary>
    private static int ImagesPerGroup(Conv2dGeometry g)
    {
        long perImage = (long)g.C * g.R * g.S * g.P * g.Q;
        int group = (int)Math.Clamp(MaxColumnFloats / perImage, 1, g.N);
        int groups = (g.N + group - 1) / group;
        return (g.N + groups - 1) / groups;
    }

    /// <summary>
    /// Makes the columns buffer (<paramref name="columnRows"/> rows, 0 when the conv needs none) and the staging
    /// buffer large enough for a group, and fills the implicit im2col tables when <paramref name="maskGeometry"/>
    /// is given. All of them count as scratch memory.
    /// </summary>
    private void EnsureConvBuffers(int columnRows, int k, int groupColumns, Conv2dGeometry? maskGeometry)
    {
        long columnFloats = (long)columnRows * groupColumns;
        long stagingFloats = (long)k * groupColumns;
        if (columns.Length < columnFloats)
            columns = GrowScratch(columns, columnFloats);
        if (staging.Length < stagingFloats)
            staging = GrowScratch(staging, stagingFloats);
        if (maskGeometry is { } g)
        {
            int maskLength = g.R * g.S * g.P * g.Q, rows = g.C * g.R * g.S;
            if (tapMasks.Length < maskLength)
                tapMasks = GrowTable(tapMasks, maskLength);
            if (tapOffsets.Length < rows)
            {
                tapOffsets = GrowTable(tapOffsets, rows);
                tapMaskStarts = GrowTable(tapMaskStarts, rows);
            }
            Im2ColOperand.FillTables(g, tapMasks.AsSpan(0, maskLength), tapOffsets.AsSpan(0, rows),
                tapMaskStarts.AsSpan(0, rows));
        }
    }

    /// <summary>Replaces a kept table with a longer one and moves its scratch count along, as GrowScratch does.</summary>
    private unsafe T[] GrowTable<T>(T[] old, int length)
        where T : unmanaged
    {
        buffers.RemoveScratch((long)sizeof(T) * old.Length);
        var table = new T[length];
        buffers.AddScratch((long)sizeof(T) * table.Length);
        return table;
    }

    private static bool AllFinite(float[] values, long length)
    {
        for (long i = 0; i < length; i++)
        {
            if (!float.IsFinite(values[i]))
                return false;
        }
        return true;
    }

    /// <summary>
    /// Returns whether the GEMM reads the conv's im2col matrix straight from the input (see
    /// <see cref="Im2ColOperand"/>), which saves writing and reading back the columns buffer. 1×1 convs keep their
    /// own path.
    /// </summary>
    private static bool UsesImplicitIm2Col(in Conv2dGeometry g) => HasEqualRowStrides(g) && !IsPointwise(g);

    /// <summary>
    /// Returns whether dInput is computed as a stride-1 conv that <see cref="UsesImplicitIm2Col"/>: dInput =
    /// conv(dOutput, flipped weight) with padding R − 1 − PadH and S − 1 − PadW, which must be non-negative.
    /// That conv's GEMM has C rows, so it is used only for C ≥ K: with fewer rows than the C·R·S of the col2im
    /// path, AlexNet-FM w=16 (C &lt; K in conv2 and conv3) trained about 10 % slower in paired bench runs.
    /// </summary>
    private static bool HasTransposedConv(in Conv2dGeometry g) =>
        UsesImplicitIm2Col(g) && g.PadH <= g.R - 1 && g.PadW <= g.S - 1 && g.C >= g.K;

    /// <summary>
    /// Computes dInput (N, C, H, W) = Σ over k, r, s of dOutput[n, k, h + PadH − r, w + PadW − s] · weight[k, c, r, s]
    /// as a forward conv of dOutput (N, K, P, Q) with weight′[c, k, r′, s′] = weight[k, c, R − 1 − r′, S − 1 − s′].
    /// </summary>
    private void ConvolveTransposed(float[] dy, float[] wt, float[] dx, Conv2dGeometry g)
    {
        var transposed = new Conv2dGeometry(g.N, g.K, g.P, g.Q, g.C, g.R, g.S, 1, 1, g.R - 1 - g.PadH,
            g.S - 1 - g.PadW);
        int rs = g.R * g.S;
        long length = (long)g.K * g.C * rs;
        if (flippedWeight.Length < length)
            flippedWeight = GrowScratch(flippedWeight, length);
        for (int k = 0; k < g.K; k++)
        {
            for (int c = 0; c < g.C; c++)
            {
                var source = wt.AsSpan((k * g.C + c) * rs, rs);
                var target = flippedWeight.AsSpan((c * g.K + k) * rs, rs);
                for (int i = 0; i < rs; i++)
                    target[i] = source[rs - 1 - i];
            }
        }
        Convolve(dy, flippedWeight, null, dx, transposed);
    }

    private static unsafe Im2ColOperand InputColumns(float* input, uint* masks, long* tapOffsets, int* tapMaskStarts,
        in Conv2dGeometry g, int n0, int images) =>
        new(input, (long)g.N * g.C * g.H * g.W, masks, tapOffsets, tapMaskStarts, g, n0, images);

    private static unsafe void FillRows(float* target, int rows, int length, float[] values)
    {
        for (int row = 0; row < rows; row++)
            new Span<float>(target + (long)row * length, length).Fill(values[row]);
    }

    /// <summary>Writes the im2col rows of images n0 .. n0+count into <paramref name="col"/>, one task a plane.</summary>
    private unsafe void Im2Col(float[] x, Conv2dGeometry g, int n0, int count, float[] col)
    {
        int pq = g.P * g.Q, ld = count * pq;
        var windows = TapWindows(g);
        ForItems(count * g.C, (long)g.R * g.S * pq, item =>
        {
            int image = item / g.C, channel = item % g.C;
            fixed (float* px = x, pcol = col)
            {
                float* plane = px + (long)((n0 + image) * g.C + channel) * g.H * g.W;
                for (int r = 0; r < g.R; r++)
                {
                    for (int s = 0; s < g.S; s++)
                    {
                        long row = (channel * g.R + r) * g.S + s;
                        float* target = pcol + row * ld + image * pq;
                        Im2ColRow(plane, g, r, s, windows[r * g.S + s], target);
                    }
                }
            }
        });
    }

    /// <summary>Fills the P·Q input values that kernel tap (r, s) reads at the output positions of a plane.</summary>
    /// <remarks>
    /// Inline loops, because the runs are short (Q is 7 to 28 here) and span calls would dominate. Stride-1 runs
    /// move 8 floats at a time.
    /// </remarks>
    private static unsafe void Im2ColRow(float* plane, in Conv2dGeometry g, int r, int s, TapWindow window,
        float* target)
    {
        var (qStart, qEnd) = (window.QStart, window.QEnd);
        for (int p = 0; p < g.P; p++)
        {
            float* line = target + p * g.Q;
            int ih = p * g.StrideH - g.PadH + r;
            if ((uint)ih >= (uint)g.H)
            {
                for (int q = 0; q < g.Q; q++)
                    line[q] = 0f;
                continue;
            }
            // source[q · StrideW] is input column iw = q·StrideW − PadW + s.
            float* source = plane + ih * g.W - g.PadW + s;
            int stride = g.StrideW;
            for (int q = 0; q < qStart; q++)
                line[q] = 0f;
            int q0 = qStart;
            if (stride == 1)
            {
                // A contiguous run, moved 8 floats at a time.
                for (; q0 + Vector256<float>.Count <= qEnd; q0 += Vector256<float>.Count)
                    Vector256.Store(Vector256.Load(source + q0), line + q0);
            }
            for (int q = q0; q < qEnd; q++)
                line[q] = source[q * stride];
            for (int q = qEnd; q < g.Q; q++)
                line[q] = 0f;
        }
    }

    /// <summary>
    /// Returns whether a tap's P×Q block is the input plane shifted by a constant offset: stride 1 with W = Q, so
    /// that input and output rows have the same length. This holds for the "same" padding of 3×3 and 7×7 convs.
    /// </summary>
    private static bool HasEqualRowStrides(in Conv2dGeometry g) => g.StrideH == 1 && g.StrideW == 1 && g.W == g.Q;

    /// <summary>Output rows [PStart, PEnd) and columns [QStart, QEnd) at which one kernel tap reads inside the input.</summary>
    private readonly record struct TapWindow(int PStart, int PEnd, int QStart, int QEnd);

    /// <summary>
    /// Returns the window of every tap at index r·S + s, so that the loops over planes do no division.
    /// </summary>
    private static TapWindow[] TapWindows(in Conv2dGeometry g)
    {
        var windows = new TapWindow[g.R * g.S];
        for (int r = 0; r < g.R; r++)
        {
            var (pStart, pEnd) = ValidRows(g, r);
            for (int s = 0; s < g.S; s++)
            {
                var (qStart, qEnd) = ValidColumns(g, s);
                windows[r * g.S + s] = new TapWindow(pStart, pEnd, qStart, qEnd);
            }
        }
        return windows;
    }

    /// <summary>Returns the output rows p whose input row p·StrideH − PadH + r is in [0, H).</summary>
    private static (int Start, int End) ValidRows(in Conv2dGeometry g, int r)
    {
        // start exceeds P when the tap reads only padding at every output row (R > H + PadH + 1 is possible).
        int start = Math.Min(Math.Max(0, (g.PadH - r + g.StrideH - 1) / g.StrideH), g.P);
        int end = Math.Clamp((g.H + g.PadH - r + g.StrideH - 1) / g.StrideH, start, g.P);
        return (start, end);
    }

    /// <summary>
    /// Adds the im2col row of tap (r, s) into a dInput plane when <see cref="HasEqualRowStrides"/> holds, as one
    /// contiguous add over the valid rows. The padding columns of the row are zeroed first, because that add also
    /// reaches them and they belong to no input position. Each input value gets the same sums in the same order
    /// as in <see cref="Col2ImRow"/>, plus zeros.
    /// </summary>
    private static unsafe void Col2ImPlaneFlat(float* source, in Conv2dGeometry g, int r, int s, TapWindow window,
        float* plane)
    {
        var (pStart, pEnd, qStart, qEnd) = window;
        if (pStart == pEnd || qStart == qEnd)
            return;
        ClearPaddingColumns(source, g, pStart, pEnd, qStart, qEnd);
        int first = pStart * g.Q + qStart, end = (pEnd - 1) * g.Q + qEnd;
        int offset = (r - g.PadH) * g.W + (s - g.PadW);
        var target = new Span<float>(plane + first + offset, end - first);
        TensorPrimitives.Add(target, new ReadOnlySpan<float>(source + first, end - first), target);
    }

    /// <summary>Zeroes the columns outside [qStart, qEnd) of rows pStart .. pEnd of a P×Q block.</summary>
    private static unsafe void ClearPaddingColumns(float* block, in Conv2dGeometry g, int pStart, int pEnd, int qStart,
        int qEnd)
    {
        for (int p = pStart; p < pEnd; p++)
        {
            float* line = block + p * g.Q;
            for (int q = 0; q < qStart; q++)
                line[q] = 0f;
            for (int q = qEnd; q < g.Q; q++)
                line[q] = 0f;
        }
    }

    /// <summary>Returns the output columns q whose input column q·StrideW − PadW + s is in [0, W).</summary>
    private static (int Start, int End) ValidColumns(in Conv2dGeometry g, int s)
    {
        int start = Math.Min(Math.Max(0, (g.PadW - s + g.StrideW - 1) / g.StrideW), g.Q);
        int end = Math.Clamp((g.W + g.PadW - s + g.StrideW - 1) / g.StrideW, start, g.Q);
        return (start, end);
    }

    /// <summary>Sums the column gradients of images n0 .. n0+count back into their dInput planes.</summary>
    private unsafe void Col2Im(float[] col, float[] dx, Conv2dGeometry g, int n0, int count)
    {
        int pq = g.P * g.Q, ld = count * pq;
        var windows = TapWindows(g);
        bool flat = HasEqualRowStrides(g);
        ForItems(count * g.C, (long)g.R * g.S * pq, item =>
        {
            int image = item / g.C, channel = item % g.C;
            fixed (float* pdx = dx, pcol = col)
            {
                float* plane = pdx + (long)((n0 + image) * g.C + channel) * g.H * g.W;
                new Span<float>(plane, g.H * g.W).Clear();
                for (int r = 0; r < g.R; r++)
                {
                    for (int s = 0; s < g.S; s++)
                    {
                        long row = (channel * g.R + r) * g.S + s;
                        float* source = pcol + row * ld + image * pq;
                        var window = windows[r * g.S + s];
                        if (flat)
                            Col2ImPlaneFlat(source, g, r, s, window, plane);
                        else
                            Col2ImRow(source, g, r, s, window, plane);
                    }
                }
            }
        });
    }

    private static unsafe void Col2ImRow(float* source, in Conv2dGeometry g, int r, int s, TapWindow window,
        float* plane)
    {
        var (qStart, qEnd) = (window.QStart, window.QEnd);
        for (int p = 0; p < g.P; p++)
        {
            int ih = p * g.StrideH - g.PadH + r;
            if ((uint)ih >= (uint)g.H)
                continue;
            float* line = source + p * g.Q;
            float* target = plane + ih * g.W - g.PadW + s;
            int stride = g.StrideW;
            int q0 = qStart;
            if (stride == 1)
            {
                // Element-wise, so adding 8 floats at a time gives the scalar loop's sums bit for bit.
                for (; q0 + Vector256<float>.Count <= qEnd; q0 += Vector256<float>.Count)
                    Vector256.Store(Vector256.Load(target + q0) + Vector256.Load(line + q0), target + q0);
            }
            for (int q = q0; q < qEnd; q++)
                target[q * stride] += line[q];
        }
    }

    /// <summary>Copies staging (K, count·P·Q) to output images n0 .. n0+count, adding the bias.</summary>
    private void ScatterGroup(float[] source, float[] output, float[]? bias, int k, int pq, int n0, int count)
    {
        int ld = count * pq;
        ForItems(count * k, pq, item =>
        {
            int image = item / k, channel = item % k;
            var from = source.AsSpan(channel * ld + image * pq, pq);
            var to = output.AsSpan(((n0 + image) * k + channel) * pq, pq);
            if (bias is null)
                from.CopyTo(to);
            else
                TensorPrimitives.Add(from, bias[channel], to);
        });
    }

    /// <summary>Copies dOutput images n0 .. n0+count into staging (K, count·P·Q), inverting the scatter.</summary>
    private void GatherGroup(float[] gradOutput, float[] target, int k, int pq, int n0, int count)
    {
        int ld = count * pq;
        ForItems(count * k, pq, item =>
        {
            int image = item / k, channel = item % k;
            var from = gradOutput.AsSpan(((n0 + image) * k + channel) * pq, pq);
            from.CopyTo(target.AsSpan(channel * ld + image * pq, pq));
        });
    }

    private void ConvBiasGradient(float[] dy, float[] db, int n, int k, int pq)
    {
        ForItems(k, (long)n * pq, channel =>
        {
            double sum = 0;
            for (int image = 0; image < n; image++)
                sum += TensorPrimitives.Sum(dy.AsSpan((image * k + channel) * pq, pq));
            db[channel] = (float)sum;
        });
    }
}
