using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using Xunit;

namespace FashionCuda.Tests.Backends.Cpu;

/// <summary>
/// The GEMM that reads im2col straight from the input, against a product with the im2col matrix written out by
/// its definition. Inputs and weights are small integers, so every sum is exact and the results must be equal.
/// </summary>
public sealed unsafe partial class Im2ColOperandTests : IDisposable
{
    private readonly WorkerPool pool = new(2);

    public void Dispose() => pool.Dispose();

    /// <summary>
    /// Stride-1 geometries with W = Q. Their P·Q (49, 27, 100, 196) are not multiples of 8 or 16, so 8-position
    /// blocks and the column slivers of the AVX kernels cross from one image to the next. One has unequal padding with padding 0 on one axis, one a 7×7
    /// kernel.
    /// </summary>
    internal static readonly (int N, int C, int H, int W, int K, int Size, int PadH, int PadW)[] Geometries =
    [
        (5, 3, 7, 7, 5, 3, 1, 1), (3, 2, 5, 9, 17, 3, 0, 1), (2, 4, 10, 10, 8, 7, 3, 3), (4, 16, 14, 14, 12, 3, 1, 1),
    ];

    [Theory]
    [GemmKernelConvs(GemmKernel.Avx512)]
    [GemmKernelConvs(GemmKernel.Avx2)]
    [GemmKernelConvs(GemmKernel.Scalar)]
    public void ForwardMatchesExplicitColumns(string kernel, int n, int c, int h, int w, int k, int size, int padH,
        int padW)
    {
        using var gemm = new Gemm(pool, Enum.Parse<GemmKernel>(kernel));
        var g = new Conv2dGeometry(n, c, h, w, k, size, size, 1, 1, padH, padW);
        var rng = new Random(11);
        var input = SmallIntegers(rng, n * c * h * w);
        var weight = SmallIntegers(rng, k * c * size * size);
        // The group leaves out the first image, so image offsets inside the batch are exercised too.
        int first = 1, images = n - 1, rows = c * size * size, columns = images * g.P * g.Q;
        var expected = Product(weight, k, rows, ExplicitColumns(input, g, first, images), columns);

        var actual = new float[k * columns];
        WithOperand(input, g, first, images, operand =>
        {
            fixed (float* pw = weight, pc = actual)
                gemm.MultiplyIm2Col(false, k, 1f, pw, rows, operand, 0f, pc, columns);
        });

        Assert.True(expected.Any(value => value != 0f), "the reference product is all zero");
        Assert.Equal(expected, actual);
    }

    [Theory]
    [GemmKernelConvs(GemmKernel.Avx512)]
    [GemmKernelConvs(GemmKernel.Avx2)]
    [GemmKernelConvs(GemmKernel.Scalar)]
    public void WeightGradientMatchesExplicitColumns(string kernel, int n, int c, int h, int w, int k, int size,
        int padH, int padW)
    {
        using var gemm = new Gemm(pool, Enum.Parse<GemmKernel>(kernel));
        var g = new Conv2dGeometry(n, c, h, w, k, size, size, 1, 1, padH, padW);
        var rng = new Random(12);
        var input = SmallIntegers(rng, n * c * h * w);
        int first = 0, images = n, rows = c * size * size, columns = images * g.P * g.Q;
        var gradOutput = SmallIntegers(rng, k * columns);
        var columnsT = Transpose(ExplicitColumns(input, g, first, images), rows, columns);
        var expected = Product(gradOutput, k, columns, columnsT, rows);
        // beta = 1 adds to what C held, as the conv does for every group after the first.
        var start = SmallIntegers(rng, k * rows);
        for (int i = 0; i < expected.Length; i++)
            expected[i] += start[i];

        var actual = (float[])start.Clone();
        WithOperand(input, g, first, images, operand =>
        {
            fixed (float* pdy = gradOutput, pc = actual)
                gemm.MultiplyIm2Col(true, k, 1f, pdy, columns, operand, 1f, pc, rows);
        });

        Assert.True(expected.Any(value => value != 0f), "the reference product is all zero");
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void MaskedPaddingIgnoresNaNInput()
    {
        // NaN in a neighbouring plane is read by the vector loads at the padding and must be cleared by the mask.
        using var gemm = new Gemm(pool);
        var g = new Conv2dGeometry(3, 2, 8, 8, 4, 3, 3, 1, 1, 1, 1);
        var input = new float[3 * 2 * 8 * 8];
        Array.Fill(input, 1f);
        Array.Fill(input, float.NaN, 0, 2 * 8 * 8);
        Array.Fill(input, float.NaN, 2 * 2 * 8 * 8, 2 * 8 * 8);
        int rows = 2 * 9, columns = 64;
        var weight = new float[4 * rows];
        Array.Fill(weight, 1f);
        var output = new float[4 * columns];
        WithOperand(input, g, 1, 1, operand =>
        {
            fixed (float* pw = weight, pc = output)
                gemm.MultiplyIm2Col(false, 4, 1f, pw, rows, operand, 0f, pc, columns);
        });

        // Image 1 is all ones: an output position sums the 2·9 taps that fall inside the 8×8 plane.
        Assert.Equal(18f, output[9]);
        Assert.Equal(8f, output[0]);
        Assert.All(output, value => Assert.False(float.IsNaN(value)));
    }

    [Fact]
    public void ReadsStayInsideInput()
    {
        // The input sits right after one inaccessible page and right before another, so a vector load that
        // reached outside it would crash the test process instead of reading a neighbour's memory.
        if (!OperatingSystem.IsLinux())
            return;
        using var gemm = new Gemm(pool);
        foreach (var (n, c, h, w, k, size, padH, padW) in Geometries)
        {
            var g = new Conv2dGeometry(n, c, h, w, k, size, size, 1, 1, padH, padW);
            int length = n * c * h * w, rows = c * size * size, columns = n * g.P * g.Q;
            var values = SmallIntegers(new Random(13), length);
            var expectedForward = Product(SmallIntegers(new Random(14), k * rows), k, rows,
                ExplicitColumns(values, g, 0, n), columns);
            foreach (bool atStart in new[] { true, false })
            {
                using var guarded = new GuardedFloats(length, atStart);
                values.CopyTo(new Span<float>(guarded.Pointer, length));
                var weight = SmallIntegers(new Random(14), k * rows);
                var forward = new float[k * columns];
                var gradient = new float[k * rows];
                var gradOutput = SmallIntegers(new Random(15), k * columns);
                WithOperand(guarded.Pointer, length, g, 0, n, operand =>
                {
                    fixed (float* pw = weight, pf = forward, pdy = gradOutput, pg = gradient)
                    {
                        gemm.MultiplyIm2Col(false, k, 1f, pw, rows, operand, 0f, pf, columns);
                        gemm.MultiplyIm2Col(true, k, 1f, pdy, columns, operand, 0f, pg, rows);
                    }
                });
                Assert.Equal(expectedForward, forward);
            }
        }
    }

    private static void WithOperand(float[] input, Conv2dGeometry g, int first, int images,
        Action<Im2ColOperand> use)
    {
        fixed (float* px = input)
            WithOperand(px, input.Length, g, first, images, use);
    }

    private static void WithOperand(float* input, int length, Conv2dGeometry g, int first, int images,
        Action<Im2ColOperand> use)
    {
        var masks = new uint[g.R * g.S * g.P * g.Q];
        var offsets = new long[g.C * g.R * g.S];
        var maskStarts = new int[g.C * g.R * g.S];
        Im2ColOperand.FillTables(g, masks, offsets, maskStarts);
        fixed (uint* pm = masks)
        fixed (long* po = offsets)
        fixed (int* ps = maskStarts)
            use(new Im2ColOperand(input, length, pm, po, ps, g, first, images));
    }

    /// <summary>Writes im2col by its definition: row (c, r, s), column (image, p, q), zero in the padding.</summary>
    private static float[] ExplicitColumns(float[] input, Conv2dGeometry g, int first, int images)
    {
        int pq = g.P * g.Q, columns = images * pq;
        var result = new float[g.C * g.R * g.S * columns];
        for (int c = 0; c < g.C; c++)
        for (int r = 0; r < g.R; r++)
        for (int s = 0; s < g.S; s++)
        for (int image = 0; image < images; image++)
        for (int p = 0; p < g.P; p++)
        for (int q = 0; q < g.Q; q++)
        {
            int ih = p - g.PadH + r, iw = q - g.PadW + s;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W)
                continue;
            int row = (c * g.R + r) * g.S + s;
            result[(long)row * columns + image * pq + p * g.Q + q] =
                input[(((first + image) * g.C + c) * g.H + ih) * g.W + iw];
        }
        return result;
    }

    private static float[] Product(float[] a, int m, int k, float[] b, int n)
    {
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int p = 0; p < k; p++)
                sum += (double)a[i * k + p] * b[(long)p * n + j];
            c[i * n + j] = (float)sum;
        }
        return c;
    }

    private static float[] Transpose(float[] a, int rows, int columns)
    {
        var t = new float[a.Length];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < columns; j++)
            t[(long)j * rows + i] = a[(long)i * columns + j];
        return t;
    }

    private static float[] SmallIntegers(Random rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = rng.Next(-3, 4);
        return values;
    }

    /// <summary>
    /// Floats placed against an inaccessible page (Linux mmap and mprotect): the page right before the first
    /// float, or the one right after the last.
    /// </summary>
    private sealed partial class GuardedFloats : IDisposable
    {
        private const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20;
        private readonly nint region;
        private readonly nuint regionBytes;

        public GuardedFloats(int count, bool guardBefore)
        {
            nuint page = (nuint)Environment.SystemPageSize;
            nuint dataBytes = ((nuint)count * sizeof(float) + page - 1) / page * page;
            regionBytes = dataBytes + 2 * page;
            region = Mmap(0, regionBytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (region == -1)
                throw new InvalidOperationException("mmap failed.");
            if (Mprotect(region, page, ProtNone) != 0 || Mprotect(region + (nint)(page + dataBytes), page, ProtNone) != 0)
                throw new InvalidOperationException("mprotect failed.");
            nint start = guardBefore ? region + (nint)page : region + (nint)(page + dataBytes) - count * sizeof(float);
            Pointer = (float*)start;
        }

        public float* Pointer { get; }

        public void Dispose() => Munmap(region, regionBytes);

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "mmap")]
        private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "mprotect")]
        private static partial int Mprotect(nint address, nuint length, int protection);

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "munmap")]
        private static partial int Munmap(nint address, nuint length);
    }
}
