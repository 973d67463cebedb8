using FashionCuda.Tensors;

namespace FashionCuda.Backends.Reference;

/// <summary>Normalization, regularization, loss and optimizer ops of <see cref="ReferenceBackend"/>.</summary>
public sealed partial class ReferenceBackend
{
    public void BatchNorm2dForwardTraining(Tensor input, Tensor weight, Tensor bias, Tensor output, Tensor saveMean,
        Tensor saveInvStd, Tensor runningMean, Tensor runningVar, float momentum, float epsilon)
    {
        const string op = nameof(BatchNorm2dForwardTraining);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(weight), weight, c);
        RequireShape(op, nameof(bias), bias, c);
        RequireShape(op, nameof(output), output, n, c, h, w);
        RequireShape(op, nameof(saveMean), saveMean, c);
        RequireShape(op, nameof(saveInvStd), saveInvStd, c);
        RequireShape(op, nameof(runningMean), runningMean, c);
        RequireShape(op, nameof(runningVar), runningVar, c);
        var result = new double[output.Length];
        var mean = new double[c];
        var invStd = new double[c];
        var newRunningMean = Read(runningMean, op);
        var newRunningVar = Read(runningVar, op);
        BatchNormReference.ForwardTraining(Read(input, op), Read(weight, op), Read(bias, op), result, mean, invStd,
            newRunningMean, newRunningVar, momentum, epsilon, n, c, h, w);
        Write(result, output);
        Write(mean, saveMean);
        Write(invStd, saveInvStd);
        Write(newRunningMean, runningMean);
        Write(newRunningVar, runningVar);
    }

    public void BatchNorm2dForwardInference(Tensor input, Tensor weight, Tensor bias, Tensor runningMean,
        Tensor runningVar, Tensor output, float epsilon)
    {
        const string op = nameof(BatchNorm2dForwardInference);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(weight), weight, c);
        RequireShape(op, nameof(bias), bias, c);
        RequireShape(op, nameof(runningMean), runningMean, c);
        RequireShape(op, nameof(runningVar), runningVar, c);
        RequireShape(op, nameof(output), output, n, c, h, w);
        var result = new double[output.Length];
        BatchNormReference.ForwardInference(Read(input, op), Read(weight, op), Read(bias, op), Read(runningMean, op),
            Read(runningVar, op), result, epsilon, n, c, h, w);
        Write(result, output);
    }

    public void BatchNorm2dBackward(Tensor input, Tensor weight, Tensor saveMean, Tensor saveInvStd,
        Tensor gradOutput, Tensor gradInput, Tensor gradWeight, Tensor gradBias)
    {
        const string op = nameof(BatchNorm2dBackward);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(weight), weight, c);
        RequireShape(op, nameof(saveMean), saveMean, c);
        RequireShape(op, nameof(saveInvStd), saveInvStd, c);
        RequireShape(op, nameof(gradOutput), gradOutput, n, c, h, w);
        RequireShape(op, nameof(gradInput), gradInput, n, c, h, w);
        RequireShape(op, nameof(gradWeight), gradWeight, c);
        RequireShape(op, nameof(gradBias), gradBias, c);
        var resultInput = new double[gradInput.Length];
        var resultWeight = new double[c];
        var resultBias = new double[c];
        BatchNormReference.Backward(Read(input, op), Read(weight, op), Read(saveMean, op), Read(saveInvStd, op),
            Read(gradOutput, op), resultInput, resultWeight, resultBias, n, c, h, w);
        Write(resultInput, gradInput);
        Write(resultWeight, gradWeight);
        Write(resultBias, gradBias);
    }

    public void DropoutForward(Tensor input, Tensor output, Tensor mask, float probability, ulong seed)
    {
        const string op = nameof(DropoutForward);
        RequireSameShape(op, nameof(output), output, nameof(input), input);
        RequireSameShape(op, nameof(mask), mask, nameof(input), input);
        var result = new double[output.Length];
        var maskValues = new double[mask.Length];
        DropoutReference.Forward(Read(input, op), result, maskValues, probability, seed);
        Write(result, output);
        Write(maskValues, mask);
    }

    public void LocalResponseNormForward(Tensor input, Tensor output, int size, float alpha, float beta, float k)
    {
        const string op = nameof(LocalResponseNormForward);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(output), output, n, c, h, w);
        var result = new double[output.Length];
        LocalResponseNormReference.Forward(Read(input, op), result, size, alpha, beta, k, n, c, h, w);
        Write(result, output);
    }

    public void LocalResponseNormBackward(Tensor input, Tensor output, Tensor gradOutput, Tensor gradInput, int size,
        float alpha, float beta, float k)
    {
        const string op = nameof(LocalResponseNormBackward);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(output), output, n, c, h, w);
        RequireShape(op, nameof(gradOutput), gradOutput, n, c, h, w);
        RequireShape(op, nameof(gradInput), gradInput, n, c, h, w);
        var result = new double[gradInput.Length];
        LocalResponseNormReference.Backward(Read(input, op), Read(output, op), Read(gradOutput, op), result, size,
            alpha, beta, k, n, c, h, w);
        Write(result, gradInput);
    }

    public void SoftmaxCrossEntropyForward(Tensor logits, Tensor labels, Tensor loss, Tensor probabilities,
        float labelSmoothing)
    {
        const string op = nameof(SoftmaxCrossEntropyForward);
        var (batch, classes) = LossSizes(op, logits, nameof(logits), labels);
        RequireLength(op, nameof(loss), loss, 1);
        RequireShape(op, nameof(probabilities), probabilities, batch, classes);
        var lossValue = new double[1];
        var result = new double[probabilities.Length];
        SoftmaxCrossEntropyReference.Forward(Read(logits, op), Read(labels, op), lossValue, result, labelSmoothing,
            batch, classes);
        Write(lossValue, loss);
        Write(result, probabilities);
    }

    public void SoftmaxCrossEntropyBackward(Tensor probabilities, Tensor labels, Tensor gradLoss, Tensor gradLogits,
        float labelSmoothing)
    {
        const string op = nameof(SoftmaxCrossEntropyBackward);
        var (batch, classes) = LossSizes(op, probabilities, nameof(probabilities), labels);
        RequireLength(op, nameof(gradLoss), gradLoss, 1);
        RequireShape(op, nameof(gradLogits), gradLogits, batch, classes);
        var result = new double[gradLogits.Length];
        SoftmaxCrossEntropyReference.Backward(Read(probabilities, op), Read(labels, op), Read(gradLoss, op), result,
            labelSmoothing, batch, classes);
        Write(result, gradLogits);
    }

    public void SgdStep(Tensor parameter, Tensor grad, Tensor? momentumBuffer, float learningRate, float momentum,
        float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        const string op = nameof(SgdStep);
        RequireSameShape(op, nameof(grad), grad, nameof(parameter), parameter);
        if (momentumBuffer is not null)
            RequireSameShape(op, nameof(momentumBuffer), momentumBuffer, nameof(parameter), parameter);
        var values = Read(parameter, op);
        var buffer = ReadIfPresent(momentumBuffer, op);
        OptimizerReference.SgdStep(values, Read(grad, op), buffer, learningRate, momentum, dampening, weightDecay,
            nesterov, firstStep);
        Write(values, parameter);
        if (momentum != 0)
            WriteIfPresent(buffer, momentumBuffer);
    }

    public void AdamStep(Tensor parameter, Tensor grad, Tensor firstMoment, Tensor secondMoment, float learningRate,
        float beta1, float beta2, float epsilon, float weightDecay, bool decoupledWeightDecay, int step)
    {
        const string op = nameof(AdamStep);
        RequireSameShape(op, nameof(grad), grad, nameof(parameter), parameter);
        RequireSameShape(op, nameof(firstMoment), firstMoment, nameof(parameter), parameter);
        RequireSameShape(op, nameof(secondMoment), secondMoment, nameof(parameter), parameter);
        var values = Read(parameter, op);
        var first = Read(firstMoment, op);
        var second = Read(secondMoment, op);
        OptimizerReference.AdamStep(values, Read(grad, op), first, second, learningRate, beta1, beta2, epsilon,
            weightDecay, decoupledWeightDecay, step);
        Write(values, parameter);
        Write(first, firstMoment);
        Write(second, secondMoment);
    }
}
