using FashionCuda.Tensors;

namespace FashionCuda.Backends;

/// <summary>
/// The kernels every device implements: the reference (naive loops, double accumulation), the fast CPU path and
/// the CUDA path. Autograd and the layers call only these methods, so a backend is a drop-in replacement.
/// </summary>
/// <remarks>
/// Conventions shared by all methods:
/// <list type="bullet">
/// <item>Tensors are float32, contiguous, row-major; images are NCHW. N batch, C input channels, H and W input
/// height and width, K output channels, R and S kernel height and width, P and Q output height and width.</item>
/// <item>Every tensor argument lives on this backend. Output and gradient arguments are overwritten, never
/// accumulated into, and may not alias an input unless a method's documentation allows it.</item>
/// <item>A tie in a max (max pooling, global max pooling, max over channels) sends the gradient to the first
/// maximal element in row-major order of the window, so exactly one input receives it.</item>
/// <item>Labels are a tensor of N class indices stored as float32 (exact below 2^24).</item>
/// </list>
/// </remarks>
public interface IBackend
{
    /// <summary>Short device name for messages and reports: "reference", "cpu", "cuda:0".</summary>
    string Name { get; }

    /// <summary>
    /// Bytes of memory in use now and at peak, as the backend's allocator counts them. They include tensors and the
    /// kernel scratch (GEMM and im2col buffers, cuDNN workspace) that the backend allocates itself, but not memory
    /// that a library allocates on its own, such as cuBLAS's workspace.
    /// </summary>
    long BytesInUse { get; }

    long PeakBytesInUse { get; }

    void ResetPeakMemory();

    // ---- memory ----

    /// <summary>Allocates storage for <paramref name="length"/> elements with undefined contents.</summary>
    Storage Allocate(long length);

    void Upload(ReadOnlySpan<float> source, Tensor destination);

    void Download(Tensor source, Span<float> destination);

    void Fill(Tensor tensor, float value);

    void Copy(Tensor source, Tensor destination);

    // ---- elementwise ----

    /// <summary>output = a + b, same shapes. <paramref name="output"/> may alias a or b.</summary>
    void Add(Tensor a, Tensor b, Tensor output);

    /// <summary>destination += source, same lengths. Gradient accumulation uses it.</summary>
    void AddInPlace(Tensor destination, Tensor source);

    /// <summary>
    /// output = a * b where a is (N, C, H, W) and b is (N, C, H, W), (N, C, 1, 1) or (N, 1, H, W), as
    /// <paramref name="broadcast"/> selects.
    /// </summary>
    void Multiply(Tensor a, Tensor b, Tensor output, Broadcast broadcast);

    /// <summary>dA = dOutput * b and dB = dOutput * a summed over b's broadcast dimensions. Either may be null.</summary>
    void MultiplyBackward(Tensor a, Tensor b, Tensor gradOutput, Tensor? gradA, Tensor? gradB, Broadcast broadcast);

    void ReluForward(Tensor input, Tensor output);

    /// <summary>dInput = dOutput where output &gt; 0, else 0 (the gradient at 0 is taken as 0).</summary>
    void ReluBackward(Tensor output, Tensor gradOutput, Tensor gradInput);

    void SigmoidForward(Tensor input, Tensor output);

    /// <summary>dInput = dOutput · y · (1 − y) with y the forward output.</summary>
    void SigmoidBackward(Tensor output, Tensor gradOutput, Tensor gradInput);

    // ---- convolution and matrix products ----

    /// <summary>Cross-correlation as in PyTorch's Conv2d; see <see cref="Conv2dGeometry"/> for shapes.</summary>
    void Conv2dForward(Tensor input, Tensor weight, Tensor? bias, Tensor output, Conv2dGeometry geometry);

    /// <summary>Gradients of <see cref="Conv2dForward"/>; each gradient argument may be null to skip it.</summary>
    void Conv2dBackward(Tensor input, Tensor weight, Tensor gradOutput, Tensor? gradInput, Tensor? gradWeight,
        Tensor? gradBias, Conv2dGeometry geometry);

    /// <summary>output (N, out) = input (N, in) · weightᵀ + bias, with weight (out, in) as in PyTorch's Linear.</summary>
    void LinearForward(Tensor input, Tensor weight, Tensor? bias, Tensor output);

    void LinearBackward(Tensor input, Tensor weight, Tensor gradOutput, Tensor? gradInput, Tensor? gradWeight,
        Tensor? gradBias);

    // ---- pooling ----

    void MaxPool2dForward(Tensor input, Tensor output, Pool2dGeometry geometry);

    /// <summary>Recomputes each window's first maximum from <paramref name="input"/> and routes dOutput to it.</summary>
    void MaxPool2dBackward(Tensor input, Tensor gradOutput, Tensor gradInput, Pool2dGeometry geometry);

    void AvgPool2dForward(Tensor input, Tensor output, Pool2dGeometry geometry);

    void AvgPool2dBackward(Tensor gradOutput, Tensor gradInput, Pool2dGeometry geometry);

    /// <summary>(N, C, H, W) → (N, C, 1, 1) mean over H×W.</summary>
    void GlobalAvgPoolForward(Tensor input, Tensor output);

    void GlobalAvgPoolBackward(Tensor gradOutput, Tensor gradInput);

    /// <summary>(N, C, H, W) → (N, C, 1, 1) max over H×W.</summary>
    void GlobalMaxPoolForward(Tensor input, Tensor output);

    void GlobalMaxPoolBackward(Tensor input, Tensor gradOutput, Tensor gradInput);

    /// <summary>(N, C, H, W) → (N, 1, H, W) mean over channels.</summary>
    void ChannelMeanForward(Tensor input, Tensor output);

    void ChannelMeanBackward(Tensor gradOutput, Tensor gradInput);

    /// <summary>(N, C, H, W) → (N, 1, H, W) max over channels.</summary>
    void ChannelMaxForward(Tensor input, Tensor output);

    void ChannelMaxBackward(Tensor input, Tensor gradOutput, Tensor gradInput);

    /// <summary>Stacks (N, Cᵢ, H, W) inputs along channels into (N, ΣCᵢ, H, W).</summary>
    void ConcatChannels(IReadOnlyList<Tensor> inputs, Tensor output);

    /// <summary>Splits dOutput (N, ΣCᵢ, H, W) back into the (N, Cᵢ, H, W) gradients; null entries are skipped.</summary>
    void ConcatChannelsBackward(Tensor gradOutput, IReadOnlyList<Tensor?> gradInputs);

    // ---- normalization and regularization ----

    /// <summary>
    /// Batch norm over (N, H, W) per channel with batch statistics. Writes the batch mean and 1/sqrt(var + eps)
    /// (biased variance) to <paramref name="saveMean"/> and <paramref name="saveInvStd"/> (C), and updates the
    /// running statistics in place: running = (1 − momentum)·running + momentum·batch, with the unbiased
    /// variance for <paramref name="runningVar"/>, as PyTorch does.
    /// </summary>
    void BatchNorm2dForwardTraining(Tensor input, Tensor weight, Tensor bias, Tensor output, Tensor saveMean,
        Tensor saveInvStd, Tensor runningMean, Tensor runningVar, float momentum, float epsilon);

    /// <summary>Batch norm with the running statistics (evaluation mode).</summary>
    void BatchNorm2dForwardInference(Tensor input, Tensor weight, Tensor bias, Tensor runningMean,
        Tensor runningVar, Tensor output, float epsilon);

    void BatchNorm2dBackward(Tensor input, Tensor weight, Tensor saveMean, Tensor saveInvStd, Tensor gradOutput,
        Tensor gradInput, Tensor gradWeight, Tensor gradBias);

    /// <summary>
    /// Inverted dropout: mask[i] is 0 with probability p and 1/(1 − p) otherwise, output = input · mask. The
    /// draw for element i is <see cref="CounterRandom.Uniform(ulong, ulong)"/>(seed, i), so every backend makes
    /// the same mask for the same seed.
    /// </summary>
    void DropoutForward(Tensor input, Tensor output, Tensor mask, float probability, ulong seed);

    /// <summary>
    /// Local response normalization across channels, as PyTorch's LocalResponseNorm:
    /// b = a / (k + alpha/size · Σ a²)^beta, the sum over channels c − size/2 … c + (size − 1)/2 that exist.
    /// </summary>
    void LocalResponseNormForward(Tensor input, Tensor output, int size, float alpha, float beta, float k);

    void LocalResponseNormBackward(Tensor input, Tensor output, Tensor gradOutput, Tensor gradInput, int size,
        float alpha, float beta, float k);

    // ---- loss ----

    /// <summary>
    /// Mean softmax cross-entropy of logits (N, classes) against labels (N), with label smoothing ε: the target
    /// is (1 − ε) on the label and ε/classes everywhere. Writes the scalar loss (1) and the softmax (N, classes)
    /// for the backward pass. Uses the log-sum-exp with the row maximum subtracted.
    /// </summary>
    void SoftmaxCrossEntropyForward(Tensor logits, Tensor labels, Tensor loss, Tensor probabilities,
        float labelSmoothing);

    /// <summary>dLogits = dLoss · (softmax − target) / N, with dLoss the one-element upstream gradient.</summary>
    void SoftmaxCrossEntropyBackward(Tensor probabilities, Tensor labels, Tensor gradLoss, Tensor gradLogits,
        float labelSmoothing);

    // ---- optimizer updates, in place ----

    /// <summary>
    /// One SGD step with PyTorch's semantics: g = grad + weightDecay·param; buf = momentum·buf + (1 − dampening)·g
    /// (buf = g on the first step); direction = nesterov ? g + momentum·buf : buf; param −= lr·direction.
    /// <paramref name="momentumBuffer"/> is null when momentum is 0.
    /// </summary>
    void SgdStep(Tensor parameter, Tensor grad, Tensor? momentumBuffer, float learningRate, float momentum,
        float dampening, float weightDecay, bool nesterov, bool firstStep);

    /// <summary>
    /// One Adam step (step counts from 1), PyTorch's semantics. With <paramref name="decoupledWeightDecay"/>
    /// (AdamW) param −= lr·wd·param before the update; otherwise wd·param is added to the gradient.
    /// </summary>
    void AdamStep(Tensor parameter, Tensor grad, Tensor firstMoment, Tensor secondMoment, float learningRate,
        float beta1, float beta2, float epsilon, float weightDecay, bool decoupledWeightDecay, int step);
}
