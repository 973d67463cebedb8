using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
/// thread along M or N, and each thread packs into its own workspace, which is kept between calls.
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

    private static readonly bool UseAvx512 = Vector512.IsHardwareAccelerated;
    private static readonly bool UseAvx2 = !UseAvx512 && Vector256.IsHardwareAccelerated;

    /// <summary>Rows of C in one micro-kernel tile.</summary>
    internal static readonly int Mr = UseAvx512 ? 12 : UseAvx2 ? 6 : 4;

    /// <summary>Columns of C in one micro-kernel tile.</summary>
    internal static readonly int Nr = UseAvx512 ? 32 : UseAvx2 ? 16 : 4;

    private readonly WorkerPool pool;
    private readonly Workspace[] workspaces;
    private readonly object callGate = new();
    private readonly Action<int> runPart;
    private Call current;

    public Gemm(WorkerPool pool)
    {
        this.pool = pool;
        workspaces = new Workspace[pool.ThreadCount];
        for (int i = 0; i < workspaces.Length; i++)
            workspaces[i] = new Workspace();
        runPart = RunPart;
    }

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
        int tilesM = (m + Mr - 1) / Mr;
        int tilesN = (n + Nr - 1) / Nr;
        bool splitN = tilesN >= tilesM;
        int tiles = splitN ? tilesN : tilesM;
        long macs = (long)m * n * k;
        int parts = macs < MinParallelMacs ? 1 : Math.Min(pool.ThreadCount, tiles);
        lock (callGate)
        {
            current = new Call(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, splitN,
                (tiles + parts - 1) / parts);
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
        if (m0 < m1 && n0 < n1)
            MultiplyBlock(in call, workspaces[part], m0, m1, n0, n1);
    }

    private static void MultiplyBlock(in Call call, Workspace workspace, int m0, int m1, int n0, int n1)
    {
        int mr = Mr, nr = Nr;
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
                PackB(in call, pc, jc, kc, nc, bPack);
                for (int ic = m0; ic < m1; ic += Mc)
                {
                    int mc = Math.Min(Mc, m1 - ic);
                    PackA(in call, ic, pc, mc, kc, aPack);
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
                                RunKernel(kc, aSliver, bSliver, cTile, call.Ldc, call.Alpha, beta);
                            }
                            else
                            {
                                RunKernel(kc, aSliver, bSliver, tile, nr, 1f, 0f);
                                MergeEdgeTile(tile, nr, cTile, call.Ldc, rows, columns, call.Alpha, beta);
                            }
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunKernel(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        if (UseAvx512)
            Kernel12x32(kc, a, b, c, ldc, alpha, beta);
        else if (UseAvx2)
            Kernel6x16(kc, a, b, c, ldc, alpha, beta);
        else
            Kernel4x4(kc, a, b, c, ldc, alpha, beta);
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
    private static void PackA(in Call call, int ic, int pc, int mc, int kc, float* destination)
    {
        int mr = Mr;
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
    private static void PackB(in Call call, int pc, int jc, int kc, int nc, float* destination)
    {
        int nr = Nr;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int columns = Math.Min(nr, nc - jr);
            float* sliver = destination + (long)jr * kc;
            if (call.TransposeB)
            {
                // op(B)(p, j) = B[j, p]: each column of the sliver is a contiguous run of B.
                for (int col = 0; col < columns; col++)
                {
                    float* source = call.B + (long)(jc + jr + col) * call.Ldb + pc;
                    for (int p = 0; p < kc; p++)
                        sliver[p * nr + col] = source[p];
                }
                for (int col = columns; col < nr; col++)
                {
                    for (int p = 0; p < kc; p++)
                        sliver[p * nr + col] = 0f;
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
    }

    /// <summary>One thread's packing buffers, 64-byte aligned native memory allocated once.</summary>
    private sealed class Workspace : IDisposable
    {
        public Workspace()
        {
            APack = Allocate((long)Mc * Kc);
            BPack = Allocate((long)Kc * Nc);
            Tile = Allocate((long)Mr * Nr);
        }

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
