using FashionCuda.Backends.Cuda.Interop;
using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

// Linear layers through cuBLAS's column-major SGEMM (see RowMajorGemm) and the bias kernels of kernels/bias.cu.
public sealed partial class CudaBackend
{
    public void LinearForward(Tensor input, Tensor weight, Tensor? bias, Tensor output)
    {
        var (batch, inFeatures, outFeatures) = LinearSizes(input, weight, output, "output");
        if (bias is not null)
            RequireLength(bias, outFeatures, "bias");
        // output = input · weightᵀ, A = input, B = weight.
        Gemm(RowMajorGemm.LinearForward(batch, inFeatures, outFeatures), Pointer(input), Pointer(weight),
            Pointer(output), "LinearForward");
        if (bias is null)
            return;
        Arguments().Add(Pointer(output)).Add(Pointer(bias)).Add(output.Length).Add(outFeatures);
        Launch("bias_add_rows_forward_kernel", Elementwise(output.Length));
    }

    public void LinearBackward(Tensor input, Tensor weight, Tensor gradOutput, Tensor? gradInput,
        Tensor? gradWeight, Tensor? gradBias)
    {
        var (batch, inFeatures, outFeatures) = LinearSizes(input, weight, gradOutput, "output gradient");
        if (gradInput is not null)
        {
            RequireShape(gradInput, input.Dimensions, "input gradient");
            // dInput = dOutput · weight, A = dOutput, B = weight.
            Gemm(RowMajorGemm.LinearBackwardInput(batch, inFeatures, outFeatures), Pointer(gradOutput),
                Pointer(weight), Pointer(gradInput), "LinearBackward (input)");
        }
        if (gradWeight is not null)
        {
            RequireShape(gradWeight, weight.Dimensions, "weight gradient");
            // dWeight = dOutputᵀ · input, A = dOutput, B = input.
            Gemm(RowMajorGemm.LinearBackwardWeight(batch, inFeatures, outFeatures), Pointer(gradOutput),
                Pointer(input), Pointer(gradWeight), "LinearBackward (weight)");
        }
        if (gradBias is null)
            return;
        RequireLength(gradBias, outFeatures, "bias gradient");
        Arguments().Add(Pointer(gradOutput)).Add(Pointer(gradBias)).Add(batch).Add(outFeatures);
        Launch("bias_backward_rows_thread_per_column_kernel", Elementwise(outFeatures));
    }

    /// <summary>Runs one planned row-major product C = op(A)·op(B) with β = 0.</summary>
    private unsafe void Gemm(GemmCall call, ulong a, ulong b, ulong c, string op)
    {
        ulong first = call.SwapOperands ? b : a, second = call.SwapOperands ? a : b;
        float alpha = 1f, beta = 0f;
        CuBlas.Check(CuBlas.cublasSgemm(blas, call.TransA, call.TransB, call.M, call.N, call.K, &alpha, first,
            call.Lda, second, call.Ldb, &beta, c, call.Ldc), $"cublasSgemm_v2 in {op}");
    }

    private static (int Batch, int In, int Out) LinearSizes(Tensor input, Tensor weight, Tensor output,
        string outputRole)
    {
        if (input.Rank != 2 || weight.Rank != 2)
            throw new ArgumentException($"Linear needs input (N, in) and weight (out, in), got {input} and {weight}.");
        int batch = input[0], inFeatures = input[1], outFeatures = weight[0];
        RequireShape(weight, [outFeatures, inFeatures], "weight");
        RequireShape(output, [batch, outFeatures], outputRole);
        return (batch, inFeatures, outFeatures);
    }
}
