using FashionCuda.Backends.Cuda.Interop;

namespace FashionCuda.Backends.Cuda;

/// <summary>The values passed to <c>cudnnSetTensor4dDescriptor</c>: float32, NCHW, fully packed.</summary>
public readonly record struct TensorDescriptorValues(int N, int C, int H, int W)
{
    public CudnnTensorFormat Format => CudnnTensorFormat.Nchw;

    public CudnnDataType DataType => CudnnDataType.Float;
}

/// <summary>The values passed to <c>cudnnSetFilter4dDescriptor</c>: weight (K, C, R, S), float32, NCHW.</summary>
public readonly record struct FilterDescriptorValues(int K, int C, int R, int S)
{
    public CudnnTensorFormat Format => CudnnTensorFormat.Nchw;

    public CudnnDataType DataType => CudnnDataType.Float;
}

/// <summary>The values passed to <c>cudnnSetConvolution2dDescriptor</c> and <c>cudnnSetConvolutionMathType</c>.</summary>
public readonly record struct ConvolutionDescriptorValues(
    int PadH, int PadW, int StrideH, int StrideW, int DilationH, int DilationW, CudnnConvolutionMode Mode,
    CudnnDataType ComputeType, CudnnMathType MathType);

/// <summary>
/// Every cuDNN descriptor of one convolution, built from a <see cref="Conv2dGeometry"/>: input (N, C, H, W),
/// filter (K, C, R, S), output (N, K, P, Q) and the bias as a (1, K, 1, 1) tensor, which is the shape
/// <c>cudnnConvolutionBackwardBias</c> expects.
/// </summary>
public sealed record CudnnConvolutionPlan(
    TensorDescriptorValues Input, FilterDescriptorValues Filter, ConvolutionDescriptorValues Convolution,
    TensorDescriptorValues Output, TensorDescriptorValues Bias)
{
    /// <param name="allowTf32">
    /// Whether cuDNN may run float32 convolutions as TF32. Off, the math type is FMA, which keeps float32
    /// precision; on, it is cuDNN's default, which allows TF32 tensor cores on Ampere and newer.
    /// </param>
    public static CudnnConvolutionPlan From(Conv2dGeometry geometry, bool allowTf32)
    {
        geometry.Validate();
        var g = geometry;
        return new CudnnConvolutionPlan(
            new TensorDescriptorValues(g.N, g.C, g.H, g.W),
            new FilterDescriptorValues(g.K, g.C, g.R, g.S),
            // PyTorch's Conv2d is a cross-correlation (no kernel flip) with float32 accumulation.
            new ConvolutionDescriptorValues(g.PadH, g.PadW, g.StrideH, g.StrideW, 1, 1,
                CudnnConvolutionMode.CrossCorrelation, CudnnDataType.Float,
                allowTf32 ? CudnnMathType.Default : CudnnMathType.Fma),
            new TensorDescriptorValues(g.N, g.K, g.P, g.Q),
            new TensorDescriptorValues(1, g.K, 1, 1));
    }
}

/// <summary>Which of cuDNN's ranked algorithm results the backend may use.</summary>
public readonly record struct AlgorithmRequirements(bool Deterministic, bool AllowTf32, long WorkspaceLimitBytes);

/// <summary>
/// Picks a convolution algorithm from the ranked results of <c>cudnnGet*Algorithm_v7</c> or
/// <c>cudnnFind*AlgorithmEx</c> (both rank best first): the first that succeeded, fits the workspace limit, is
/// deterministic when required, and uses an allowed math type.
/// </summary>
public static class CudnnAlgorithmChooser
{
    public static CudnnAlgorithmPerf Choose(ReadOnlySpan<CudnnAlgorithmPerf> ranked, AlgorithmRequirements required,
        string direction)
    {
        foreach (var result in ranked)
        {
            if (IsUsable(result, required))
                return result;
        }
        var listed = new List<string>();
        foreach (var result in ranked)
            listed.Add($"algorithm {result.Algorithm} (status {result.Status}, {result.MemoryBytes} bytes, " +
                       $"{result.Determinism}, {result.MathType})");
        throw new InvalidOperationException(
            $"cuDNN returned no usable {direction} algorithm for deterministic={required.Deterministic}, " +
            $"TF32={required.AllowTf32}, workspace limit {required.WorkspaceLimitBytes} bytes. Candidates: " +
            (listed.Count == 0 ? "none" : string.Join("; ", listed)) +
            ". Allow non-deterministic algorithms or raise the workspace limit in the CUDA backend options.");
    }

    public static bool IsUsable(CudnnAlgorithmPerf result, AlgorithmRequirements required)
    {
        if (result.Status != 0 || (long)result.MemoryBytes > required.WorkspaceLimitBytes)
            return false;
        if (required.Deterministic && result.Determinism != CudnnDeterminism.Deterministic)
            return false;
        return result.MathType switch
        {
            // With TF32 off the descriptor's math type is FMA, so an algorithm ranked under the default math
            // type still runs with FMA math.
            CudnnMathType.Fma or CudnnMathType.Default => true,
            CudnnMathType.TensorOp => required.AllowTf32,
            _ => false, // TensorOpAllowConversion may round float32 to float16
        };
    }
}
