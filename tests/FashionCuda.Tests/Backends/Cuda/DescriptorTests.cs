using System.Runtime.InteropServices;
using FashionCuda.Backends;
using FashionCuda.Backends.Cuda;
using FashionCuda.Backends.Cuda.Interop;

namespace FashionCuda.Tests.Backends.Cuda;

public sealed class DescriptorTests
{
    [Fact]
    public void ConvolutionPlanPassesGeometry()
    {
        var geometry = new Conv2dGeometry(N: 3, C: 4, H: 11, W: 10, K: 6, R: 5, S: 3, StrideH: 2, StrideW: 3,
            PadH: 2, PadW: 1);
        var plan = CudnnConvolutionPlan.From(geometry, allowTf32: false);
        Assert.Equal(new TensorDescriptorValues(3, 4, 11, 10), plan.Input);
        Assert.Equal(new FilterDescriptorValues(6, 4, 5, 3), plan.Filter);
        Assert.Equal(new TensorDescriptorValues(3, 6, 6, 4), plan.Output); // P = (11+4-5)/2+1, Q = (10+2-3)/3+1
        Assert.Equal(new TensorDescriptorValues(1, 6, 1, 1), plan.Bias);
        var convolution = plan.Convolution;
        Assert.Equal((2, 1, 2, 3, 1, 1), (convolution.PadH, convolution.PadW, convolution.StrideH,
            convolution.StrideW, convolution.DilationH, convolution.DilationW));
        Assert.Equal(CudnnConvolutionMode.CrossCorrelation, convolution.Mode);
        Assert.Equal(CudnnDataType.Float, convolution.ComputeType);
        Assert.Equal(CudnnMathType.Fma, convolution.MathType);
        Assert.Equal(CudnnTensorFormat.Nchw, plan.Input.Format);
        Assert.Equal(CudnnDataType.Float, plan.Filter.DataType);
    }

    [Fact]
    public void Tf32SwitchSelectsDefaultMath() =>
        Assert.Equal(CudnnMathType.Default,
            CudnnConvolutionPlan.From(new Conv2dGeometry(1, 1, 5, 5, 1, 3, 3, 1, 1, 1, 1), true).Convolution.MathType);

    [Fact]
    public void InvalidGeometryIsRejected() =>
        Assert.Throws<ArgumentException>(() =>
            CudnnConvolutionPlan.From(new Conv2dGeometry(1, 1, 2, 2, 1, 5, 5, 1, 1, 0, 0), false));

    [Fact]
    public void PerfStructHasHeaderLayout()
    {
        // cudnnConvolutionFwdAlgoPerf_t on 64-bit Linux: int, int, float, (pad), size_t, int, int, int[3].
        Assert.Equal(48, Marshal.SizeOf<CudnnAlgorithmPerf>());
        Assert.Equal(16, (int)Marshal.OffsetOf<CudnnAlgorithmPerf>(nameof(CudnnAlgorithmPerf.MemoryBytes)));
        Assert.Equal(24, (int)Marshal.OffsetOf<CudnnAlgorithmPerf>(nameof(CudnnAlgorithmPerf.Determinism)));
        Assert.Equal(28, (int)Marshal.OffsetOf<CudnnAlgorithmPerf>(nameof(CudnnAlgorithmPerf.MathType)));
    }

    private static CudnnAlgorithmPerf Perf(int algorithm, int status = 0, long memory = 0,
        CudnnDeterminism determinism = CudnnDeterminism.Deterministic, CudnnMathType math = CudnnMathType.Fma) =>
        new()
        {
            Algorithm = algorithm, Status = status, MemoryBytes = (nuint)memory, Determinism = determinism,
            MathType = math,
        };

    [Fact]
    public void ChooserSkipsNondeterministic()
    {
        CudnnAlgorithmPerf[] ranked = [Perf(0, determinism: CudnnDeterminism.NonDeterministic), Perf(1)];
        var chosen = CudnnAlgorithmChooser.Choose(ranked, new AlgorithmRequirements(true, false, 1 << 20), "forward");
        Assert.Equal(1, chosen.Algorithm);
        var fastest = CudnnAlgorithmChooser.Choose(ranked, new AlgorithmRequirements(false, false, 1 << 20), "forward");
        Assert.Equal(0, fastest.Algorithm);
    }

    [Fact]
    public void ChooserRespectsStatusWorkspaceAndMath()
    {
        CudnnAlgorithmPerf[] ranked =
        [
            Perf(0, status: 3000), Perf(1, memory: 2 << 20), Perf(2, math: CudnnMathType.TensorOp),
            Perf(3, math: CudnnMathType.TensorOpAllowConversion), Perf(4, math: CudnnMathType.Default),
        ];
        var strict = new AlgorithmRequirements(true, AllowTf32: false, WorkspaceLimitBytes: 1 << 20);
        Assert.Equal(4, CudnnAlgorithmChooser.Choose(ranked, strict, "backward-data").Algorithm);
        var tf32 = strict with { AllowTf32 = true };
        Assert.Equal(2, CudnnAlgorithmChooser.Choose(ranked, tf32, "backward-data").Algorithm);
    }

    [Fact]
    public void ChooserExplainsWhenNothingFits()
    {
        CudnnAlgorithmPerf[] ranked = [Perf(5, memory: 1L << 40)];
        var error = Assert.Throws<InvalidOperationException>(() =>
            CudnnAlgorithmChooser.Choose(ranked, new AlgorithmRequirements(true, false, 1 << 20), "backward-filter"));
        Assert.Contains("backward-filter", error.Message);
        Assert.Contains("algorithm 5", error.Message);
        Assert.Contains("workspace limit", error.Message);
    }

    [Fact]
    public void LinearForwardPlanSwapsOperands()
    {
        var call = RowMajorGemm.LinearForward(batch: 32, inFeatures: 300, outFeatures: 70);
        Assert.Equal(new GemmCall(CublasOperation.T, CublasOperation.N, 70, 32, 300, 300, 300, 70, true), call);
    }

    [Fact]
    public void LinearBackwardPlans()
    {
        Assert.Equal(new GemmCall(CublasOperation.N, CublasOperation.N, 300, 32, 70, 300, 70, 300, true),
            RowMajorGemm.LinearBackwardInput(32, 300, 70));
        Assert.Equal(new GemmCall(CublasOperation.N, CublasOperation.T, 300, 70, 32, 300, 70, 300, true),
            RowMajorGemm.LinearBackwardWeight(32, 300, 70));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void PlannedGemmMatchesRowMajorProduct(bool transposeA, bool transposeB)
    {
        const int m = 5, n = 7, k = 3;
        var rng = new Tensors.Rng(3);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextInt(9) - 4).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextInt(9) - 4).ToArray();
        var call = RowMajorGemm.Plan(m, n, k, transposeA, transposeB);
        float[] first = call.SwapOperands ? b : a, second = call.SwapOperands ? a : b;
        float[] c = ColumnMajorSgemm(call, first, second);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float expected = 0;
                for (int p = 0; p < k; p++)
                    expected += (transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j]);
                Assert.Equal(expected, c[i * n + j]); // small integers: exact
            }
        }
    }

    /// <summary>What cublasSgemm computes with α = 1, β = 0: C = op(A)·op(B), all column-major.</summary>
    private static float[] ColumnMajorSgemm(GemmCall call, float[] a, float[] b)
    {
        var c = new float[call.Ldc * call.N];
        for (int col = 0; col < call.N; col++)
        {
            for (int row = 0; row < call.M; row++)
            {
                float sum = 0;
                for (int p = 0; p < call.K; p++)
                {
                    float opA = call.TransA == CublasOperation.N ? a[p * call.Lda + row] : a[row * call.Lda + p];
                    float opB = call.TransB == CublasOperation.N ? b[col * call.Ldb + p] : b[p * call.Ldb + col];
                    sum += opA * opB;
                }
                c[col * call.Ldc + row] = sum;
            }
        }
        return c;
    }

    [Fact]
    public void CudnnVersionFormats()
    {
        Assert.Equal("9.6.0", CudaProbe.FormatCudnnVersion(90600));
        Assert.Equal("9.10.2", CudaProbe.FormatCudnnVersion(91002));
        Assert.Equal("8.9.2", CudaProbe.FormatCudnnVersion(8902));
    }
}
