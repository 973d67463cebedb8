using FashionCuda.Backends;
using FashionCuda.Backends.Reference;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Backends.Reference;

/// <summary>Forward values of the reference kernels on inputs small enough to work out by hand.</summary>
public class ReferenceKernelTests
{
    private const double Tolerance = 1e-12;

    /// <summary>The 4×4 image 1 … 16 in row-major order, so x[i, j] = 4i + j + 1.</summary>
    private static double[] Image4x4() => Enumerable.Range(1, 16).Select(value => (double)value).ToArray();

    /// <summary>A 3×3 kernel with weight[0, 1] = 1 and weight[2, 2] = 2, so it picks two shifted pixels.</summary>
    private static double[] TwoTapKernel()
    {
        var weight = new double[9];
        weight[1] = 1;
        weight[8] = 2;
        return weight;
    }

    [Fact]
    public void Conv2dValidMatchesHandComputation()
    {
        var geometry = new Conv2dGeometry(N: 1, C: 1, H: 4, W: 4, K: 1, R: 3, S: 3, StrideH: 1, StrideW: 1,
            PadH: 0, PadW: 0);
        var output = new double[4];

        Conv2dReference.Forward(Image4x4(), TwoTapKernel(), [0.5], output, geometry);

        // out[p, q] = x[p, q + 1] + 2·x[p + 2, q + 2] + 0.5 = (4p + q + 2) + 2·(4p + q + 11) + 0.5 = 12p + 3q + 24.5
        Assert.Equal([24.5, 27.5, 36.5, 39.5], output);
    }

    [Fact]
    public void Conv2dPaddedStridedMatchesHandComputation()
    {
        var geometry = new Conv2dGeometry(N: 1, C: 1, H: 4, W: 4, K: 1, R: 3, S: 3, StrideH: 2, StrideW: 2,
            PadH: 1, PadW: 1);
        var output = new double[4];

        Conv2dReference.Forward(Image4x4(), TwoTapKernel(), null, output, geometry);

        // out[p, q] = x[2p − 1, 2q] + 2·x[2p + 1, 2q + 1]; row −1 is padding, so the first row keeps only the second
        // term: 2·x[1, 1] = 12, 2·x[1, 3] = 16, then x[1, 0] + 2·x[3, 1] = 5 + 28 and x[1, 2] + 2·x[3, 3] = 7 + 32.
        Assert.Equal([12.0, 16.0, 33.0, 39.0], output);
    }

    [Fact]
    public void Conv2dBackwardBiasSumsGradOutput()
    {
        var geometry = new Conv2dGeometry(N: 2, C: 1, H: 3, W: 3, K: 2, R: 2, S: 2, StrideH: 1, StrideW: 1,
            PadH: 0, PadW: 0);
        var gradOutput = Enumerable.Range(0, 16).Select(value => (double)value).ToArray();
        var gradBias = new double[2];

        Conv2dReference.Backward(new double[18], new double[8], gradOutput, null, null, gradBias, geometry);

        // gradOutput is (2, 2, 2, 2): channel 0 holds 0..3 and 8..11, channel 1 holds 4..7 and 12..15.
        Assert.Equal([0 + 1 + 2 + 3 + 8 + 9 + 10 + 11, 4 + 5 + 6 + 7 + 12 + 13 + 14 + 15.0], gradBias);
    }

    [Fact]
    public void LinearMatchesHandComputation()
    {
        var output = new double[3];

        LinearReference.Forward([1, 2], [1, 0, 0, 1, 1, 1], [0, 0, 1], output, batch: 1, inFeatures: 2,
            outFeatures: 3);

        Assert.Equal([1.0, 2.0, 4.0], output);
    }

    [Fact]
    public void ReluBackwardAtZeroIsZero()
    {
        var gradInput = new double[3];

        ActivationReference.ReluBackward([0, 2, 0], [5, 6, 7], gradInput);

        Assert.Equal([0.0, 6.0, 0.0], gradInput);
    }

    [Fact]
    public void SigmoidOfZeroIsHalf()
    {
        var output = new double[3];

        ActivationReference.SigmoidForward([0, 800, -800], output);

        Assert.Equal(0.5, output[0], Tolerance);
        Assert.Equal(1.0, output[1], Tolerance);
        Assert.Equal(0.0, output[2], Tolerance);
    }

    [Fact]
    public void MultiplyPerChannelBroadcast()
    {
        // a is (1, 2, 1, 2) = [[1, 2], [3, 4]] and b (1, 2, 1, 1) = [10, 100].
        var output = new double[4];
        var gradB = new double[2];

        ChannelReference.MultiplyForward([1, 2, 3, 4], [10, 100], output, Broadcast.PerChannel, 1, 2, 1, 2);
        ChannelReference.MultiplyBackward([1, 2, 3, 4], [10, 100], [1, 1, 1, 1], null, gradB, Broadcast.PerChannel,
            1, 2, 1, 2);

        Assert.Equal([10.0, 20.0, 300.0, 400.0], output);
        Assert.Equal([1.0 + 2.0, 3.0 + 4.0], gradB);
    }

    [Fact]
    public void MultiplyPerPixelBroadcast()
    {
        // a is (1, 2, 1, 2) = [[1, 2], [3, 4]] and b (1, 1, 1, 2) = [10, 100].
        var output = new double[4];
        var gradA = new double[4];
        var gradB = new double[2];

        ChannelReference.MultiplyForward([1, 2, 3, 4], [10, 100], output, Broadcast.PerPixel, 1, 2, 1, 2);
        ChannelReference.MultiplyBackward([1, 2, 3, 4], [10, 100], [1, 1, 1, 1], gradA, gradB, Broadcast.PerPixel,
            1, 2, 1, 2);

        Assert.Equal([10.0, 200.0, 30.0, 400.0], output);
        Assert.Equal([10.0, 100.0, 10.0, 100.0], gradA);
        Assert.Equal([1.0 + 3.0, 2.0 + 4.0], gradB);
    }

    [Fact]
    public void MaxPoolPicksWindowMax()
    {
        var geometry = new Pool2dGeometry(N: 1, C: 1, H: 2, W: 4, KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2,
            PadH: 0, PadW: 0);
        var output = new double[2];
        var gradInput = new double[8];
        double[] input = [1, 4, -5, -6, 3, 2, -7, -8];

        PoolingReference.MaxPool2dForward(input, output, geometry);
        PoolingReference.MaxPool2dBackward(input, [10, 20], gradInput, geometry);

        Assert.Equal([4.0, -5.0], output);
        Assert.Equal([0, 10.0, 20.0, 0, 0, 0, 0, 0], gradInput);
    }

    [Fact]
    public void MaxPoolTieGoesToFirstElement()
    {
        var geometry = new Pool2dGeometry(N: 1, C: 1, H: 2, W: 2, KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2,
            PadH: 0, PadW: 0);
        var gradInput = new double[4];

        PoolingReference.MaxPool2dBackward([3, 3, 3, 3], [7], gradInput, geometry);

        Assert.Equal([7.0, 0, 0, 0], gradInput);
    }

    [Fact]
    public void MaxPoolPaddingNeverWins()
    {
        // Every window of a padded 3×3 pool over a negative image includes padding, which must not count as 0.
        var geometry = new Pool2dGeometry(N: 1, C: 1, H: 2, W: 2, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1,
            PadH: 1, PadW: 1);
        var output = new double[4];

        PoolingReference.MaxPool2dForward([-4, -3, -2, -1], output, geometry);

        Assert.Equal([-1.0, -1.0, -1.0, -1.0], output);
    }

    [Fact]
    public void MaxPoolPropagatesNaN()
    {
        var geometry = new Pool2dGeometry(N: 1, C: 1, H: 1, W: 3, KernelH: 1, KernelW: 3, StrideH: 1, StrideW: 1,
            PadH: 0, PadW: 0);
        var output = new double[1];

        PoolingReference.MaxPool2dForward([1, double.NaN, 5], output, geometry);

        Assert.True(double.IsNaN(output[0]), $"Expected NaN, got {output[0]}.");
    }

    [Fact]
    public void AvgPoolCountsPaddingInDivisor()
    {
        // Kernel 2, stride 2, padding 1 on a 2×2 image: each window holds one image pixel and three padded zeros.
        var geometry = new Pool2dGeometry(N: 1, C: 1, H: 2, W: 2, KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2,
            PadH: 1, PadW: 1);
        var output = new double[4];
        var gradInput = new double[4];

        PoolingReference.AvgPool2dForward([1, 2, 3, 4], output, geometry);
        PoolingReference.AvgPool2dBackward([4, 8, 12, 16], gradInput, geometry);

        Assert.Equal([0.25, 0.5, 0.75, 1.0], output);
        Assert.Equal([1.0, 2.0, 3.0, 4.0], gradInput);
    }

    [Fact]
    public void GlobalPoolsReduceEachPlane()
    {
        // Input (1, 2, 1, 3): planes [1, 5, 3] and [-2, -2, -8].
        double[] input = [1, 5, 3, -2, -2, -8];
        var mean = new double[2];
        var max = new double[2];
        var gradInput = new double[6];

        PoolingReference.GlobalAvgPoolForward(input, mean, 1, 2, 1, 3);
        PoolingReference.GlobalMaxPoolForward(input, max, 1, 2, 1, 3);
        PoolingReference.GlobalMaxPoolBackward(input, [1, 2], gradInput, 1, 2, 1, 3);

        Assert.Equal([3.0, -4.0], mean);
        Assert.Equal([5.0, -2.0], max);
        Assert.Equal([0, 1.0, 0, 2.0, 0, 0], gradInput);
    }

    [Fact]
    public void ChannelReductionsPerPixel()
    {
        // Input (1, 3, 1, 2): channels [1, 6], [4, 6], [-2, 0].
        double[] input = [1, 6, 4, 6, -2, 0];
        var mean = new double[2];
        var max = new double[2];
        var gradInput = new double[6];

        ChannelReference.ChannelMeanForward(input, mean, 1, 3, 1, 2);
        ChannelReference.ChannelMaxForward(input, max, 1, 3, 1, 2);
        ChannelReference.ChannelMaxBackward(input, [10, 20], gradInput, 1, 3, 1, 2);

        Assert.Equal([1.0, 4.0], mean);
        Assert.Equal([4.0, 6.0], max);
        // Pixel 1 ties between channels 0 and 1 at 6, so channel 0 takes the gradient.
        Assert.Equal([0, 20.0, 10.0, 0, 0, 0], gradInput);
    }

    [Fact]
    public void ConcatInterleavesImages()
    {
        // Two (2, 1, 1, 1) inputs give (2, 2, 1, 1): image 0 is [a0, b0], image 1 is [a1, b1].
        var output = new double[4];
        var gradA = new double[2];

        ChannelReference.ConcatForward([[1, 2], [3, 4]], output, 2, [1, 1], 1, 1);
        ChannelReference.ConcatBackward([10, 30, 20, 40], [gradA, null], 2, [1, 1], 1, 1);

        Assert.Equal([1.0, 3.0, 2.0, 4.0], output);
        Assert.Equal([10.0, 20.0], gradA);
    }

    [Fact]
    public void BatchNormTrainingUsesBiasedAndUnbiasedVariance()
    {
        // One channel of [1, 2, 3, 4]: mean 2.5, biased variance 1.25, unbiased variance 5/3.
        var output = new double[4];
        var saveMean = new double[1];
        var saveInvStd = new double[1];
        double[] runningMean = [0];
        double[] runningVar = [1];

        BatchNormReference.ForwardTraining([1, 2, 3, 4], [2], [1], output, saveMean, saveInvStd, runningMean,
            runningVar, momentum: 0.1, epsilon: 0, 1, 1, 2, 2);

        double invStd = 1 / Math.Sqrt(1.25);
        Assert.Equal(2.5, saveMean[0], Tolerance);
        Assert.Equal(invStd, saveInvStd[0], Tolerance);
        Assert.Equal(2 * -1.5 * invStd + 1, output[0], Tolerance);
        Assert.Equal(2 * 1.5 * invStd + 1, output[3], Tolerance);
        Assert.Equal(0.25, runningMean[0], Tolerance);
        Assert.Equal(0.9 + 0.1 * 5.0 / 3.0, runningVar[0], Tolerance);
    }

    [Fact]
    public void BatchNormTrainingRejectsOneValuePerChannel()
    {
        var error = Assert.Throws<ArgumentException>(() => BatchNormReference.ForwardTraining([1, 2], [1, 1], [0, 0],
            new double[2], new double[2], new double[2], new double[2], new double[2], 0.1, 1e-5, 1, 2, 1, 1));

        Assert.Contains("(1, 2, 1, 1)", error.Message);
    }

    [Fact]
    public void BatchNormInferenceUsesRunningStatistics()
    {
        var output = new double[2];

        BatchNormReference.ForwardInference([3, -1], [2], [0.5], [1], [4], output, epsilon: 0, 1, 1, 1, 2);

        // (3 − 1) / 2 · 2 + 0.5 and (−1 − 1) / 2 · 2 + 0.5
        Assert.Equal([2.5, -1.5], output);
    }

    [Fact]
    public void DropoutMaskFollowsCounterRandom()
    {
        const double probability = 0.25;
        const ulong seed = 42;
        var input = Enumerable.Repeat(2.0, 10_000).ToArray();
        var output = new double[input.Length];
        var mask = new double[input.Length];

        DropoutReference.Forward(input, output, mask, probability, seed);

        for (int i = 0; i < mask.Length; i++)
        {
            bool dropped = CounterRandom.Uniform(seed, (ulong)i) < probability;
            Assert.Equal(dropped ? 0 : 1 / 0.75, mask[i], Tolerance);
            Assert.Equal(2 * mask[i], output[i], Tolerance);
        }
        double droppedFraction = mask.Count(value => value == 0) / (double)mask.Length;
        // The count of drops is Binomial(10000, 0.25), whose standard deviation is about 0.0043 as a fraction.
        Assert.InRange(droppedFraction, 0.23, 0.27);
    }

    [Fact]
    public void DropoutProbabilityOneDropsAll()
    {
        var output = new double[100];
        var mask = new double[100];

        DropoutReference.Forward(Enumerable.Repeat(1.0, 100).ToArray(), output, mask, 1, seed: 7);

        Assert.All(mask, value => Assert.Equal(0.0, value));
        Assert.All(output, value => Assert.Equal(0.0, value));
    }

    [Fact]
    public void LocalResponseNormSizeOne()
    {
        var output = new double[2];

        LocalResponseNormReference.Forward([2, -1], output, size: 1, alpha: 0.5, beta: 0.75, k: 1, 1, 1, 1, 2);

        // b = a / (k + alpha·a²)^beta: 2 / 3^0.75 and −1 / 1.5^0.75
        Assert.Equal(2 / Math.Pow(3, 0.75), output[0], Tolerance);
        Assert.Equal(-1 / Math.Pow(1.5, 0.75), output[1], Tolerance);
    }

    [Fact]
    public void LocalResponseNormWindowsOddAndEven()
    {
        // One pixel with channels [1, 2, 3], k = 2, alpha = 3, beta = 1, so b = a / (2 + 3/size · Σ a²).
        double[] input = [1, 2, 3];
        var odd = new double[3];
        var even = new double[3];

        LocalResponseNormReference.Forward(input, odd, size: 3, alpha: 3, beta: 1, k: 2, 1, 3, 1, 1);
        LocalResponseNormReference.Forward(input, even, size: 2, alpha: 3, beta: 1, k: 2, 1, 3, 1, 1);

        // size 3 windows: {0, 1}, {0, 1, 2}, {1, 2}, so scales 2 + 5, 2 + 14, 2 + 13.
        Assert.Equal([1 / 7.0, 2 / 16.0, 3 / 15.0], odd);
        // size 2 windows reach one channel back: {0}, {0, 1}, {1, 2}, so scales 2 + 1.5, 2 + 7.5, 2 + 19.5.
        Assert.Equal(1 / 3.5, even[0], Tolerance);
        Assert.Equal(2 / 9.5, even[1], Tolerance);
        Assert.Equal(3 / 21.5, even[2], Tolerance);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    public void SoftmaxCrossEntropyOfEqualLogitsIsLnClasses(double labelSmoothing)
    {
        const int batch = 3, classes = 10;
        var loss = new double[1];
        var probabilities = new double[batch * classes];

        SoftmaxCrossEntropyReference.Forward(Enumerable.Repeat(0.7, batch * classes).ToArray(), [0, 4, 9], loss,
            probabilities, labelSmoothing, batch, classes);

        Assert.Equal(Math.Log(classes), loss[0], Tolerance);
        Assert.All(probabilities, p => Assert.Equal(0.1, p, Tolerance));
    }

    [Fact]
    public void SoftmaxCrossEntropyLargeLogitsStayFinite()
    {
        var loss = new double[1];
        var probabilities = new double[2];

        SoftmaxCrossEntropyReference.Forward([1000, 0], [1], loss, probabilities, 0, 1, 2);

        // −log softmax(z)[1] = log(e^1000 + 1) − 0 ≈ 1000.
        Assert.Equal(1000, loss[0], 1e-9);
        Assert.Equal(1.0, probabilities[0], Tolerance);
    }

    [Fact]
    public void SoftmaxCrossEntropyBackwardWithSmoothing()
    {
        var gradLogits = new double[4];

        // Two rows with p = [0.5, 0.5], labels 0 and 1, ε = 0.2: targets [0.9, 0.1] and [0.1, 0.9], N = 2.
        SoftmaxCrossEntropyReference.Backward([0.5, 0.5, 0.5, 0.5], [0, 1], [3], gradLogits, 0.2, 2, 2);

        Assert.Equal(3 * (0.5 - 0.9) / 2, gradLogits[0], Tolerance);
        Assert.Equal(3 * (0.5 - 0.1) / 2, gradLogits[1], Tolerance);
        Assert.Equal(3 * (0.5 - 0.1) / 2, gradLogits[2], Tolerance);
        Assert.Equal(3 * (0.5 - 0.9) / 2, gradLogits[3], Tolerance);
    }

    [Fact]
    public void SoftmaxCrossEntropyRejectsInvalidLabel()
    {
        var error = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropyReference.Forward([0, 0], [2],
            new double[1], new double[2], 0, 1, 2));

        Assert.Contains("labels[0] = 2", error.Message);
    }

    [Fact]
    public void SgdNesterovTwoStepsByHand()
    {
        double[] parameter = [1.0];
        double[] buffer = [0.0];

        // Step 1: g = 0.5 + 0.1·1 = 0.6, buf = g = 0.6, direction = 0.6 + 0.9·0.6 = 1.14, param = 1 − 0.114.
        OptimizerReference.SgdStep(parameter, [0.5], buffer, learningRate: 0.1, momentum: 0.9, dampening: 0,
            weightDecay: 0.1, nesterov: true, firstStep: true);
        Assert.Equal(0.886, parameter[0], Tolerance);
        Assert.Equal(0.6, buffer[0], Tolerance);

        // Step 2: g = 0.2 + 0.0886 = 0.2886, buf = 0.54 + 0.2886 = 0.8286, direction = 0.2886 + 0.74574 = 1.03434.
        OptimizerReference.SgdStep(parameter, [0.2], buffer, 0.1, 0.9, 0, 0.1, nesterov: true, firstStep: false);
        Assert.Equal(0.8286, buffer[0], Tolerance);
        Assert.Equal(0.886 - 0.103434, parameter[0], Tolerance);
    }

    [Fact]
    public void SgdDampeningSkipsFirstStep()
    {
        double[] parameter = [0.0];
        double[] buffer = [0.0];

        // The first step sets buf = g, undamped, as torch.optim.SGD does; the second damps: 0.5·2 + 0.5·4 = 3.
        OptimizerReference.SgdStep(parameter, [2], buffer, 1, momentum: 0.5, dampening: 0.5, 0, false, true);
        Assert.Equal(2.0, buffer[0], Tolerance);
        OptimizerReference.SgdStep(parameter, [4], buffer, 1, momentum: 0.5, dampening: 0.5, 0, false, false);
        Assert.Equal(3.0, buffer[0], Tolerance);
        Assert.Equal(-5.0, parameter[0], Tolerance);
    }

    [Fact]
    public void SgdWithoutMomentumIgnoresBuffer()
    {
        double[] parameter = [1.0, 2.0];

        OptimizerReference.SgdStep(parameter, [0.5, -1], null, 0.1, 0, 0, 0, false, true);

        Assert.Equal(0.95, parameter[0], Tolerance);
        Assert.Equal(2.1, parameter[1], Tolerance);
    }

    [Fact]
    public void AdamFirstStepIsLearningRateTimesSign()
    {
        // After one step m̂ = g and v̂ = g², so the update is lr·g / (|g| + eps) ≈ lr·sign(g) at any scale of g.
        double[] grad = [3, -0.02, 1e-3, -50];
        double[] parameter = [1, 1, 1, 1];

        OptimizerReference.AdamStep(parameter, grad, new double[4], new double[4], learningRate: 0.01, beta1: 0.9,
            beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupledWeightDecay: false, step: 1);

        for (int i = 0; i < grad.Length; i++)
            Assert.Equal(1 - 0.01 * Math.Sign(grad[i]), parameter[i], 1e-6);
    }

    [Fact]
    public void AdamSecondStepByHand()
    {
        double[] parameter = [1.0];
        double[] first = [0.0];
        double[] second = [0.0];

        OptimizerReference.AdamStep(parameter, [1.0], first, second, 0.1, 0.9, 0.999, 0, 0, false, step: 1);
        OptimizerReference.AdamStep(parameter, [0.5], first, second, 0.1, 0.9, 0.999, 0, 0, false, step: 2);

        // m = 0.9·0.1 + 0.1·0.5 = 0.14, v = 0.999·0.001 + 0.001·0.25 = 0.001249; bias corrections 0.19 and
        // 0.001999, so the step is 0.1·(0.14 / 0.19) / sqrt(0.001249 / 0.001999) ≈ 0.0932180.
        Assert.Equal(0.14, first[0], Tolerance);
        Assert.Equal(0.001249, second[0], Tolerance);
        Assert.Equal(0.9 - 0.0932180, parameter[0], 1e-7);
    }

    [Fact]
    public void AdamWDecaysBeforeUpdate()
    {
        double[] decoupled = [2.0];
        double[] coupled = [2.0];

        OptimizerReference.AdamStep(decoupled, [-0.1], new double[1], new double[1], 0.01, 0.9, 0.999, 1e-8,
            weightDecay: 0.1, decoupledWeightDecay: true, step: 1);
        OptimizerReference.AdamStep(coupled, [-0.1], new double[1], new double[1], 0.01, 0.9, 0.999, 1e-8,
            weightDecay: 0.1, decoupledWeightDecay: false, step: 1);

        // AdamW: 2·(1 − 0.01·0.1) + 0.01 for the negative gradient. Adam: g = −0.1 + 0.1·2 = 0.1 > 0, a step down.
        Assert.Equal(1.998 + 0.01, decoupled[0], 1e-6);
        Assert.Equal(2 - 0.01, coupled[0], 1e-6);
    }

    [Fact]
    public void KernelRejectsWrongWeightLength()
    {
        var geometry = new Conv2dGeometry(N: 1, C: 3, H: 5, W: 5, K: 4, R: 3, S: 3, StrideH: 1, StrideW: 1,
            PadH: 0, PadW: 0);

        var error = Assert.Throws<ArgumentException>(() =>
            Conv2dReference.Forward(new double[75], new double[100], null, new double[36], geometry));

        Assert.Contains("weight", error.Message);
        Assert.Contains("(4, 3, 3, 3)", error.Message);
    }

    [Fact]
    public void KernelRejectsMismatchedElementwiseLengths()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            ActivationReference.AddForward(new double[3], new double[4], new double[3]));

        Assert.Contains("4 elements", error.Message);
    }
}
