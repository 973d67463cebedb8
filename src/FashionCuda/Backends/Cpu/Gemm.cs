using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FashionCuda.Backends.Cpu;

/// <summary>
/// Single-precision matrix product C = alpha·op(A)·op(B) + beta·C on row-major matrices, where op(X) is X or Xᵀ.
/// op(A) is M×K, op(B) is K×N and C is M×N; lda, ldb and ldc are the row strides of A, B and C as stored.
/// With beta = 0, C is written without being read, so it may hold garbage (even NaN) on entry.
/// </summary>
/// <remarks>
/// The loops follow the BLIS layout: a K×N panel of op(B) and an M×K block of op(A) are packed into contiguous
/// slivers of Nr columns and Mr rows, zero-padded at the edges. A register-blocked micro-kernel then multiplies one
/// Mr×K sliver by one K×Nr sliver while Mr×Nr values of C stay in registers. C is split into one part per
/// thread along M or N, and each thread packs into its own workspace, which is kept between calls. The
/// micro-kernel, and with it Mr and Nr, is fixed at construction. It is <see cref="DefaultKernel"/> unless the
/// caller picks another that the CPU supports.
/// One call runs at a time; concurrent callers wait.
/// </remarks>
internal sealed unsafe partial class Gemm : IDisposable
{
    // Depth of a packed block. Kc·Nr·4 bytes of the B sliver should stay in the 32 KiB L1 data cache of current
    // x86 cores while the A sliver streams from L2.
    private const int Kc = 256;

    // Rows of an A block (a multiple of every Mr); Mc·Kc·4 bytes should fit in L2.
    private const int Mc = 192;

    // Columns of a B panel (a multiple of every Nr); Kc·Nc·4 bytes should fit in the shared L3.
    private const int Nc = 2048;

    // Below this many multiply-adds the wake-up of the workers costs more than the split saves.
    private const long MinParallelMacs = 1L << 18;

    /// <summary>The widest micro-kernel that this CPU runs in hardware.</summary>
    internal static readonly GemmKernel DefaultKernel =
        IsSupported(GemmKernel.Avx512) ? GemmKernel.Avx512 :
        IsSupported(GemmKernel.Avx2) ? GemmKernel.Avx2 : GemmKernel.Scalar;

    private readonly WorkerPool pool;
    private readonly Workspace[] workspaces;
    private readonly object callGate = new();
    private readonly Action<int> runPart;
    private Call current;

    /// <summary>Creates a GEMM that runs <see cref="DefaultKernel"/>.</summary>
    public Gemm(WorkerPool pool)
        : this(pool, DefaultKernel)
    {
    }

    /// <summary>Creates a GEMM that runs the given micro-kernel, which this CPU must support.</summary>
    /// <exception cref="ArgumentException">This CPU does not run <paramref name="kernel"/> in hardware.</exception>
    internal Gemm(WorkerPool pool, GemmKernel kernel)
    {
        if (!IsSupported(kernel))
            throw new ArgumentException(
                $"The {kernel} GEMM kernel needs vector instructions that this CPU lacks; use {DefaultKernel}.",
                nameof(kernel));
        this.pool = pool;
        Kernel = kernel;
        (Mr, Nr) = TileSize(kernel);
        workspaces = new Workspace[pool.ThreadCount];
        for (int i = 0; i < workspaces.Length; i++)
            workspaces[i] = new Workspace(Mr * Nr);
        runPart = RunPart;
    }

    internal GemmKernel Kernel { get; }

    /// <summary>Rows of C in one micro-kernel tile.</summary>
    internal int Mr { get; }

    /// <summary>Columns of C in one micro-kernel tile.</summary>
    internal int Nr { get; }

    /// <summary>Bytes of native packing memory that the per-thread workspaces hold until disposal.</summary>
    internal long WorkspaceBytes => workspaces.Length * Workspace.Bytes(Mr * Nr);

    /// <summary>Returns whether this CPU runs <paramref name="kernel"/> with hardware vector instructions.</summary>
    internal static bool IsSupported(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Avx512 => Vector512.IsHardwareAccelerated,
        GemmKernel.Avx2 => Vector256.IsHardwareAccelerated,
        GemmKernel.Scalar => true,
        _ => false,
    };

    private static (int Mr, int Nr) TileSize(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Avx512 => (Avx512Kernel.Mr, Avx512Kernel.Nr),
        GemmKernel.Avx2 => (Avx2Kernel.Mr, Avx2Kernel.Nr),
        _ => (ScalarKernel.Mr, ScalarKernel.Nr),
    };

    /// <summary>Computes C = alpha·op(A)·op(B) + beta·C; see the class summary for the layout.</summary>
    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc)
    {
        ValidateStrides(transposeA, transposeB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0)
            return;
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        Run(new Call(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, false, 0));
    }

    /// <summary>Splits C into one part per thread along M or N and runs the parts of <paramref name="call"/>.</summary>
    private void Run(in Call call)
    {
        int tilesM = (call.M + Mr - 1) / Mr;
        int tilesN = (call.N + Nr - 1) / Nr;
        bool splitN = tilesN >= tilesM;
        int tiles = splitN ? tilesN : tilesM;
        long macs = (long)call.M * call.N * call.K;
        int parts = macs < MinParallelMacs ? 1 : Math.Min(pool.ThreadCount, tiles);
        lock (callGate)
        {
            current = new Call(call.TransposeA, call.TransposeB, call.M, call.N, call.K, call.Alpha, call.A, call.Lda,
                call.B, call.Ldb, call.Beta, call.C, call.Ldc, splitN, (tiles + parts - 1) / parts)
            {
                Im2Col = call.Im2Col,
            };
            if (parts == 1)
                RunPart(0);
            else
                pool.For(parts, runPart);
        }
    }

    /// <summary>Span overload; the spans must cover every element the strides reach.</summary>
    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha, ReadOnlySpan<float> a,
        int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        ValidateStrides(transposeA, transposeB, m, n, k, lda, ldb, ldc);
        if (m > 0 && n > 0)
        {
            long needA = transposeA ? (long)(k - 1) * lda + m : (long)(m - 1) * lda + k;
            long needB = transposeB ? (long)(n - 1) * ldb + k : (long)(k - 1) * ldb + n;
            long needC = (long)(m - 1) * ldc + n;
            if ((k > 0 && (a.Length < needA || b.Length < needB)) || c.Length < needC)
                throw new ArgumentException(
                    $"GEMM operands are too short for m={m}, n={n}, k={k}: A has {a.Length} of {needA}, " +
                    $"B has {b.Length} of {needB}, C has {c.Length} of {needC} elements.");
        }
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
            Multiply(transposeA, transposeB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    private static void ValidateStrides(bool transposeA, bool transposeB, int m, int n, int k, int lda, int ldb,
        int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"GEMM sizes must be non-negative, got m={m}, n={n}, k={k}.");
        int minLda = Math.Max(1, transposeA ? m : k);
        int minLdb = Math.Max(1, transposeB ? k : n);
        if (lda < minLda || ldb < minLdb || ldc < Math.Max(1, n))
            throw new ArgumentException(
                $"GEMM strides are too small for m={m}, n={n}, k={k}: lda={lda} (min {minLda}), " +
                $"ldb={ldb} (min {minLdb}), ldc={ldc} (min {Math.Max(1, n)}).");
    }

    private static void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f)
                row.Clear();
            else if (beta != 1f)
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    private void RunPart(int part)
    {
        ref readonly Call call = ref current;
        int m0 = 0, m1 = call.M, n0 = 0, n1 = call.N;
        if (call.SplitN)
        {
            n0 = part * call.TilesPerPart * Nr;
            n1 = Math.Min(call.N, n0 + call.TilesPerPart * Nr);
        }
        else
        {
            m0 = part * call.TilesPerPart * Mr;
            m1 = Math.Min(call.M, m0 + call.TilesPerPart * Mr);
        }
        if (m0 >= m1 || n0 >= n1)
            return;
        // One switch per part, so that each instantiation of MultiplyBlock compiles with its tile size as a constant.
        var workspace = workspaces[part];
        switch (Kernel)
        {
            case GemmKernel.Avx512:
                MultiplyBlock<Avx512Kernel>(in call, workspace, m0, m1, n0, n1);
                break;
            case GemmKernel.Avx2:
                MultiplyBlock<Avx2Kernel>(in call, workspace, m0, m1, n0, n1);
                break;
            default:
                MultiplyBlock<ScalarKernel>(in call, workspace, m0, m1, n0, n1);
                break;
        }
    }

    private static void MultiplyBlock<TKernel>(in Call call, Workspace workspace, int m0, int m1, int n0, int n1)
        where TKernel : struct, IMicroKernel
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        float* aPack = workspace.APack;
        float* bPack = workspace.BPack;
        float* tile = workspace.Tile;
        for (int jc = n0; jc < n1; jc += Nc)
        {
            int nc = Math.Min(Nc, n1 - jc);
            for (int pc = 0; pc < call.K; pc += Kc)
            {
                int kc = Math.Min(Kc, call.K - pc);
                // Only the first depth block applies beta; the later ones add to what it wrote.
                float beta = pc == 0 ? call.Beta : 1f;
                if (call.Im2Col.IsSet)
                    PackIm2Col<TKernel>(in call, pc, jc, kc, nc, bPack);
                else
                    PackB<TKernel>(in call, pc, jc, kc, nc, bPack);
                for (int ic = m0; ic < m1; ic += Mc)
                {
                    int mc = Math.Min(Mc, m1 - ic);
                    PackA<TKernel>(in call, ic, pc, mc, kc, aPack);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int columns = Math.Min(nr, nc - jr);
                        float* bSliver = bPack + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* aSliver = aPack + (long)ir * kc;
                            float* cTile = call.C + (long)(ic + ir) * call.Ldc + jc + jr;
                            if (rows == mr && columns == nr)
                            {
                                TKernel.Run(kc, aSliver, bSliver, cTile, call.Ldc, call.Alpha, beta);
                            }
                            else
                            {
                                TKernel.Run(kc, aSliver, bSliver, tile, nr, 1f, 0f);
                                MergeEdgeTile(tile, nr, cTile, call.Ldc, rows, columns, call.Alpha, beta);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Writes the valid rows × columns of a full edge tile into C with alpha and beta.</summary>
    private static void MergeEdgeTile(float* tile, int tileStride, float* c, int ldc, int rows, int columns,
        float alpha, float beta)
    {
        for (int i = 0; i < rows; i++)
        {
            float* source = tile + i * tileStride;
            float* destination = c + (long)i * ldc;
            if (beta == 0f)
            {
                for (int j = 0; j < columns; j++)
                    destination[j] = alpha * source[j];
            }
            else
            {
                for (int j = 0; j < columns; j++)
                    destination[j] = alpha * source[j] + beta * destination[j];
            }
        }
    }

    /// <summary>
    /// Packs op(A)[ic .. ic+mc, pc .. pc+kc] as Mr-row slivers: element (r, p) of sliver s is at
    /// s·Mr·kc + p·Mr + r. Rows past mc are zero.
    /// </summary>
    private static void PackA<TKernel>(in Call call, int ic, int pc, int mc, int kc, float* destination)
        where TKernel : struct, IMicroKernel
    {
        int mr = TKernel.Mr;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* sliver = destination + (long)ir * kc;
            if (call.TransposeA)
            {
                // op(A)(i, p) = A[p, i]: each depth step is a contiguous run of rows.
                for (int p = 0; p < kc; p++)
                {
                    float* source = call.A + (long)(pc + p) * call.Lda + ic + ir;
                    float* target = sliver + p * mr;
                    int r = 0;
                    for (; r < rows; r++)
                        target[r] = source[r];
                    for (; r < mr; r++)
                        target[r] = 0f;
                }
            }
            else
            {
                for (int r = 0; r < rows; r++)
                {
                    float* source = call.A + (long)(ic + ir + r) * call.Lda + pc;
                    for (int p = 0; p < kc; p++)
                        sliver[p * mr + r] = source[p];
                }
                for (int r = rows; r < mr; r++)
                {
                    for (int p = 0; p < kc; p++)
                        sliver[p * mr + r] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[pc .. pc+kc, jc .. jc+nc] as Nr-column slivers: element (p, c) of sliver s is at
    /// s·Nr·kc + p·Nr + c. Columns past nc are zero.
    /// </summary>
    private static void PackB<TKernel>(in Call call, int pc, int jc, int kc, int nc, float* destination)
        where TKernel : struct, IMicroKernel
    {
        int nr = TKernel.Nr;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int columns = Math.Min(nr, nc - jr);
            float* sliver = destination + (long)jr * kc;
            if (call.TransposeB)
            {
                // op(B)(p, j) = B[j, p]: each column of the sliver is a contiguous run of B.
                int col = 0;
                if (Avx.IsSupported)
                {
                    for (; col + 8 <= columns; col += 8)
                    {
                        float* source = call.B + (long)(jc + jr + col) * call.Ldb + pc;
                        int p = 0;
                        for (; p + 8 <= kc; p += 8)
                            Transpose8x8(source + p, call.Ldb, sliver + p * nr + col, nr);
                        for (; p < kc; p++)
                        {
                            for (int i = 0; i < 8; i++)
                                sliver[p * nr + col + i] = source[(long)i * call.Ldb + p];
                        }
                    }
                }
                for (; col < columns; col++)
                {
                    float* source = call.B + (long)(jc + jr + col) * call.Ldb + pc;
                    for (int p = 0; p < kc; p++)
                        sliver[p * nr + col] = source[p];
                }
                for (col = columns; col < nr; col++)
                {
                    for (int p = 0; p < kc; p++)
                        sliver[p * nr + col] = 0f;
                }
            }
            else if (columns == nr && nr % Vector256<float>.Count == 0)
            {
                // Inline vector moves, because the rows are only 64 or 128 bytes and a MemoryCopy call per row adds its
                // call overhead to each.
                for (int p = 0; p < kc; p++)
                {
                    float* source = call.B + (long)(pc + p) * call.Ldb + jc + jr;
                    float* target = sliver + p * nr;
                    for (int col = 0; col < nr; col += Vector256<float>.Count)
                        Vector256.Store(Vector256.Load(source + col), target + col);
                }
            }
            else if (columns == nr)
            {
                long rowBytes = (long)nr * sizeof(float);
                for (int p = 0; p < kc; p++)
                {
                    float* source = call.B + (long)(pc + p) * call.Ldb + jc + jr;
                    Buffer.MemoryCopy(source, sliver + p * nr, rowBytes, rowBytes);
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* source = call.B + (long)(pc + p) * call.Ldb + jc + jr;
                    float* target = sliver + p * nr;
                    int col = 0;
                    for (; col < columns; col++)
                        target[col] = source[col];
                    for (; col < nr; col++)
                        target[col] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Writes the transpose of the 8×8 block at <paramref name="source"/> (row i at source + i·sourceStride) to
    /// <paramref name="target"/>, so that target[j·targetStride + i] = source[i·sourceStride + j]. Needs AVX.
    /// </summary>
    private static void Transpose8x8(float* source, int sourceStride, float* target, int targetStride)
    {
        var r0 = Avx.LoadVector256(source);
        var r1 = Avx.LoadVector256(source + sourceStride);
        var r2 = Avx.LoadVector256(source + 2L * sourceStride);
        var r3 = Avx.LoadVector256(source + 3L * sourceStride);
        var r4 = Avx.LoadVector256(source + 4L * sourceStride);
        var r5 = Avx.LoadVector256(source + 5L * sourceStride);
        var r6 = Avx.LoadVector256(source + 6L * sourceStride);
        var r7 = Avx.LoadVector256(source + 7L * sourceStride);
        StoreTransposed(r0, r1, r2, r3, r4, r5, r6, r7, target, targetStride);
    }

    /// <summary>
    /// Writes the transpose of the 8×8 block whose rows are <paramref name="r0"/> .. <paramref name="r7"/>: row j
    /// of the result, element i of every input row, goes to target + j·targetStride. Needs AVX.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTransposed(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2,
        Vector256<float> r3, Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        float* target, int targetStride)
    {
        // pass 1: interleave row pairs, so t0 contains (a00 a10 a01 a11 | a04 a14 a05 a15)
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        // pass 2: gather four rows per 128-bit lane, so s0 contains (a00 a10 a20 a30 | a04 a14 a24 a34)
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        // pass 3: join the lanes of rows 0-3 and 4-7 into whole columns
        Avx.Store(target, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(target + targetStride, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(target + 2L * targetStride, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(target + 3L * targetStride, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(target + 4L * targetStride, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(target + 5L * targetStride, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(target + 6L * targetStride, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(target + 7L * targetStride, Avx.Permute2x128(s3, s7, 0x31));
    }

    public void Dispose()
    {
        lock (callGate)
        {
            foreach (var workspace in workspaces)
                workspace.Dispose();
        }
    }

    /// <summary>Arguments of the call in progress, read by every part.</summary>
    private readonly struct Call(bool transposeA, bool transposeB, int m, int n, int k, float alpha, float* a,
        int lda, float* b, int ldb, float beta, float* c, int ldc, bool splitN, int tilesPerPart)
    {
        public readonly bool TransposeA = transposeA;
        public readonly bool TransposeB = transposeB;
        public readonly int M = m;
        public readonly int N = n;
        public readonly int K = k;
        public readonly float Alpha = alpha;
        public readonly float* A = a;
        public readonly int Lda = lda;
        public readonly float* B = b;
        public readonly int Ldb = ldb;
        public readonly float Beta = beta;
        public readonly float* C = c;
        public readonly int Ldc = ldc;
        public readonly bool SplitN = splitN;
        public readonly int TilesPerPart = tilesPerPart;

        /// <summary>When set, op(B) is this implicit im2col matrix and B, Ldb are unused.</summary>
        public Im2ColOperand Im2Col { get; init; }
    }

    /// <summary>One thread's packing buffers, 64-byte aligned native memory allocated once.</summary>
    private sealed class Workspace : IDisposable
    {
        public Workspace(int tileFloats)
        {
            APack = Allocate((long)Mc * Kc);
            BPack = Allocate((long)Kc * Nc);
            Tile = Allocate(tileFloats);
        }

        /// <summary>Returns the bytes one workspace allocates for a tile of <paramref name="tileFloats"/>.</summary>
        public static long Bytes(int tileFloats) => ((long)Mc * Kc + (long)Kc * Nc + tileFloats) * sizeof(float);

        public float* APack { get; private set; }   // Mc × Kc

        public float* BPack { get; private set; }   // Kc × Nc

        public float* Tile { get; private set; }    // Mr × Nr, for tiles that overhang C

        private static float* Allocate(long floats) =>
            (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);

        public void Dispose()
        {
            if (APack == null)
                return;
            NativeMemory.AlignedFree(APack);
            NativeMemory.AlignedFree(BPack);
            NativeMemory.AlignedFree(Tile);
            APack = BPack = Tile = null;
        }

        ~Workspace() => Dispose();
    }
}
