namespace FashionCuda.Backends.Cpu;

/// <summary>Register-blocked micro-kernel of <see cref="Gemm"/>, named by the vector width it needs.</summary>
internal enum GemmKernel
{
    /// <summary>12×32 tile in 512-bit vectors, which needs hardware-accelerated <c>Vector512</c> (AVX-512).</summary>
    Avx512,

    /// <summary>6×16 tile in 256-bit vectors, which needs hardware-accelerated <c>Vector256</c> (AVX2).</summary>
    Avx2,

    /// <summary>4×4 tile in scalar code, for any CPU.</summary>
    Scalar,
}
