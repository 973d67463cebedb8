using FashionCuda.Backends;
using FashionCuda.Tensors;

namespace FashionCuda.Checks;

// One method per row of the table: make the inputs on both backends, run the op forward and backward on each,
// and compare every output.
public static partial class BackendComparisons
{
    private static void Add(Pair p)
    {
        int[] shape = [2, 3, 5, 7];
        var a = p.Normal(shape);
        var b = p.Normal(shape);
        var output = p.Output(shape);
        p.CandidateBackend.Add(a.Candidate, b.Candidate, output.Candidate);
        p.ReferenceBackend.Add(a.Reference, b.Reference, output.Reference);
        p.Compare("output", output);
    }

    private static void AddInPlace(Pair p)
    {
        int[] shape = [3, 1000 + p.Rng.NextInt(100)];
        var sum = p.Normal(shape);
        var addend = p.Normal(shape);
        p.CandidateBackend.AddInPlace(sum.Candidate, addend.Candidate);
        p.ReferenceBackend.AddInPlace(sum.Reference, addend.Reference);
        p.Compare("destination", sum);
    }

    private static void Multiply(Pair p, Broadcast broadcast)
    {
        int n = 1 + p.Rng.NextInt(3), c = 3 + p.Rng.NextInt(5), h = 3 + p.Rng.NextInt(6), w = 3 + p.Rng.NextInt(6);
        int[] shape = [n, c, h, w];
        int[] factorShape = broadcast switch
        {
            Broadcast.PerChannel => [n, c, 1, 1],
            Broadcast.PerPixel => [n, 1, h, w],
            _ => shape,
        };
        var a = p.Normal(shape);
        var b = p.Normal(factorShape);
        var gradOutput = p.Normal(shape);
        var output = p.Output(shape);
        var gradA = p.Output(shape);
        var gradB = p.Output(factorShape);
        p.CandidateBackend.Multiply(a.Candidate, b.Candidate, output.Candidate, broadcast);
        p.ReferenceBackend.Multiply(a.Reference, b.Reference, output.Reference, broadcast);
        p.CandidateBackend.MultiplyBackward(a.Candidate, b.Candidate, gradOutput.Candidate, gradA.Candidate,
            gradB.Candidate, broadcast);
        p.ReferenceBackend.MultiplyBackward(a.Reference, b.Reference, gradOutput.Reference, gradA.Reference,
            gradB.Reference, broadcast);
        p.Compare("output", output);
        p.Compare("dA", gradA);
        p.Compare("dB", gradB);
    }

    private static void Relu(Pair p)
    {
        int[] shape = [1, 3, 17, 19];
        var input = p.Normal(shape);
        var gradOutput = p.Normal(shape);
        var output = p.Output(shape);
        var gradInput = p.Output(shape);
        p.CandidateBackend.ReluForward(input.Candidate, output.Candidate);
        p.ReferenceBackend.ReluForward(input.Reference, output.Reference);
        p.CandidateBackend.ReluBackward(output.Candidate, gradOutput.Candidate, gradInput.Candidate);
        p.ReferenceBackend.ReluBackward(output.Reference, gradOutput.Reference, gradInput.Reference);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
    }

    private static void Sigmoid(Pair p)
    {
        int[] shape = [2, 5, 9, 11];
        var input = p.Normal(shape, 3.0);
        var gradOutput = p.Normal(shape);
        var output = p.Output(shape);
        var gradInput = p.Output(shape);
        p.CandidateBackend.SigmoidForward(input.Candidate, output.Candidate);
        p.ReferenceBackend.SigmoidForward(input.Reference, output.Reference);
        p.CandidateBackend.SigmoidBackward(output.Candidate, gradOutput.Candidate, gradInput.Candidate);
        p.ReferenceBackend.SigmoidBackward(output.Reference, gradOutput.Reference, gradInput.Reference);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
    }

    private static Conv2dGeometry RandomConv(Rng rng)
    {
        int r = 1 + rng.NextInt(5), s = 1 + rng.NextInt(5);
        int padH = rng.NextInt(r / 2 + 1), padW = rng.NextInt(s / 2 + 1);
        int h = r + rng.NextInt(9), w = s + rng.NextInt(9);
        return new Conv2dGeometry(N: 1 + rng.NextInt(4), C: 1 + rng.NextInt(9), H: h, W: w, K: 1 + rng.NextInt(20),
            R: r, S: s, StrideH: 1 + rng.NextInt(3), StrideW: 1 + rng.NextInt(3), PadH: padH, PadW: padW);
    }

    private static void Conv(Pair p, Conv2dGeometry g)
    {
        var input = p.Normal(g.InputShape);
        var weight = p.Normal(g.WeightShape, 1.0 / Math.Sqrt(g.C * g.R * g.S));
        var bias = p.Normal([g.K]);
        var gradOutput = p.Normal(g.OutputShape);
        var output = p.Output(g.OutputShape);
        var gradInput = p.Output(g.InputShape);
        var gradWeight = p.Output(g.WeightShape);
        var gradBias = p.Output(g.K);
        p.CandidateBackend.Conv2dForward(input.Candidate, weight.Candidate, bias.Candidate, output.Candidate, g);
        p.ReferenceBackend.Conv2dForward(input.Reference, weight.Reference, bias.Reference, output.Reference, g);
        p.CandidateBackend.Conv2dBackward(input.Candidate, weight.Candidate, gradOutput.Candidate, gradInput.Candidate,
            gradWeight.Candidate, gradBias.Candidate, g);
        p.ReferenceBackend.Conv2dBackward(input.Reference, weight.Reference, gradOutput.Reference, gradInput.Reference,
            gradWeight.Reference, gradBias.Reference, g);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
        p.Compare("dWeight", gradWeight);
        p.Compare("dBias", gradBias);
    }

    private static void Linear(Pair p, int n, int inFeatures, int outFeatures)
    {
        var input = p.Normal([n, inFeatures]);
        var weight = p.Normal([outFeatures, inFeatures], 1.0 / Math.Sqrt(inFeatures));
        var bias = p.Normal([outFeatures]);
        var gradOutput = p.Normal([n, outFeatures]);
        var output = p.Output(n, outFeatures);
        var gradInput = p.Output(n, inFeatures);
        var gradWeight = p.Output(outFeatures, inFeatures);
        var gradBias = p.Output(outFeatures);
        p.CandidateBackend.LinearForward(input.Candidate, weight.Candidate, bias.Candidate, output.Candidate);
        p.ReferenceBackend.LinearForward(input.Reference, weight.Reference, bias.Reference, output.Reference);
        p.CandidateBackend.LinearBackward(input.Candidate, weight.Candidate, gradOutput.Candidate, gradInput.Candidate,
            gradWeight.Candidate, gradBias.Candidate);
        p.ReferenceBackend.LinearBackward(input.Reference, weight.Reference, gradOutput.Reference, gradInput.Reference,
            gradWeight.Reference, gradBias.Reference);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
        p.Compare("dWeight", gradWeight);
        p.Compare("dBias", gradBias);
    }

    private static Pool2dGeometry RandomPool(Rng rng)
    {
        int kernelH = 1 + rng.NextInt(4), kernelW = 1 + rng.NextInt(4);
        return new Pool2dGeometry(N: 1 + rng.NextInt(3), C: 1 + rng.NextInt(4), H: kernelH + rng.NextInt(8),
            W: kernelW + rng.NextInt(8), KernelH: kernelH, KernelW: kernelW, StrideH: 1 + rng.NextInt(3),
            StrideW: 1 + rng.NextInt(3), PadH: rng.NextInt(kernelH / 2 + 1), PadW: rng.NextInt(kernelW / 2 + 1));
    }

    private static void MaxPool(Pair p, Pool2dGeometry g)
    {
        int[] inputShape = [g.N, g.C, g.H, g.W];
        var input = p.Integers(inputShape, 4);
        var gradOutput = p.Normal(g.OutputShape);
        var output = p.Output(g.OutputShape);
        var gradInput = p.Output(inputShape);
        p.CandidateBackend.MaxPool2dForward(input.Candidate, output.Candidate, g);
        p.ReferenceBackend.MaxPool2dForward(input.Reference, output.Reference, g);
        p.CandidateBackend.MaxPool2dBackward(input.Candidate, gradOutput.Candidate, gradInput.Candidate, g);
        p.ReferenceBackend.MaxPool2dBackward(input.Reference, gradOutput.Reference, gradInput.Reference, g);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
    }

    private static void AvgPool(Pair p, Pool2dGeometry g)
    {
        int[] inputShape = [g.N, g.C, g.H, g.W];
        var input = p.Normal(inputShape);
        var gradOutput = p.Normal(g.OutputShape);
        var output = p.Output(g.OutputShape);
        var gradInput = p.Output(inputShape);
        p.CandidateBackend.AvgPool2dForward(input.Candidate, output.Candidate, g);
        p.ReferenceBackend.AvgPool2dForward(input.Reference, output.Reference, g);
        p.CandidateBackend.AvgPool2dBackward(gradOutput.Candidate, gradInput.Candidate, g);
        p.ReferenceBackend.AvgPool2dBackward(gradOutput.Reference, gradInput.Reference, g);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
    }

    private static void GlobalAvgPool(Pair p)
    {
        int[] shape = [3, 5, 7, 9];
        var input = p.Normal(shape);
        var gradOutput = p.Normal([3, 5, 1, 1]);
        var output = p.Output(3, 5, 1, 1);
        var gradInput = p.Output(shape);
        p.CandidateBackend.GlobalAvgPoolForward(input.Candidate, output.Candidate);
        p.ReferenceBackend.GlobalAvgPoolForward(input.Reference, output.Reference);
        p.CandidateBackend.GlobalAvgPoolBackward(gradOutput.Candidate, gradInput.Candidate);
        p.ReferenceBackend.GlobalAvgPoolBackward(gradOutput.Reference, gradInput.Reference);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
    }

    private static void GlobalMaxPool(Pair p)
    {
        int[] shape = [1, 6, 5, 3];
        var input = p.Integers(shape, 3);
        var gradOutput = p.Normal([1, 6, 1, 1]);
        var output = p.Output(1, 6, 1, 1);
        var gradInput = p.Output(shape);
        p.CandidateBackend.GlobalMaxPoolForward(input.Candidate, output.Candidate);
        p.ReferenceBackend.GlobalMaxPoolForward(input.Reference, output.Reference);
        p.CandidateBackend.GlobalMaxPoolBackward(input.Candidate, gradOutput.Candidate, gradInput.Candidate);
        p.ReferenceBackend.GlobalMaxPoolBackward(input.Reference, gradOutput.Reference, gradInput.Reference);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
    }

    private static void ChannelMean(Pair p)
    {
        int[] shape = [2, 7, 5, 9];
        var input = p.Normal(shape);
        var gradOutput = p.Normal([2, 1, 5, 9]);
        var output = p.Output(2, 1, 5, 9);
        var gradInput = p.Output(shape);
        p.CandidateBackend.ChannelMeanForward(input.Candidate, output.Candidate);
        p.ReferenceBackend.ChannelMeanForward(input.Reference, output.Reference);
        p.CandidateBackend.ChannelMeanBackward(gradOutput.Candidate, gradInput.Candidate);
        p.ReferenceBackend.ChannelMeanBackward(gradOutput.Reference, gradInput.Reference);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
    }

    private static void ChannelMax(Pair p, int[] shape)
    {
        int[] pooledShape = [shape[0], 1, shape[2], shape[3]];
        var input = p.Integers(shape, 3);
        var gradOutput = p.Normal(pooledShape);
        var output = p.Output(pooledShape);
        var gradInput = p.Output(shape);
        p.CandidateBackend.ChannelMaxForward(input.Candidate, output.Candidate);
        p.ReferenceBackend.ChannelMaxForward(input.Reference, output.Reference);
        p.CandidateBackend.ChannelMaxBackward(input.Candidate, gradOutput.Candidate, gradInput.Candidate);
        p.ReferenceBackend.ChannelMaxBackward(input.Reference, gradOutput.Reference, gradInput.Reference);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
    }

    private static void Concat(Pair p)
    {
        int n = 2, h = 3, w = 5;
        int[] channels = [2, 1 + p.Rng.NextInt(4), 3];
        var parts = channels.Select(c => p.Normal([n, c, h, w])).ToArray();
        int total = channels.Sum();
        var output = p.Output(n, total, h, w);
        p.CandidateBackend.ConcatChannels(parts.Select(t => t.Candidate).ToArray(), output.Candidate);
        p.ReferenceBackend.ConcatChannels(parts.Select(t => t.Reference).ToArray(), output.Reference);
        p.Compare("output", output);

        // The middle gradient is skipped (null), as for a branch that needs none.
        var gradOutput = p.Normal([n, total, h, w]);
        var first = p.Output(n, channels[0], h, w);
        var last = p.Output(n, channels[2], h, w);
        p.CandidateBackend.ConcatChannelsBackward(gradOutput.Candidate, [first.Candidate, null, last.Candidate]);
        p.ReferenceBackend.ConcatChannelsBackward(gradOutput.Reference, [first.Reference, null, last.Reference]);
        p.Compare("dInput 0", first);
        p.Compare("dInput 2", last);
    }

    private static void BatchNormTraining(Pair p)
    {
        int[] shape = [3, 5, 7, 5];
        var input = p.Normal(shape, 2.0);
        // A channel mean far from zero checks that the variance is computed about the mean.
        var offset = p.Uniform(shape, 4.0, 4.0);
        p.CandidateBackend.AddInPlace(input.Candidate, offset.Candidate);
        p.ReferenceBackend.AddInPlace(input.Reference, offset.Reference);
        var weight = p.Uniform([5], 0.5, 1.5);
        var bias = p.Normal([5]);
        var runningMean = p.Normal([5]);
        var runningVar = p.Uniform([5], 0.5, 2.0);
        var saveMean = p.Output(5);
        var saveInvStd = p.Output(5);
        var output = p.Output(shape);
        p.CandidateBackend.BatchNorm2dForwardTraining(input.Candidate, weight.Candidate, bias.Candidate,
            output.Candidate, saveMean.Candidate, saveInvStd.Candidate, runningMean.Candidate, runningVar.Candidate,
            0.1f, 1e-5f);
        p.ReferenceBackend.BatchNorm2dForwardTraining(input.Reference, weight.Reference, bias.Reference,
            output.Reference, saveMean.Reference, saveInvStd.Reference, runningMean.Reference, runningVar.Reference,
            0.1f, 1e-5f);
        p.Compare("output", output);
        p.Compare("saveMean", saveMean);
        p.Compare("saveInvStd", saveInvStd);
        p.Compare("runningMean", runningMean);
        p.Compare("runningVar", runningVar);

        var gradOutput = p.Normal(shape);
        var gradInput = p.Output(shape);
        var gradWeight = p.Output(5);
        var gradBias = p.Output(5);
        p.CandidateBackend.BatchNorm2dBackward(input.Candidate, weight.Candidate, saveMean.Candidate,
            saveInvStd.Candidate, gradOutput.Candidate, gradInput.Candidate, gradWeight.Candidate, gradBias.Candidate);
        p.ReferenceBackend.BatchNorm2dBackward(input.Reference, weight.Reference, saveMean.Reference,
            saveInvStd.Reference, gradOutput.Reference, gradInput.Reference, gradWeight.Reference, gradBias.Reference);
        p.Compare("dInput", gradInput);
        p.Compare("dWeight", gradWeight);
        p.Compare("dBias", gradBias);
    }

    private static void BatchNormInference(Pair p)
    {
        int[] shape = [1, 4, 3, 7];
        var input = p.Normal(shape);
        var weight = p.Uniform([4], 0.5, 1.5);
        var bias = p.Normal([4]);
        var runningMean = p.Normal([4]);
        var runningVar = p.Uniform([4], 0.5, 2.0);
        var output = p.Output(shape);
        p.CandidateBackend.BatchNorm2dForwardInference(input.Candidate, weight.Candidate, bias.Candidate,
            runningMean.Candidate, runningVar.Candidate, output.Candidate, 1e-5f);
        p.ReferenceBackend.BatchNorm2dForwardInference(input.Reference, weight.Reference, bias.Reference,
            runningMean.Reference, runningVar.Reference, output.Reference, 1e-5f);
        p.Compare("output", output);
    }

    private static void Dropout(Pair p)
    {
        int[] shape = [3, 1111];
        var input = p.Normal(shape);
        var output = p.Output(shape);
        var mask = p.Output(shape);
        ulong seed = p.Rng.NextUInt64();
        p.CandidateBackend.DropoutForward(input.Candidate, output.Candidate, mask.Candidate, 0.3f, seed);
        p.ReferenceBackend.DropoutForward(input.Reference, output.Reference, mask.Reference, 0.3f, seed);
        p.Compare("output", output);
        p.Compare("mask", mask);
    }

    private static void Lrn(Pair p, int size)
    {
        int[] shape = [2, 7, 4, 5];
        const float alpha = 0.5f, beta = 0.75f, k = 2f;
        var input = p.Normal(shape);
        var gradOutput = p.Normal(shape);
        var output = p.Output(shape);
        var gradInput = p.Output(shape);
        p.CandidateBackend.LocalResponseNormForward(input.Candidate, output.Candidate, size, alpha, beta, k);
        p.ReferenceBackend.LocalResponseNormForward(input.Reference, output.Reference, size, alpha, beta, k);
        p.CandidateBackend.LocalResponseNormBackward(input.Candidate, output.Candidate, gradOutput.Candidate,
            gradInput.Candidate, size, alpha, beta, k);
        p.ReferenceBackend.LocalResponseNormBackward(input.Reference, output.Reference, gradOutput.Reference,
            gradInput.Reference, size, alpha, beta, k);
        p.Compare("output", output);
        p.Compare("dInput", gradInput);
    }

    private static void SoftmaxCrossEntropy(Pair p)
    {
        const int n = 5, classes = 10;
        const float smoothing = 0.1f;
        var logits = p.Normal([n, classes], 3.0);
        var labels = p.Integers([n], classes);
        var gradLoss = p.Upload([1.7f], 1);
        var loss = p.Output(1);
        var probabilities = p.Output(n, classes);
        var gradLogits = p.Output(n, classes);
        p.CandidateBackend.SoftmaxCrossEntropyForward(logits.Candidate, labels.Candidate, loss.Candidate,
            probabilities.Candidate, smoothing);
        p.ReferenceBackend.SoftmaxCrossEntropyForward(logits.Reference, labels.Reference, loss.Reference,
            probabilities.Reference, smoothing);
        p.CandidateBackend.SoftmaxCrossEntropyBackward(probabilities.Candidate, labels.Candidate, gradLoss.Candidate,
            gradLogits.Candidate, smoothing);
        p.ReferenceBackend.SoftmaxCrossEntropyBackward(probabilities.Reference, labels.Reference, gradLoss.Reference,
            gradLogits.Reference, smoothing);
        p.Compare("loss", loss);
        p.Compare("probabilities", probabilities);
        p.Compare("dLogits", gradLogits);
    }

    private static void Sgd(Pair p, float momentum, float dampening, bool nesterov)
    {
        int[] shape = [7, 33];
        var parameter = p.Normal(shape);
        var grad = p.Normal(shape);
        Twin? buffer = momentum != 0 ? p.Normal(shape) : null;
        p.CandidateBackend.SgdStep(parameter.Candidate, grad.Candidate, buffer?.Candidate, 0.05f, momentum,
            dampening, 1e-2f, nesterov, firstStep: false);
        p.ReferenceBackend.SgdStep(parameter.Reference, grad.Reference, buffer?.Reference, 0.05f, momentum,
            dampening, 1e-2f, nesterov, firstStep: false);
        p.Compare("parameter", parameter);
        if (buffer is { } momentumBuffer)
            p.Compare("momentumBuffer", momentumBuffer);
    }

    private static void Adam(Pair p, bool decoupled)
    {
        int[] shape = [5, 41];
        var parameter = p.Normal(shape);
        var grad = p.Normal(shape);
        var firstMoment = p.Normal(shape, 0.1);
        var secondMoment = p.Uniform(shape, 0.0, 0.1);
        p.CandidateBackend.AdamStep(parameter.Candidate, grad.Candidate, firstMoment.Candidate,
            secondMoment.Candidate, 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f, decoupled, step: 3);
        p.ReferenceBackend.AdamStep(parameter.Reference, grad.Reference, firstMoment.Reference,
            secondMoment.Reference, 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f, decoupled, step: 3);
        p.Compare("parameter", parameter);
        p.Compare("firstMoment", firstMoment);
        p.Compare("secondMoment", secondMoment);
    }
}
