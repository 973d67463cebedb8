using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

// Loss and optimizer updates: kernels/softmax_cross_entropy.cu, sgd.cu and adam.cu.
public sealed partial class CudaBackend
{
    /// <summary>Rows with more classes than this use the warp-per-row softmax. NOTE: a guess, untuned.</summary>
    private const int ThreadPerRowClassLimit = 64;

    private ulong rowLosses;
    private long rowLossBytes;

    /// <inheritdoc cref="IBackend.SoftmaxCrossEntropyForward"/>
    /// <remarks>
    /// Unlike the CPU backends, an invalid label does not throw, because the kernel cannot raise an error; its
    /// row's loss is NaN instead, so the mean loss is NaN.
    /// </remarks>
    public void SoftmaxCrossEntropyForward(Tensor logits, Tensor labels, Tensor loss, Tensor probabilities,
        float labelSmoothing)
    {
        var (n, classes) = LossSizes(logits, labels);
        RequireLength(loss, 1, "loss");
        RequireSameLength(logits, probabilities);
        ulong scratch = RowLossScratch(n);
        Arguments().Add(Pointer(logits)).Add(Pointer(labels)).Add(Pointer(probabilities)).Add(scratch).Add((long)n)
            .Add(classes).Add(labelSmoothing);
        if (classes <= ThreadPerRowClassLimit)
            Launch("softmax_cross_entropy_forward_thread_per_row_kernel", Elementwise(n));
        else
            Launch("softmax_cross_entropy_forward_warp_per_row_kernel", LaunchShape.WarpPerRow(n, blockSize));
        Arguments().Add(scratch).Add(Pointer(loss)).Add((long)n);
        Launch("softmax_cross_entropy_mean_forward_kernel", BlockPerRow(1));
    }

    public void SoftmaxCrossEntropyBackward(Tensor probabilities, Tensor labels, Tensor gradLoss, Tensor gradLogits,
        float labelSmoothing)
    {
        var (n, classes) = LossSizes(probabilities, labels);
        RequireLength(gradLoss, 1, "loss gradient");
        RequireSameLength(probabilities, gradLogits);
        Arguments().Add(Pointer(probabilities)).Add(Pointer(labels)).Add(Pointer(gradLoss)).Add(Pointer(gradLogits))
            .Add((long)n).Add(classes).Add(labelSmoothing);
        Launch("softmax_cross_entropy_backward_kernel", Elementwise(probabilities.Length));
    }

    public void SgdStep(Tensor parameter, Tensor grad, Tensor? momentumBuffer, float learningRate, float momentum,
        float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        RequireSameLength(parameter, grad);
        if (momentum != 0f && momentumBuffer is null)
            throw new ArgumentNullException(nameof(momentumBuffer), "SGD with momentum needs a momentum buffer.");
        if (momentumBuffer is not null)
            RequireSameLength(parameter, momentumBuffer);
        if (nesterov && (momentum <= 0f || dampening != 0f))
            throw new ArgumentException(
                $"Nesterov momentum needs momentum > 0 and dampening 0, got {momentum} and {dampening}.");
        bool hasMomentum = momentum != 0f;
        Arguments().Add(Pointer(parameter)).Add(Pointer(grad)).Add(hasMomentum ? Pointer(momentumBuffer!) : 0UL)
            .Add(parameter.Length).Add(learningRate).Add(momentum).Add(dampening).Add(weightDecay)
            .Add(hasMomentum ? 1 : 0).Add(nesterov ? 1 : 0).Add(firstStep ? 1 : 0);
        Launch("sgd_step_kernel", Elementwise(parameter.Length));
    }

    public void AdamStep(Tensor parameter, Tensor grad, Tensor firstMoment, Tensor secondMoment, float learningRate,
        float beta1, float beta2, float epsilon, float weightDecay, bool decoupledWeightDecay, int step)
    {
        RequireSameLength(parameter, grad);
        RequireSameLength(parameter, firstMoment);
        RequireSameLength(parameter, secondMoment);
        if (step < 1)
            throw new ArgumentOutOfRangeException(nameof(step), step, "Adam steps count from 1.");
        // The same host-side folding of the bias corrections as the CPU backend, so both round alike.
        float stepSize = (float)(learningRate / (1.0 - Math.Pow(beta1, step)));
        float inverseCorrection2 = (float)(1.0 / Math.Sqrt(1.0 - Math.Pow(beta2, step)));
        float coupledDecay = decoupledWeightDecay ? 0f : weightDecay;
        float shrink = decoupledWeightDecay ? 1f - learningRate * weightDecay : 1f;
        Arguments().Add(Pointer(parameter)).Add(Pointer(grad)).Add(Pointer(firstMoment)).Add(Pointer(secondMoment))
            .Add(parameter.Length).Add(stepSize).Add(inverseCorrection2).Add(beta1).Add(beta2).Add(epsilon)
            .Add(coupledDecay).Add(shrink);
        Launch("adam_step_kernel", Elementwise(parameter.Length));
    }

    /// <summary>A device buffer of one float per row for the per-row losses, grown as needed and then reused.</summary>
    private ulong RowLossScratch(int rows)
    {
        long bytes = Math.Max(rows, 1) * (long)sizeof(float);
        if (bytes > rowLossBytes)
        {
            if (rowLosses != 0)
                allocator.Return(rowLosses);
            (rowLosses, rowLossBytes) = allocator.Rent(bytes);
        }
        return rowLosses;
    }

    private static (int N, int Classes) LossSizes(Tensor logits, Tensor labels)
    {
        if (logits.Rank != 2)
            throw new ArgumentException($"Logits must be (N, classes), but they are {logits}.");
        int n = logits[0], classes = logits[1];
        RequireLength(labels, n, "labels");
        return (n, classes);
    }
}
