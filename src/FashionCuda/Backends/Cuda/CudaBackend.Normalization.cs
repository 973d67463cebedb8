using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

// Batch norm, dropout and local response normalization: kernels/batch_norm.cu, dropout.cu and lrn.cu.
public sealed partial class CudaBackend
{
    public void BatchNorm2dForwardTraining(Tensor input, Tensor weight, Tensor bias, Tensor output, Tensor saveMean,
        Tensor saveInvStd, Tensor runningMean, Tensor runningVar, float momentum, float epsilon)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, output);
        foreach (var (tensor, role) in new[] { (weight, "weight"), (bias, "bias"), (saveMean, "saved mean"),
            (saveInvStd, "saved inverse std"), (runningMean, "running mean"), (runningVar, "running var") })
            RequireLength(tensor, c, role);
        long plane = (long)h * w;
        if (n * plane < 2)
            throw new ArgumentException(
                $"Batch norm training needs at least 2 values per channel to estimate the variance; {input} has " +
                $"{n * plane}. Use a larger batch or evaluation mode.");
        Arguments().Add(Pointer(input)).Add(Pointer(saveMean)).Add(Pointer(saveInvStd)).Add(Pointer(runningMean))
            .Add(Pointer(runningVar)).Add(n).Add(c).Add(plane).Add(momentum).Add(epsilon);
        Launch("batch_norm2d_forward_statistics_block_per_channel_kernel", BlockPerRow(c));
        Arguments().Add(Pointer(input)).Add(Pointer(weight)).Add(Pointer(bias)).Add(Pointer(saveMean))
            .Add(Pointer(saveInvStd)).Add(Pointer(output)).Add(input.Length).Add(c).Add(plane);
        Launch("batch_norm2d_forward_kernel", Elementwise(input.Length));
    }

    public void BatchNorm2dForwardInference(Tensor input, Tensor weight, Tensor bias, Tensor runningMean,
        Tensor runningVar, Tensor output, float epsilon)
    {
        var (_, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, output);
        foreach (var (tensor, role) in new[] { (weight, "weight"), (bias, "bias"), (runningMean, "running mean"),
            (runningVar, "running var") })
            RequireLength(tensor, c, role);
        Arguments().Add(Pointer(input)).Add(Pointer(weight)).Add(Pointer(bias)).Add(Pointer(runningMean))
            .Add(Pointer(runningVar)).Add(Pointer(output)).Add(input.Length).Add(c).Add((long)h * w).Add(epsilon);
        Launch("batch_norm2d_inference_forward_kernel", Elementwise(input.Length));
    }

    public void BatchNorm2dBackward(Tensor input, Tensor weight, Tensor saveMean, Tensor saveInvStd,
        Tensor gradOutput, Tensor gradInput, Tensor gradWeight, Tensor gradBias)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, gradOutput);
        RequireSameLength(input, gradInput);
        foreach (var (tensor, role) in new[] { (weight, "weight"), (saveMean, "saved mean"),
            (saveInvStd, "saved inverse std"), (gradWeight, "weight gradient"), (gradBias, "bias gradient") })
            RequireLength(tensor, c, role);
        long plane = (long)h * w;
        // pass 1: Σdy and Σdy·x̂ per channel, which are also dBias and dWeight; pass 2: dInput from them.
        Arguments().Add(Pointer(input)).Add(Pointer(gradOutput)).Add(Pointer(saveMean)).Add(Pointer(saveInvStd))
            .Add(Pointer(gradWeight)).Add(Pointer(gradBias)).Add(n).Add(c).Add(plane);
        Launch("batch_norm2d_backward_reduce_block_per_channel_kernel", BlockPerRow(c));
        Arguments().Add(Pointer(input)).Add(Pointer(weight)).Add(Pointer(gradOutput)).Add(Pointer(saveMean))
            .Add(Pointer(saveInvStd)).Add(Pointer(gradWeight)).Add(Pointer(gradBias)).Add(Pointer(gradInput))
            .Add(input.Length).Add(c).Add(plane).Add(n * plane);
        Launch("batch_norm2d_backward_kernel", Elementwise(input.Length));
    }

    public void DropoutForward(Tensor input, Tensor output, Tensor mask, float probability, ulong seed)
    {
        RequireSameLength(input, output);
        RequireSameLength(input, mask);
        if (!(probability >= 0f && probability <= 1f))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout p must be in [0, 1].");
        float keepScale = 1f / (1f - probability); // the same float32 value the CPU backend uses
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(Pointer(mask)).Add(input.Length).Add(probability)
            .Add(keepScale).Add(seed);
        Launch("dropout_forward_kernel", Elementwise(input.Length));
    }

    public void LocalResponseNormForward(Tensor input, Tensor output, int size, float alpha, float beta, float k)
    {
        var (_, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, output);
        ValidateLrnSize(size);
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(input.Length).Add(c).Add((long)h * w).Add(size)
            .Add(alpha).Add(beta).Add(k);
        Launch("lrn_forward_kernel", Elementwise(input.Length));
    }

    public void LocalResponseNormBackward(Tensor input, Tensor output, Tensor gradOutput, Tensor gradInput, int size,
        float alpha, float beta, float k)
    {
        var (_, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, output);
        RequireSameLength(input, gradOutput);
        RequireSameLength(input, gradInput);
        ValidateLrnSize(size);
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(Pointer(gradOutput)).Add(Pointer(gradInput))
            .Add(input.Length).Add(c).Add((long)h * w).Add(size).Add(alpha).Add(beta).Add(k);
        Launch("lrn_backward_kernel", Elementwise(input.Length));
    }

    private static void ValidateLrnSize(int size)
    {
        if (size < 1)
            throw new ArgumentOutOfRangeException(nameof(size), size, "The LRN window size must be at least 1.");
    }
}
