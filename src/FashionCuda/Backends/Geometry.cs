namespace FashionCuda.Backends;

/// <summary>
/// Sizes of a 2-D convolution. Input (N, C, H, W), weight (K, C, R, S), bias (K), output (N, K, P, Q) with
/// P = (H + 2·PadH − R) / StrideH + 1 and Q = (W + 2·PadW − S) / StrideW + 1 (integer division).
/// </summary>
public readonly record struct Conv2dGeometry(
    int N, int C, int H, int W, int K, int R, int S, int StrideH, int StrideW, int PadH, int PadW)
{
    public int P => (H + 2 * PadH - R) / StrideH + 1;

    public int Q => (W + 2 * PadW - S) / StrideW + 1;

    public int[] InputShape => [N, C, H, W];

    public int[] WeightShape => [K, C, R, S];

    public int[] OutputShape => [N, K, P, Q];

    /// <summary>Multiply-accumulates of the forward pass.</summary>
    public long ForwardMacs => (long)N * K * P * Q * C * R * S;

    /// <summary>Checks that the sizes are positive and that the kernel fits the padded input.</summary>
    public void Validate()
    {
        if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || K <= 0 || R <= 0 || S <= 0)
            throw new ArgumentException($"Invalid convolution sizes {this}: every size must be positive.");
        if (StrideH <= 0 || StrideW <= 0 || PadH < 0 || PadW < 0)
            throw new ArgumentException($"Invalid convolution {this}: strides must be positive, padding non-negative.");
        if (H + 2 * PadH < R || W + 2 * PadW < S)
            throw new ArgumentException($"Invalid convolution {this}: the kernel is larger than the padded input.");
    }
}

/// <summary>
/// Sizes of a 2-D max or average pooling window over input (N, C, H, W), giving output (N, C, P, Q) with
/// P = (H + 2·PadH − KernelH) / StrideH + 1 and Q likewise. Padded positions never win a max and, for average
/// pooling, count in the divisor (PyTorch's default <c>count_include_pad=True</c>).
/// </summary>
public readonly record struct Pool2dGeometry(
    int N, int C, int H, int W, int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
{
    public int P => (H + 2 * PadH - KernelH) / StrideH + 1;

    public int Q => (W + 2 * PadW - KernelW) / StrideW + 1;

    public int[] OutputShape => [N, C, P, Q];

    public void Validate()
    {
        if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || KernelH <= 0 || KernelW <= 0 || StrideH <= 0 || StrideW <= 0)
            throw new ArgumentException($"Invalid pooling sizes {this}: sizes and strides must be positive.");
        if (PadH < 0 || PadW < 0 || 2 * PadH > KernelH || 2 * PadW > KernelW)
            throw new ArgumentException($"Invalid pooling {this}: padding must be between 0 and half the kernel.");
        if (H + 2 * PadH < KernelH || W + 2 * PadW < KernelW)
            throw new ArgumentException($"Invalid pooling {this}: the window is larger than the padded input.");
    }
}

/// <summary>Which operand of an elementwise multiply is broadcast, and over which dimensions.</summary>
public enum Broadcast
{
    /// <summary>Both operands are (N, C, H, W).</summary>
    None,

    /// <summary>The second operand is (N, C, 1, 1): one factor per channel, as in channel attention.</summary>
    PerChannel,

    /// <summary>The second operand is (N, 1, H, W): one factor per pixel, as in spatial attention.</summary>
    PerPixel,
}
