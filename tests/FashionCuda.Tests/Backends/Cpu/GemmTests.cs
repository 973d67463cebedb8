using System.Runtime.Intrinsics;
using FashionCuda.Backends.Cpu;

namespace FashionCuda.Tests.Backends.Cpu;

public sealed class GemmTests : IDisposable
{
    // Float32 sums of up to 513 products of values in [−1, 1], against a double reference exact to ~1e-15.
    private const double Atol = 1e-4;
    private const double Rtol = 1e-4;

    private readonly WorkerPool pool = new(2);
    private readonly Gemm defaultGemm;

    public GemmTests()
    {
        defaultGemm = new Gemm(pool);
    }

    public void Dispose()
    {
        defaultGemm.Dispose();
        pool.Dispose();
    }

    /// <summary>
    /// Sizes that are not multiples of any tile (1 included), exact tiles of each kernel (12×32, 6×16, 4×4), and
    /// depths past one packed block (Kc = 256).
    /// </summary>
    internal static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 7, 33), (7, 1, 33), (33, 7, 1), (5, 3, 2), (1, 100, 3), (4, 4, 1), (6, 16, 5),
        (12, 32, 16), (13, 33, 17), (7, 17, 258), (11, 31, 257), (3, 5, 513), (25, 65, 40), (100, 130, 40),
        (47, 200, 300), (193, 35, 9),
    ];

    [Theory]
    [GemmKernelShapes(GemmKernel.Avx512)]
    [GemmKernelShapes(GemmKernel.Avx2)]
    [GemmKernelShapes(GemmKernel.Scalar)]
    public void MatchesNaiveProduct(string kernel, int m, int n, int k)
    {
        using var gemm = CreateGemm(kernel);
        foreach (bool transposeA in new[] { false, true })
        foreach (bool transposeB in new[] { false, true })
        foreach (var (alpha, beta) in new[] { (1f, 0f), (-0.75f, 0.5f), (2f, 1f) })
            CheckCase(gemm, m, n, k, transposeA, transposeB, alpha, beta, padding: 3);
    }

    [Theory]
    [GemmKernel(GemmKernel.Avx512)]
    [GemmKernel(GemmKernel.Avx2)]
    [GemmKernel(GemmKernel.Scalar)]
    public void CrossesEveryBlockEdge(string kernel)
    {
        using var gemm = CreateGemm(kernel);
        // m > Mc (192), n > Nc (2048) and k > Kc (256), so every loop of the blocking runs more than once.
        CheckCase(gemm, 197, 2083, 263, transposeA: false, transposeB: false, alpha: 1f, beta: 0.5f, padding: 0);
        CheckCase(gemm, 197, 2083, 263, transposeA: true, transposeB: true, alpha: 1f, beta: 0f, padding: 1);
    }

    [Theory]
    [GemmKernel(GemmKernel.Avx512)]
    [GemmKernel(GemmKernel.Avx2)]
    [GemmKernel(GemmKernel.Scalar)]
    public void BetaZeroIgnoresNaNInOutput(string kernel)
    {
        using var gemm = CreateGemm(kernel);
        // 25 × 65 has full tiles and edge tiles for every kernel, so both ways of writing C see the NaNs.
        const int m = 25, n = 65, k = 3;
        var a = Filled(m * k, 1f);
        var b = Filled(k * n, 2f);
        var c = Filled(m * n, float.NaN);
        gemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
        Assert.All(c, value => Assert.Equal(6f, value));
    }

    [Theory]
    [GemmKernel(GemmKernel.Avx512)]
    [GemmKernel(GemmKernel.Avx2)]
    [GemmKernel(GemmKernel.Scalar)]
    public void SingleThreadPoolGivesSameResult(string kernel)
    {
        using var parallelGemm = CreateGemm(kernel);
        using var single = new WorkerPool(1);
        using var serial = new Gemm(single, Enum.Parse<GemmKernel>(kernel));
        var rng = new Random(5);
        var a = Random(rng, 100 * 90);
        var b = Random(rng, 90 * 130);
        var parallel = new float[100 * 130];
        var sequential = new float[100 * 130];
        parallelGemm.Multiply(false, false, 100, 130, 90, 1f, a, 90, b, 130, 0f, parallel, 130);
        serial.Multiply(false, false, 100, 130, 90, 1f, a, 90, b, 130, 0f, sequential, 130);
        // Each element is summed in the same order whatever the split, so the results are identical.
        Assert.Equal(sequential, parallel);
    }

    [Theory]
    [GemmKernel(GemmKernel.Avx512)]
    [GemmKernel(GemmKernel.Avx2)]
    [GemmKernel(GemmKernel.Scalar)]
    public void KernelSetsTileSize(string kernel)
    {
        var (mr, nr) = kernel switch
        {
            "Avx512" => (12, 32),
            "Avx2" => (6, 16),
            _ => (4, 4),
        };
        using var gemm = CreateGemm(kernel);
        Assert.Equal(kernel, gemm.Kernel.ToString());
        Assert.Equal(mr, gemm.Mr);
        Assert.Equal(nr, gemm.Nr);
    }

    [Fact]
    public void DefaultKernelIsWidestSupported()
    {
        var widest = Vector512.IsHardwareAccelerated ? GemmKernel.Avx512
            : Vector256.IsHardwareAccelerated ? GemmKernel.Avx2
            : GemmKernel.Scalar;
        Assert.Equal(widest, Gemm.DefaultKernel);
        Assert.Equal(widest, defaultGemm.Kernel);
    }

    [Fact]
    public void UnknownKernelIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new Gemm(pool, (GemmKernel)99));
        Assert.Contains("99", error.Message);
    }

    [Fact]
    public void ZeroDepthScalesOutputByBeta()
    {
        var c = Filled(3 * 4, 2f);
        defaultGemm.Multiply(false, false, 3, 4, 0, 1f, ReadOnlySpan<float>.Empty, 1, ReadOnlySpan<float>.Empty, 4,
            0.5f, c, 4);
        Assert.All(c, value => Assert.Equal(1f, value));
    }

    [Fact]
    public void ShortSpansAreRejected()
    {
        var a = new float[5];
        var b = new float[6];
        var c = new float[4];
        Assert.Throws<ArgumentException>(() =>
            defaultGemm.Multiply(false, false, 2, 2, 3, 1f, a, 3, b, 2, 0f, c, 2));
    }

    private Gemm CreateGemm(string kernel) => new(pool, Enum.Parse<GemmKernel>(kernel));

    private static void CheckCase(Gemm gemm, int m, int n, int k, bool transposeA, bool transposeB, float alpha,
        float beta, int padding)
    {
        var rng = new Random(m * 1_000_003 + n * 1009 + k);
        int rowsA = transposeA ? k : m, columnsA = transposeA ? m : k;
        int rowsB = transposeB ? n : k, columnsB = transposeB ? k : n;
        int lda = columnsA + padding, ldb = columnsB + padding, ldc = n + padding;
        var a = Random(rng, rowsA * lda);
        var b = Random(rng, rowsB * ldb);
        var c = Random(rng, m * ldc);
        var expected = new double[m * ldc];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                if (j >= n)
                {
                    expected[i * ldc + j] = c[i * ldc + j];
                    continue;
                }
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double left = transposeA ? a[p * lda + i] : a[i * lda + p];
                    double right = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += left * right;
                }
                expected[i * ldc + j] = alpha * sum + beta * c[i * ldc + j];
            }
        }
        gemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        for (int i = 0; i < c.Length; i++)
        {
            double error = Math.Abs(c[i] - expected[i]);
            Assert.True(error <= Atol + Rtol * Math.Abs(expected[i]),
                $"{gemm.Kernel} kernel, m={m} n={n} k={k} tA={transposeA} tB={transposeB} alpha={alpha} " +
                $"beta={beta}: element ({i / ldc}, {i % ldc}) is {c[i]}, expected {expected[i]} (error {error:E2}).");
        }
    }

    private static float[] Random(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        return values;
    }

    private static float[] Filled(int length, float value)
    {
        var values = new float[length];
        System.Array.Fill(values, value);
        return values;
    }
}
