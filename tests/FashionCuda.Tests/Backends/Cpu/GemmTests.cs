using FashionCuda.Backends.Cpu;

namespace FashionCuda.Tests.Backends.Cpu;

public sealed class GemmTests : IDisposable
{
    // Float32 sums of up to ~300 products of values in [−1, 1]; the double reference is exact to ~1e-15.
    private const double Atol = 1e-4;
    private const double Rtol = 1e-4;

    private readonly WorkerPool pool = new(2);
    private readonly Gemm gemm;

    public GemmTests()
    {
        gemm = new Gemm(pool);
    }

    public void Dispose()
    {
        gemm.Dispose();
        pool.Dispose();
    }

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 7, 33 }, { 7, 1, 33 }, { 33, 7, 1 }, { 5, 3, 2 }, { 12, 32, 16 }, { 13, 33, 17 },
        { 11, 31, 257 }, { 25, 65, 40 }, { 100, 130, 40 }, { 47, 200, 300 }, { 193, 35, 9 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesNaiveProduct(int m, int n, int k)
    {
        foreach (bool transposeA in new[] { false, true })
        foreach (bool transposeB in new[] { false, true })
        foreach (var (alpha, beta) in new[] { (1f, 0f), (-0.75f, 0.5f), (2f, 1f) })
            CheckCase(m, n, k, transposeA, transposeB, alpha, beta, padding: 3);
    }

    [Fact]
    public void CrossesEveryBlockEdge()
    {
        // m > Mc (192), n > Nc (2048) and k > Kc (256), so every loop of the blocking runs more than once.
        CheckCase(197, 2083, 263, transposeA: false, transposeB: false, alpha: 1f, beta: 0.5f, padding: 0);
        CheckCase(197, 2083, 263, transposeA: true, transposeB: true, alpha: 1f, beta: 0f, padding: 1);
    }

    [Fact]
    public void BetaZeroIgnoresNaNInOutput()
    {
        var a = Filled(4 * 3, 1f);
        var b = Filled(3 * 5, 2f);
        var c = Filled(4 * 5, float.NaN);
        gemm.Multiply(false, false, 4, 5, 3, 1f, a, 3, b, 5, 0f, c, 5);
        Assert.All(c, value => Assert.Equal(6f, value));
    }

    [Fact]
    public void ZeroDepthScalesOutputByBeta()
    {
        var c = Filled(3 * 4, 2f);
        gemm.Multiply(false, false, 3, 4, 0, 1f, ReadOnlySpan<float>.Empty, 1, ReadOnlySpan<float>.Empty, 4, 0.5f,
            c, 4);
        Assert.All(c, value => Assert.Equal(1f, value));
    }

    [Fact]
    public void ShortSpansAreRejected()
    {
        var a = new float[5];
        var b = new float[6];
        var c = new float[4];
        Assert.Throws<ArgumentException>(() => gemm.Multiply(false, false, 2, 2, 3, 1f, a, 3, b, 2, 0f, c, 2));
    }

    [Fact]
    public void SingleThreadPoolGivesSameResult()
    {
        using var single = new WorkerPool(1);
        using var serial = new Gemm(single);
        var rng = new Random(5);
        var a = Random(rng, 100 * 90);
        var b = Random(rng, 90 * 130);
        var parallel = new float[100 * 130];
        var sequential = new float[100 * 130];
        gemm.Multiply(false, false, 100, 130, 90, 1f, a, 90, b, 130, 0f, parallel, 130);
        serial.Multiply(false, false, 100, 130, 90, 1f, a, 90, b, 130, 0f, sequential, 130);
        // Each element is summed in the same order whatever the split, so the results are identical.
        Assert.Equal(sequential, parallel);
    }

    private void CheckCase(int m, int n, int k, bool transposeA, bool transposeB, float alpha, float beta,
        int padding)
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
                $"m={m} n={n} k={k} tA={transposeA} tB={transposeB} alpha={alpha} beta={beta}: element " +
                $"({i / ldc}, {i % ldc}) is {c[i]}, expected {expected[i]} (error {error:E2}).");
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
