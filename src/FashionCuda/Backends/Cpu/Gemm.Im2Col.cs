using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FashionCuda.Backends.Cpu;

/// <summary>
/// The im2col matrix of a group of images, read straight from the input tensor by the GEMM's packing instead of
/// being written out first. Row t = (c, r, s) of the matrix is kernel tap (r, s) of channel c; column j =
/// (image, p, q) is an output position of image n0 + image. Only stride-1 convs with W = Q qualify: output index
/// i = p·Q + q then reads input index i + (r − PadH)·W + (s − PadW) of its plane, so a run of columns within one
/// image is a contiguous run of the input, masked to zero where the tap falls in the padding.
/// </summary>
internal readonly unsafe struct Im2ColOperand
{
    /// <param name="input">Input (N, C, H, W) of the whole batch.</param>
    /// <param name="inputLength">Floats in <paramref name="input"/>, N·C·H·W; no read goes outside them.</param>
    /// <param name="masks">
    /// R·S rows of P·Q values, index (r·S + s)·P·Q + i: all bits set where tap (r, s) reads inside the input at
    /// output index i, else 0. <see cref="FillTables"/> writes them.
    /// </param>
    /// <param name="tapOffsets">C·R·S offsets, one per matrix row, from <see cref="FillTables"/>.</param>
    /// <param name="tapMasks">C·R·S indices into <paramref name="masks"/>, one per matrix row, from <see cref="FillTables"/>.</param>
    public Im2ColOperand(float* input, long inputLength, uint* masks, long* tapOffsets, int* tapMasks,
        in Conv2dGeometry geometry, int firstImage, int images)
    {
        if (geometry.StrideH != 1 || geometry.StrideW != 1 || geometry.W != geometry.Q)
            throw new ArgumentException($"Implicit im2col needs stride 1 and W = Q, got {geometry}.");
        Input = input;
        InputLength = inputLength;
        Masks = masks;
        TapOffsets = tapOffsets;
        TapMasks = tapMasks;
        FirstImage = firstImage;
        Images = images;
        ImageFloats = geometry.C * geometry.H * geometry.W;
        PQ = geometry.P * geometry.Q;
        Rows = geometry.C * geometry.R * geometry.S;
    }

    public float* Input { get; }

    public long InputLength { get; }

    public uint* Masks { get; }

    /// <summary>Per matrix row (c, r, s): c·H·W + (r − PadH)·W + (s − PadW), the input offset of output index 0.</summary>
    public long* TapOffsets { get; }

    /// <summary>Per matrix row (c, r, s): (r·S + s)·P·Q, the start of its mask row.</summary>
    public int* TapMasks { get; }

    public int FirstImage { get; }

    public int Images { get; }

    /// <summary>Floats of one input image: C·H·W.</summary>
    public int ImageFloats { get; }

    /// <summary>Output positions of one image: P·Q.</summary>
    public int PQ { get; }

    /// <summary>Rows of the matrix: C·R·S.</summary>
    public int Rows { get; }

    /// <summary>Columns of the matrix: images·P·Q.</summary>
    public int Columns => Images * PQ;

    /// <summary>Returns whether the operand is set; a default instance is not.</summary>
    public bool IsSet => Input != null;

    /// <summary>
    /// Writes the tables that <see cref="Im2ColOperand"/> reads: R·S·P·Q masks, and C·R·S tap offsets and mask
    /// starts.
    /// </summary>
    public static void FillTables(in Conv2dGeometry g, Span<uint> masks, Span<long> tapOffsets, Span<int> tapMasks)
    {
        for (int c = 0; c < g.C; c++)
        {
            for (int r = 0; r < g.R; r++)
            {
                for (int s = 0; s < g.S; s++)
                {
                    int row = (c * g.R + r) * g.S + s;
                    tapOffsets[row] = (long)c * g.H * g.W + (r - g.PadH) * g.W + (s - g.PadW);
                    tapMasks[row] = (r * g.S + s) * g.P * g.Q;
                }
            }
        }
        for (int r = 0; r < g.R; r++)
        {
            for (int s = 0; s < g.S; s++)
            {
                var row = masks.Slice((r * g.S + s) * g.P * g.Q, g.P * g.Q);
                for (int p = 0; p < g.P; p++)
                {
                    int ih = p - g.PadH + r;
                    for (int q = 0; q < g.Q; q++)
                    {
                        int iw = q - g.PadW + s;
                        row[p * g.Q + q] = (uint)ih < (uint)g.H && (uint)iw < (uint)g.W ? uint.MaxValue : 0u;
                    }
                }
            }
        }
    }

    /// <summary>Returns the offset of image <paramref name="image"/> of the group from the start of the input.</summary>
    public long ImageOffset(int image) => (long)(FirstImage + image) * ImageFloats;

    /// <summary>
    /// Writes the image offset and the position within the image of columns start .. start+count, without a
    /// division per column.
    /// </summary>
    public void LocateColumns(int start, int count, long* imageOffsets, int* positions)
    {
        int image = start / PQ, position = start % PQ;
        for (int i = 0; i < count; i++, position++)
        {
            if (position == PQ)
                (image, position) = (image + 1, 0);
            imageOffsets[i] = ImageOffset(image);
            positions[i] = position;
        }
    }

    /// <summary>
    /// Returns element (row, column) of the matrix, given the column as image and position, for the edges of the
    /// vector paths.
    /// </summary>
    public float Element(int row, long imageOffset, int position) =>
        Masks[TapMasks[row] + position] == 0 ? 0f : Input[imageOffset + TapOffsets[row] + position];
}

internal sealed unsafe partial class Gemm
{
    /// <summary>
    /// Computes C = alpha·A·op(B) + beta·C where B is the im2col matrix <paramref name="b"/>, never written out:
    /// op(B) = B (K = b.Rows, N = b.Columns) for a conv's forward pass, or Bᵀ (K = b.Columns, N = b.Rows) for its
    /// weight gradient. A is M×K row-major with stride lda, C is M×N with stride ldc.
    /// </summary>
    public void MultiplyIm2Col(bool transposeB, int m, float alpha, float* a, int lda, in Im2ColOperand b,
        float beta, float* c, int ldc)
    {
        if (!b.IsSet)
            throw new ArgumentException("The im2col operand is not set.", nameof(b));
        int n = transposeB ? b.Rows : b.Columns;
        int k = transposeB ? b.Columns : b.Rows;
        ValidateStrides(false, false, m, n, k, lda, Math.Max(1, n), ldc);
        if (m == 0 || n == 0)
            return;
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        Run(new Call(false, transposeB, m, n, k, alpha, a, lda, null, 0, beta, c, ldc, false, 0) { Im2Col = b });
    }

    /// <summary>Returns 8 input values with the ones under a zero mask cleared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MaskedRow(float* values, uint* mask) =>
        (Vector256.Load(values).AsUInt32() & Vector256.Load(mask)).AsSingle();

    /// <summary>Packs op(B) rows pc .. pc+kc, columns jc .. jc+nc from the implicit im2col matrix; see PackB.</summary>
    private static void PackIm2Col<TKernel>(in Call call, int pc, int jc, int kc, int nc, float* destination)
        where TKernel : struct, IMicroKernel
    {
        int nr = TKernel.Nr;
        var operand = call.Im2Col;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int columns = Math.Min(nr, nc - jr);
            float* sliver = destination + (long)jr * kc;
            if (call.TransposeB)
                PackIm2ColTransposed(in operand, pc, jc + jr, kc, columns, nr, sliver);
            else
                PackIm2ColSliver(in operand, pc, jc + jr, kc, columns, nr, sliver);
        }
    }

    /// <summary>
    /// Fills one sliver of B itself: rows (taps) pc .. pc+kc, columns (output positions) j0 .. j0+columns, zero
    /// past them. When the nr columns lie in one image, each row is nr consecutive input values, loaded as
    /// vectors and masked.
    /// </summary>
    private static void PackIm2ColSliver(in Im2ColOperand b, int pc, int j0, int kc, int columns, int nr,
        float* sliver)
    {
        int image = j0 / b.PQ, position = j0 % b.PQ;
        bool vectorRows = columns == nr && position + nr <= b.PQ && nr % Vector256<float>.Count == 0;
        long imageOffset = b.ImageOffset(image);
        // The image and position of each column, for rows that take the element-wise path.
        long* columnImages = stackalloc long[nr];
        int* columnPositions = stackalloc int[nr];
        b.LocateColumns(j0, columns, columnImages, columnPositions);
        float* input = b.Input;
        uint* masks = b.Masks;
        long* offsets = b.TapOffsets;
        int* maskStarts = b.TapMasks;
        long length = b.InputLength;
        for (int p = 0; p < kc; p++)
        {
            int row = pc + p;
            float* target = sliver + (long)p * nr;
            long start = imageOffset + offsets[row] + position;
            if (vectorRows && start >= 0 && start + nr <= length)
            {
                // Values under a zero mask come from a neighbouring row or plane; the AND clears them, NaN included.
                uint* mask = masks + maskStarts[row] + position;
                for (int col = 0; col < nr; col += Vector256<float>.Count)
                    Vector256.Store(MaskedRow(input + start + col, mask + col), target + col);
                continue;
            }
            int colEnd = 0;
            for (; colEnd < columns; colEnd++)
                target[colEnd] = b.Element(row, columnImages[colEnd], columnPositions[colEnd]);
            for (; colEnd < nr; colEnd++)
                target[colEnd] = 0f;
        }
    }

    /// <summary>
    /// Fills one sliver of Bᵀ: rows (output positions) pc .. pc+kc, columns (taps) t0 .. t0+columns, zero past
    /// them. Blocks of 8 taps × 8 positions within one image are loaded as 8 masked vectors and transposed.
    /// </summary>
    private static void PackIm2ColTransposed(in Im2ColOperand b, int pc, int t0, int kc, int columns, int nr,
        float* sliver)
    {
        const int Block = 8;
        // The image offset and position of each depth step (output position), computed once for all taps.
        long* pixelImages = stackalloc long[kc];
        int* pixelPositions = stackalloc int[kc];
        b.LocateColumns(pc, kc, pixelImages, pixelPositions);
        float* input = b.Input;
        uint* masks = b.Masks;
        long length = b.InputLength;
        int pqLimit = b.PQ - Block;
        int col = 0;
        if (Avx.IsSupported)
        {
            for (; col + Block <= columns; col += Block)
            {
                long* offsets = b.TapOffsets + t0 + col;
                int* maskStarts = b.TapMasks + t0 + col;
                long lowest = offsets[0], highest = offsets[0];
                for (int i = 1; i < Block; i++)
                    (lowest, highest) = (Math.Min(lowest, offsets[i]), Math.Max(highest, offsets[i]));
                int p = 0;
                for (; p + Block <= kc; p += Block)
                {
                    long imageOffset = pixelImages[p];
                    int position = pixelPositions[p];
                    long start = imageOffset + position;
                    if (position > pqLimit || start + lowest < 0 || start + highest + Block > length)
                    {
                        for (int j = 0; j < Block; j++)
                        {
                            for (int i = 0; i < Block; i++)
                            {
                                sliver[(long)(p + j) * nr + col + i] =
                                    b.Element(t0 + col + i, pixelImages[p + j], pixelPositions[p + j]);
                            }
                        }
                        continue;
                    }
                    // Row i of the block is tap col + i over the 8 positions, masked, then transposed into the
                    // sliver, where depth step p + j has the taps side by side.
                    StoreTransposed(
                        MaskedRow(input + start + offsets[0], masks + maskStarts[0] + position),
                        MaskedRow(input + start + offsets[1], masks + maskStarts[1] + position),
                        MaskedRow(input + start + offsets[2], masks + maskStarts[2] + position),
                        MaskedRow(input + start + offsets[3], masks + maskStarts[3] + position),
                        MaskedRow(input + start + offsets[4], masks + maskStarts[4] + position),
                        MaskedRow(input + start + offsets[5], masks + maskStarts[5] + position),
                        MaskedRow(input + start + offsets[6], masks + maskStarts[6] + position),
                        MaskedRow(input + start + offsets[7], masks + maskStarts[7] + position),
                        sliver + (long)p * nr + col, nr);
                }
                for (; p < kc; p++)
                {
                    for (int i = 0; i < Block; i++)
                        sliver[(long)p * nr + col + i] = b.Element(t0 + col + i, pixelImages[p], pixelPositions[p]);
                }
            }
        }
        for (; col < columns; col++)
        {
            for (int p = 0; p < kc; p++)
                sliver[(long)p * nr + col] = b.Element(t0 + col, pixelImages[p], pixelPositions[p]);
        }
        for (col = columns; col < nr; col++)
        {
            for (int p = 0; p < kc; p++)
                sliver[(long)p * nr + col] = 0f;
        }
    }
}
