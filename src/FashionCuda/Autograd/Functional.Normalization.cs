using FashionCuda.Onnx;
using FashionCuda.Tensors;

namespace FashionCuda.Autograd;

public static partial class F
{
    /// <summary>
    /// Batch norm 2d over input (N, C, H, W) with weight, bias, runningMean and runningVar of shape (C). In
    /// training mode it normalizes with the batch statistics and updates the running ones in place; in
    /// evaluation mode it uses the running statistics.
    /// </summary>
    public static Tensor BatchNorm2d(Tensor input, Tensor weight, Tensor bias, Tensor runningMean,
        Tensor runningVar, bool training, float momentum = 0.1f, float epsilon = 1e-5f)
    {
        RequireRank(input, 4, "batch_norm2d input");
        int channels = input[1];
        foreach (var (tensor, name) in new[]
                 { (weight, "weight"), (bias, "bias"), (runningMean, "running_mean"), (runningVar, "running_var") })
        {
            if (tensor.Length != channels)
                throw new ArgumentException(
                    $"batch_norm2d: {name} has {tensor.Length} elements but the input has {channels} channels.");
        }
        var backend = input.Backend;
        var output = Tensor.Empty(backend, input.Dimensions);
        if (!training)
        {
            backend.BatchNorm2dForwardInference(input, weight, bias, runningMean, runningVar, output, epsilon);
            OnnxRecorder.Current?.BatchNorm2d(input, weight, bias, runningMean, runningVar, false, epsilon, output);
            if (GradMode.NeedsGrad(input, weight, bias))
                throw new NotSupportedException(
                    "batch_norm2d in evaluation mode is not differentiable here; run it inside a no-grad scope.");
            return output;
        }
        if ((long)input[0] * input[2] * input[3] < 2)
            throw new ArgumentException(
                $"batch_norm2d in training mode needs more than one value per channel, but the input is " +
                $"{Shape.Format(input.Dimensions)}; use a larger batch or evaluation mode.");
        OnnxRecorder.Current?.BatchNorm2d(input, weight, bias, runningMean, runningVar, true, epsilon, output);
        var saveMean = Tensor.Empty(backend, [channels]);
        var saveInvStd = Tensor.Empty(backend, [channels]);
        backend.BatchNorm2dForwardTraining(input, weight, bias, output, saveMean, saveInvStd, runningMean,
            runningVar, momentum, epsilon);
        if (GradMode.NeedsGrad(input, weight, bias))
        {
            Tape.Current.Record(output, gradOutput =>
            {
                var gradInput = Tensor.Empty(backend, input.Dimensions);
                var gradWeight = Tensor.Empty(backend, weight.Dimensions);
                var gradBias = Tensor.Empty(backend, bias.Dimensions);
                backend.BatchNorm2dBackward(input, weight, saveMean, saveInvStd, gradOutput, gradInput, gradWeight,
                    gradBias);
                GradMode.AccumulateGrad(input, gradInput);
                GradMode.AccumulateGrad(weight, gradWeight);
                GradMode.AccumulateGrad(bias, gradBias);
            });
        }
        return output;
    }

    /// <summary>
    /// Inverted dropout with drop probability <paramref name="probability"/>; identity when not training.
    /// <paramref name="seed"/> picks the mask, so the same seed drops the same elements on every backend.
    /// </summary>
    public static Tensor Dropout(Tensor input, float probability, bool training, ulong seed)
    {
        if (probability is < 0f or >= 1f)
            throw new ArgumentOutOfRangeException(nameof(probability), probability,
                "The dropout probability must be in [0, 1).");
        if (!training || probability == 0f)
            return input;
        var backend = input.Backend;
        var output = Tensor.Empty(backend, input.Dimensions);
        var mask = Tensor.Empty(backend, input.Dimensions);
        backend.DropoutForward(input, output, mask, probability, seed);
        if (GradMode.NeedsGrad(input))
        {
            Tape.Current.Record(output, gradOutput =>
            {
                var gradInput = Tensor.Empty(backend, input.Dimensions);
                using (var gradOutput4 = Flat4(gradOutput))
                using (var mask4 = Flat4(mask))
                using (var gradInput4 = Flat4(gradInput))
                    backend.Multiply(gradOutput4, mask4, gradInput4, Backends.Broadcast.None);
                GradMode.AccumulateGrad(input, gradInput);
            });
        }
        return output;
    }

    /// <summary>Local response normalization across channels of (N, C, H, W), AlexNet's "LRN".</summary>
    public static Tensor LocalResponseNorm(Tensor input, int size, float alpha = 1e-4f, float beta = 0.75f,
        float k = 1f)
    {
        RequireRank(input, 4, "local_response_norm input");
        if (size <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "The LRN window size must be positive.");
        var backend = input.Backend;
        var result = Unary(input, input.Dimensions, output => backend.LocalResponseNormForward(input, output, size,
                alpha, beta, k),
            (output, gradOutput, gradInput) => backend.LocalResponseNormBackward(input, output, gradOutput,
                gradInput, size, alpha, beta, k));
        OnnxRecorder.Current?.LocalResponseNorm(input, size, alpha, beta, k, result);
        return result;
    }

    /// <summary>
    /// Mean softmax cross-entropy of logits (N, classes) against labels (N) holding class indices, with label
    /// smoothing ε in [0, 1). Returns a one-element tensor.
    /// </summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing = 0f)
    {
        RequireRank(logits, 2, "cross-entropy logits");
        if (labels.Length != logits[0])
            throw new ArgumentException(
                $"cross-entropy: {labels.Length} labels for {logits[0]} rows of logits.");
        if (labelSmoothing is < 0f or >= 1f)
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing,
                "Label smoothing must be in [0, 1).");
        var backend = logits.Backend;
        var loss = Tensor.Empty(backend, [1]);
        var probabilities = Tensor.Empty(backend, logits.Dimensions);
        backend.SoftmaxCrossEntropyForward(logits, labels, loss, probabilities, labelSmoothing);
        if (GradMode.NeedsGrad(logits))
        {
            Tape.Current.Record(loss, gradLoss =>
            {
                var gradLogits = Tensor.Empty(backend, logits.Dimensions);
                backend.SoftmaxCrossEntropyBackward(probabilities, labels, gradLoss, gradLogits, labelSmoothing);
                GradMode.AccumulateGrad(logits, gradLogits);
            });
        }
        return loss;
    }

    /// <summary>A (1, 1, 1, L) view, so elementwise kernels that take NCHW tensors accept any shape.</summary>
    private static Tensor Flat4(Tensor tensor) => tensor.View([1, 1, 1, checked((int)tensor.Length)]);
}
