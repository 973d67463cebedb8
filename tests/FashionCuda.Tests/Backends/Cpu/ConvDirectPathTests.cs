using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Reference;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Backends.Cpu;

/// <summary>
/// Tests of the direct CPU conv paths: the one-output-channel conv (Conv2dCpu.SingleOutput.cs) and the bordered
/// dWeight of 3×3 stride-1 convs (Conv2dCpu.BorderedWeight.cs). Each runs with dInput only, dWeight only and both,
/// into outputs pre-filled with NaN as stale pool data, and is compared with the reference and across thread counts.
/// </summary>
public sealed class ConvDirectPathTests
{
    public static TheoryData<int, int, int, int, int, int, int, int, int> Geometries => new()
    {
        // N, C, H, W, K, R, S, PadH, PadW
        { 9, 2, 12, 12, 4, 3, 3, 1, 1 },   // bordered dWeight, "same", two groups of images
        { 3, 3, 14, 9, 5, 3, 3, 2, 0 },    // bordered dWeight, P ≠ H and Q ≠ W
        { 2, 3, 6, 8, 1, 5, 3, 0, 2 },     // one output channel, asymmetric kernel, PadH = 0
        { 3, 2, 5, 7, 1, 3, 5, 2, 1 },     // one output channel, P > H, Q < W
        { 2, 2, 9, 11, 1, 7, 7, 3, 3 },    // CBAM's spatial conv shape
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void BackwardVariantsMatchReferenceAndThreadCounts(int n, int c, int h, int w, int k, int r, int s,
        int padH, int padW)
    {
        var g = new Conv2dGeometry(n, c, h, w, k, r, s, 1, 1, padH, padW);
        var rng = new Random(1234);
        float[] x = Random(rng, n * c * h * w), wt = Random(rng, k * c * r * s), dy = Random(rng, n * k * g.P * g.Q);
        var (refDx, refDw) = Backward(new ReferenceBackend(), g, x, wt, dy, true, true);
        foreach (int threads in new[] { 1, 3 })
        {
            using var cpu = new CpuBackend(threadCount: threads);
            foreach (var (wantDx, wantDw) in new[] { (true, true), (true, false), (false, true) })
            {
                var (dx, dw) = Backward(cpu, g, x, wt, dy, wantDx, wantDw);
                var (dx2, dw2) = Backward(cpu, g, x, wt, dy, wantDx, wantDw);
                if (wantDx)
                {
                    AssertClose(refDx!, dx!, $"dInput, {threads} threads");
                    Assert.Equal(dx, dx2);
                }
                if (wantDw)
                    AssertClose(refDw!, dw!, $"dWeight, {threads} threads");
            }
        }
        using var one = new CpuBackend(threadCount: 1);
        using var three = new CpuBackend(threadCount: 3);
        var a = Backward(one, g, x, wt, dy, true, true);
        var b = Backward(three, g, x, wt, dy, true, true);
        Assert.Equal(a.Dw, b.Dw);
        Assert.Equal(a.Dx, b.Dx);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ScratchStaysLevelAfterWarmUp(int n, int c, int h, int w, int k, int r, int s, int padH,
        int padW)
    {
        var g = new Conv2dGeometry(n, c, h, w, k, r, s, 1, 1, padH, padW);
        var rng = new Random(7);
        float[] x = Random(rng, n * c * h * w), wt = Random(rng, k * c * r * s), dy = Random(rng, n * k * g.P * g.Q);
        using var cpu = new CpuBackend(threadCount: 2);
        Backward(cpu, g, x, wt, dy, true, true);
        long level = cpu.ScratchBytesInUse;
        Backward(cpu, g, x, wt, dy, true, true);
        Backward(cpu, g, x, wt, dy, false, true);
        Backward(cpu, g, x, wt, dy, true, false);
        Assert.Equal(level, cpu.ScratchBytesInUse);
    }

    /// <summary>
    /// An infinite input value in the last column is never read by the taps of column 0 when PadW = 1, so the
    /// reference gives finite dWeight there. The bordered layouts multiply it by the zeros past Q, so the CPU backend
    /// must notice the NaN this makes and compute dWeight through the GEMM.
    /// </summary>
    [Theory]
    [InlineData(4, 2, 12, 12, 4)]   // bordered dWeight path
    [InlineData(2, 2, 12, 12, 1)]   // one-output-channel path
    [InlineData(4, 2, 12, 12, 49)]  // control: K > 48 takes the GEMM path, which passes
    public void InfinityOutsideTapKeepsDWeightFinite(int n, int c, int h, int w, int k)
    {
        var g = new Conv2dGeometry(n, c, h, w, k, 3, 3, 1, 1, 1, 1);
        var rng = new Random(99);
        float[] x = Random(rng, n * c * h * w), wt = Random(rng, k * c * 9), dy = Random(rng, n * k * g.P * g.Q);
        x[w - 1] = float.PositiveInfinity; // image 0, channel 0, row 0, last column
        var (_, refDw) = Backward(new ReferenceBackend(), g, x, wt, dy, false, true);
        using var cpu = new CpuBackend(threadCount: 2);
        var (_, dw) = Backward(cpu, g, x, wt, dy, false, true);
        // Tap (r = 0, s = 0) of output channel 0, input channel 0.
        Assert.True(float.IsFinite(refDw![0]), "the reference reads the infinite value at tap (0, 0)");
        Assert.True(float.IsFinite(dw![0]), $"CPU dWeight[0, 0, 0, 0] is {dw[0]}, reference {refDw[0]}");
        Assert.Equal(refDw.Select(float.IsFinite), dw.Select(float.IsFinite));
    }

    private static (float[]? Dx, float[]? Dw) Backward(IBackend backend, Conv2dGeometry g, float[] x, float[] wt,
        float[] dy, bool wantDx, bool wantDw)
    {
        using var input = Tensor.FromArray(backend, x, g.InputShape);
        using var weight = Tensor.FromArray(backend, wt, g.WeightShape);
        using var gradOutput = Tensor.FromArray(backend, dy, g.OutputShape);
        using var gradInput = wantDx ? Tensor.Full(backend, g.InputShape, float.NaN) : null;
        using var gradWeight = wantDw ? Tensor.Full(backend, g.WeightShape, float.NaN) : null;
        backend.Conv2dBackward(input, weight, gradOutput, gradInput, gradWeight, null, g);
        return (gradInput?.ToArray(), gradWeight?.ToArray());
    }

    private static float[] Random(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        return values;
    }

    private static void AssertClose(float[] expected, float[] actual, string quantity)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f + 1e-4f * Math.Abs(expected[i]),
                $"{quantity}[{i}]: expected {expected[i]}, got {actual[i]}");
    }
}
