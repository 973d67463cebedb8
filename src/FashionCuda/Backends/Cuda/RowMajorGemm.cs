using FashionCuda.Backends.Cuda.Interop;

namespace FashionCuda.Backends.Cuda;

/// <summary>
/// The arguments of one <c>cublasSgemm</c> call: cuBLAS computes C = op(A)·op(B) on column-major matrices with
/// C m×n, op(A) m×k and op(B) k×n, and leading dimensions lda, ldb, ldc.
/// </summary>
/// <param name="SwapOperands">True when the call's A is the caller's B and the call's B the caller's A.</param>
public readonly record struct GemmCall(
    CublasOperation TransA, CublasOperation TransB, int M, int N, int K, int Lda, int Ldb, int Ldc,
    bool SwapOperands);

/// <summary>
/// Maps a row-major product onto cuBLAS's column-major GEMM with the usual transpose trick: a row-major (r, c)
/// matrix read column-major is its transpose, so row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ,
/// which is one cuBLAS call with the operands swapped and no copy.
/// </summary>
public static class RowMajorGemm
{
    /// <summary>
    /// Plans C (m, n) = op(A)·op(B) with A stored row-major as (m, k), or (k, m) when <paramref name="transposeA"/>,
    /// and B stored as (k, n), or (n, k) when <paramref name="transposeB"/>. All matrices are packed (leading
    /// dimension = row length).
    /// </summary>
    public static GemmCall Plan(int m, int n, int k, bool transposeA, bool transposeB)
    {
        if (m <= 0 || n <= 0 || k <= 0)
            throw new ArgumentException($"GEMM sizes must be positive, got m={m}, n={n}, k={k}.");
        int rowLengthA = transposeA ? m : k;
        int rowLengthB = transposeB ? k : n;
        // Column-major Cᵀ (n×m) = op(B)ᵀ (n×k) · op(A)ᵀ (k×m). The stored B read column-major is Bᵀ, so op(B)ᵀ
        // needs no transpose when op(B) = B and a transpose when op(B) = Bᵀ; likewise for A.
        return new GemmCall(
            transposeB ? CublasOperation.T : CublasOperation.N,
            transposeA ? CublasOperation.T : CublasOperation.N,
            M: n, N: m, K: k, Lda: rowLengthB, Ldb: rowLengthA, Ldc: n, SwapOperands: true);
    }

    /// <summary>output (N, out) = input (N, in) · weightᵀ, weight (out, in).</summary>
    public static GemmCall LinearForward(int batch, int inFeatures, int outFeatures) =>
        Plan(batch, outFeatures, inFeatures, transposeA: false, transposeB: true);

    /// <summary>dInput (N, in) = dOutput (N, out) · weight (out, in).</summary>
    public static GemmCall LinearBackwardInput(int batch, int inFeatures, int outFeatures) =>
        Plan(batch, inFeatures, outFeatures, transposeA: false, transposeB: false);

    /// <summary>dWeight (out, in) = dOutputᵀ (out, N) · input (N, in).</summary>
    public static GemmCall LinearBackwardWeight(int batch, int inFeatures, int outFeatures) =>
        Plan(outFeatures, inFeatures, batch, transposeA: true, transposeB: false);
}
