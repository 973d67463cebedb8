using FashionCuda.Backends;
using FashionCuda.Backends.Reference;
using FashionCuda.Tensors;

namespace FashionCuda.Checks;

/// <summary>The per-op set-ups of <see cref="GradientChecks"/>: inputs, the forward loss and the backward pass.</summary>
public static partial class GradientChecks
{
    private static IEnumerable<CheckResult> CheckConv2d(Rng rng) =>
        CheckConv2dWith(rng, "conv2d", new Conv2dGeometry(N: 2, C: 3, H: 5, W: 5, K: 4, R: 3, S: 3,
            StrideH: 1, StrideW: 1, PadH: 1, PadW: 1));

    /// <summary>Unequal strides, padding on one axis and a 3×2 kernel; the last input column is never read.</summary>
    private static IEnumerable<CheckResult> CheckConv2dStrided(Rng rng) =>
        CheckConv2dWith(rng, "conv2d-strided", new Conv2dGeometry(N: 2, C: 2, H: 7, W: 7, K: 3, R: 3, S: 2,
            StrideH: 2, StrideW: 2, PadH: 1, PadW: 0));

    private static IEnumerable<CheckResult> CheckConv2dWith(Rng rng, string op, Conv2dGeometry geometry)
    {
        var input = Normal(rng, geometry.N * geometry.C * geometry.H * geometry.W);
        var weight = Normal(rng, geometry.K * geometry.C * geometry.R * geometry.S, 0.5);
        var bias = Normal(rng, geometry.K);
        var gradOutput = Normal(rng, geometry.N * geometry.K * geometry.P * geometry.Q);
        double Loss()
        {
            var output = new double[gradOutput.Length];
            Conv2dReference.Forward(input, weight, bias, output, geometry);
            return Dot(output, gradOutput);
        }

        var gradInput = new double[input.Length];
        var gradWeight = new double[weight.Length];
        var gradBias = new double[bias.Length];
        Conv2dReference.Backward(input, weight, gradOutput, gradInput, gradWeight, gradBias, geometry);
        yield return Compare(op, "dInput", input, gradInput, Loss);
        yield return Compare(op, "dWeight", weight, gradWeight, Loss);
        yield return Compare(op, "dBias", bias, gradBias, Loss);
    }

    private static IEnumerable<CheckResult> CheckLinear(Rng rng)
    {
        const int batch = 3, inFeatures = 5, outFeatures = 4;
        var input = Normal(rng, batch * inFeatures);
        var weight = Normal(rng, outFeatures * inFeatures, 0.5);
        var bias = Normal(rng, outFeatures);
        var gradOutput = Normal(rng, batch * outFeatures);
        double Loss()
        {
            var output = new double[gradOutput.Length];
            LinearReference.Forward(input, weight, bias, output, batch, inFeatures, outFeatures);
            return Dot(output, gradOutput);
        }

        var gradInput = new double[input.Length];
        var gradWeight = new double[weight.Length];
        var gradBias = new double[bias.Length];
        LinearReference.Backward(input, weight, gradOutput, gradInput, gradWeight, gradBias, batch, inFeatures,
            outFeatures);
        yield return Compare("linear", "dInput", input, gradInput, Loss);
        yield return Compare("linear", "dWeight", weight, gradWeight, Loss);
        yield return Compare("linear", "dBias", bias, gradBias, Loss);
    }

    private static IEnumerable<CheckResult> CheckRelu(Rng rng)
    {
        var input = AwayFromZero(rng, 60);
        var gradOutput = Normal(rng, input.Length);
        var output = new double[input.Length];
        double Loss()
        {
            var result = new double[input.Length];
            ActivationReference.ReluForward(input, result);
            return Dot(result, gradOutput);
        }

        ActivationReference.ReluForward(input, output);
        var gradInput = new double[input.Length];
        ActivationReference.ReluBackward(output, gradOutput, gradInput);
        yield return Compare("relu", "dInput", input, gradInput, Loss);
    }

    private static IEnumerable<CheckResult> CheckSigmoid(Rng rng)
    {
        var input = Normal(rng, 60, 2);
        var gradOutput = Normal(rng, input.Length);
        var output = new double[input.Length];
        double Loss()
        {
            var result = new double[input.Length];
            ActivationReference.SigmoidForward(input, result);
            return Dot(result, gradOutput);
        }

        ActivationReference.SigmoidForward(input, output);
        var gradInput = new double[input.Length];
        ActivationReference.SigmoidBackward(output, gradOutput, gradInput);
        yield return Compare("sigmoid", "dInput", input, gradInput, Loss);
    }

    private static IEnumerable<CheckResult> CheckAdd(Rng rng)
    {
        var a = Normal(rng, 40);
        var b = Normal(rng, 40);
        var gradOutput = Normal(rng, 40);
        double Loss()
        {
            var output = new double[a.Length];
            ActivationReference.AddForward(a, b, output);
            return Dot(output, gradOutput);
        }

        var gradA = new double[a.Length];
        var gradB = new double[b.Length];
        ActivationReference.AddBackward(gradOutput, gradA, gradB);
        yield return Compare("add", "dA", a, gradA, Loss);
        yield return Compare("add", "dB", b, gradB, Loss);
    }

    private static IEnumerable<CheckResult> CheckMultiply(Rng rng, string op, Broadcast broadcast)
    {
        const int n = 2, c = 3, h = 4, w = 3;
        int bLength = broadcast switch
        {
            Broadcast.PerChannel => n * c,
            Broadcast.PerPixel => n * h * w,
            _ => n * c * h * w,
        };
        var a = Normal(rng, n * c * h * w);
        var b = Normal(rng, bLength);
        var gradOutput = Normal(rng, a.Length);
        double Loss()
        {
            var output = new double[a.Length];
            ChannelReference.MultiplyForward(a, b, output, broadcast, n, c, h, w);
            return Dot(output, gradOutput);
        }

        var gradA = new double[a.Length];
        var gradB = new double[b.Length];
        ChannelReference.MultiplyBackward(a, b, gradOutput, gradA, gradB, broadcast, n, c, h, w);
        yield return Compare(op, "dA", a, gradA, Loss);
        yield return Compare(op, "dB", b, gradB, Loss);
    }

    private static IEnumerable<CheckResult> CheckMaxPool2d(Rng rng) =>
        CheckMaxPool2dWith(rng, "max-pool-2d", new Pool2dGeometry(N: 2, C: 2, H: 6, W: 6, KernelH: 2, KernelW: 2,
            StrideH: 2, StrideW: 2, PadH: 0, PadW: 0));

    /// <summary>Overlapping padded windows, so some inputs collect gradient from two windows.</summary>
    private static IEnumerable<CheckResult> CheckMaxPool2dPadded(Rng rng) =>
        CheckMaxPool2dWith(rng, "max-pool-2d-padded", new Pool2dGeometry(N: 1, C: 2, H: 7, W: 6, KernelH: 3,
            KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1));

    private static IEnumerable<CheckResult> CheckMaxPool2dWith(Rng rng, string op, Pool2dGeometry geometry)
    {
        var input = DistinctValues(rng, geometry.N * geometry.C * geometry.H * geometry.W);
        var gradOutput = Normal(rng, geometry.N * geometry.C * geometry.P * geometry.Q);
        double Loss()
        {
            var output = new double[gradOutput.Length];
            PoolingReference.MaxPool2dForward(input, output, geometry);
            return Dot(output, gradOutput);
        }

        var gradInput = new double[input.Length];
        PoolingReference.MaxPool2dBackward(input, gradOutput, gradInput, geometry);
        yield return Compare(op, "dInput", input, gradInput, Loss);
    }

    /// <summary>A padded, overlapping, non-square window, so the divisor includes padded positions.</summary>
    private static IEnumerable<CheckResult> CheckAvgPool2d(Rng rng)
    {
        var geometry = new Pool2dGeometry(N: 2, C: 2, H: 7, W: 6, KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1,
            PadH: 1, PadW: 1);
        var input = Normal(rng, geometry.N * geometry.C * geometry.H * geometry.W);
        var gradOutput = Normal(rng, geometry.N * geometry.C * geometry.P * geometry.Q);
        double Loss()
        {
            var output = new double[gradOutput.Length];
            PoolingReference.AvgPool2dForward(input, output, geometry);
            return Dot(output, gradOutput);
        }

        var gradInput = new double[input.Length];
        PoolingReference.AvgPool2dBackward(gradOutput, gradInput, geometry);
        yield return Compare("avg-pool-2d", "dInput", input, gradInput, Loss);
    }

    private static IEnumerable<CheckResult> CheckGlobalAvgPool(Rng rng)
    {
        const int n = 2, c = 3, h = 4, w = 5;
        var input = Normal(rng, n * c * h * w);
        var gradOutput = Normal(rng, n * c);
        double Loss()
        {
            var output = new double[n * c];
            PoolingReference.GlobalAvgPoolForward(input, output, n, c, h, w);
            return Dot(output, gradOutput);
        }

        var gradInput = new double[input.Length];
        PoolingReference.GlobalAvgPoolBackward(gradOutput, gradInput, n, c, h, w);
        yield return Compare("global-avg-pool", "dInput", input, gradInput, Loss);
    }

    private static IEnumerable<CheckResult> CheckGlobalMaxPool(Rng rng)
    {
        const int n = 2, c = 3, h = 4, w = 5;
        var input = DistinctValues(rng, n * c * h * w);
        var gradOutput = Normal(rng, n * c);
        double Loss()
        {
            var output = new double[n * c];
            PoolingReference.GlobalMaxPoolForward(input, output, n, c, h, w);
            return Dot(output, gradOutput);
        }

        var gradInput = new double[input.Length];
        PoolingReference.GlobalMaxPoolBackward(input, gradOutput, gradInput, n, c, h, w);
        yield return Compare("global-max-pool", "dInput", input, gradInput, Loss);
    }

    private static IEnumerable<CheckResult> CheckChannelMean(Rng rng)
    {
        const int n = 2, c = 4, h = 3, w = 3;
        var input = Normal(rng, n * c * h * w);
        var gradOutput = Normal(rng, n * h * w);
        double Loss()
        {
            var output = new double[n * h * w];
            ChannelReference.ChannelMeanForward(input, output, n, c, h, w);
            return Dot(output, gradOutput);
        }

        var gradInput = new double[input.Length];
        ChannelReference.ChannelMeanBackward(gradOutput, gradInput, n, c, h, w);
        yield return Compare("channel-mean", "dInput", input, gradInput, Loss);
    }

    private static IEnumerable<CheckResult> CheckChannelMax(Rng rng)
    {
        const int n = 2, c = 4, h = 3, w = 3;
        var input = DistinctValues(rng, n * c * h * w);
        var gradOutput = Normal(rng, n * h * w);
        double Loss()
        {
            var output = new double[n * h * w];
            ChannelReference.ChannelMaxForward(input, output, n, c, h, w);
            return Dot(output, gradOutput);
        }

        var gradInput = new double[input.Length];
        ChannelReference.ChannelMaxBackward(input, gradOutput, gradInput, n, c, h, w);
        yield return Compare("channel-max", "dInput", input, gradInput, Loss);
    }

    private static IEnumerable<CheckResult> CheckConcat(Rng rng)
    {
        const int n = 2, h = 3, w = 2;
        int[] channels = [1, 3, 2];
        var inputs = channels.Select(c => Normal(rng, n * c * h * w)).ToArray();
        var gradOutput = Normal(rng, n * channels.Sum() * h * w);
        double Loss()
        {
            var output = new double[gradOutput.Length];
            ChannelReference.ConcatForward(inputs, output, n, channels, h, w);
            return Dot(output, gradOutput);
        }

        var gradInputs = inputs.Select(input => new double[input.Length]).ToArray();
        ChannelReference.ConcatBackward(gradOutput, gradInputs, n, channels, h, w);
        for (int i = 0; i < inputs.Length; i++)
            yield return Compare("concat", $"dInputs[{i}]", inputs[i], gradInputs[i], Loss);
    }

    /// <summary>Training mode, so the loss depends on the input through the batch mean and variance as well.</summary>
    private static IEnumerable<CheckResult> CheckBatchNorm2d(Rng rng)
    {
        const int n = 3, c = 2, h = 3, w = 2;
        const double momentum = 0.1, epsilon = 1e-5;
        var input = Normal(rng, n * c * h * w, 2);
        var weight = Normal(rng, c);
        var bias = Normal(rng, c);
        var gradOutput = Normal(rng, input.Length);
        double Loss()
        {
            var output = new double[input.Length];
            BatchNormReference.ForwardTraining(input, weight, bias, output, new double[c], new double[c],
                new double[c], new double[c], momentum, epsilon, n, c, h, w);
            return Dot(output, gradOutput);
        }

        var saveMean = new double[c];
        var saveInvStd = new double[c];
        BatchNormReference.ForwardTraining(input, weight, bias, new double[input.Length], saveMean, saveInvStd,
            new double[c], new double[c], momentum, epsilon, n, c, h, w);
        var gradInput = new double[input.Length];
        var gradWeight = new double[c];
        var gradBias = new double[c];
        BatchNormReference.Backward(input, weight, saveMean, saveInvStd, gradOutput, gradInput, gradWeight, gradBias,
            n, c, h, w);
        yield return Compare("batch-norm-2d", "dInput", input, gradInput, Loss);
        yield return Compare("batch-norm-2d", "dWeight", weight, gradWeight, Loss);
        yield return Compare("batch-norm-2d", "dBias", bias, gradBias, Loss);
    }

    /// <summary>The mask depends only on the seed, so it stays fixed while the input moves.</summary>
    private static IEnumerable<CheckResult> CheckDropout(Rng rng)
    {
        const double probability = 0.3;
        ulong seed = rng.NextUInt64();
        var input = Normal(rng, 80);
        var gradOutput = Normal(rng, input.Length);
        double Loss()
        {
            var output = new double[input.Length];
            DropoutReference.Forward(input, output, new double[input.Length], probability, seed);
            return Dot(output, gradOutput);
        }

        var mask = new double[input.Length];
        DropoutReference.Forward(input, new double[input.Length], mask, probability, seed);
        var gradInput = new double[input.Length];
        DropoutReference.Backward(mask, gradOutput, gradInput);
        yield return Compare("dropout", "dInput", input, gradInput, Loss);
    }

    /// <summary>An even size makes the channel window asymmetric (size/2 before, (size − 1)/2 after).</summary>
    private static IEnumerable<CheckResult> CheckLocalResponseNorm(Rng rng, string op, int size)
    {
        const int n = 2, c = 6, h = 2, w = 3;
        // A large alpha makes the cross-channel term a sizeable part of the gradient.
        const double alpha = 0.5, beta = 0.75, k = 1.0;
        var input = Normal(rng, n * c * h * w);
        var gradOutput = Normal(rng, input.Length);
        double Loss()
        {
            var result = new double[input.Length];
            LocalResponseNormReference.Forward(input, result, size, alpha, beta, k, n, c, h, w);
            return Dot(result, gradOutput);
        }

        var output = new double[input.Length];
        LocalResponseNormReference.Forward(input, output, size, alpha, beta, k, n, c, h, w);
        var gradInput = new double[input.Length];
        LocalResponseNormReference.Backward(input, output, gradOutput, gradInput, size, alpha, beta, k, n, c, h, w);
        yield return Compare(op, "dInput", input, gradInput, Loss);
    }

    private static IEnumerable<CheckResult> CheckSoftmaxCrossEntropy(Rng rng, string op, double labelSmoothing)
    {
        const int batch = 4, classes = 5;
        var logits = Normal(rng, batch * classes, 2);
        var labels = Enumerable.Range(0, batch).Select(_ => (double)rng.NextInt(classes)).ToArray();
        var gradLoss = new[] { 0.5 + rng.NextDouble() };
        var probabilities = new double[logits.Length];
        double Loss()
        {
            var loss = new double[1];
            SoftmaxCrossEntropyReference.Forward(logits, labels, loss, new double[logits.Length], labelSmoothing,
                batch, classes);
            return loss[0] * gradLoss[0];
        }

        SoftmaxCrossEntropyReference.Forward(logits, labels, new double[1], probabilities, labelSmoothing, batch,
            classes);
        var gradLogits = new double[logits.Length];
        SoftmaxCrossEntropyReference.Backward(probabilities, labels, gradLoss, gradLogits, labelSmoothing, batch,
            classes);
        yield return Compare(op, "dLogits", logits, gradLogits, Loss);
    }
}
