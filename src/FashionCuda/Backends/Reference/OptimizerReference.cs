namespace FashionCuda.Backends.Reference;

/// <summary>
/// One in-place update of a flat parameter array by SGD or Adam/AdamW, with torch.optim's formulas. The parameter,
/// its gradient and each optimizer state array have the same length.
/// </summary>
public static class OptimizerReference
{
    /// <summary>
    /// Computes g = grad + weightDecay·param, then buf = g on the first step and buf = momentum·buf +
    /// (1 − dampening)·g afterwards, direction = nesterov ? g + momentum·buf : buf, and param −= lr·direction.
    /// With momentum 0 the direction is g and <paramref name="momentumBuffer"/> is not used (it may be null).
    /// </summary>
    public static void SgdStep(double[] parameter, double[] grad, double[]? momentumBuffer, double learningRate,
        double momentum, double dampening, double weightDecay, bool nesterov, bool firstStep)
    {
        const string op = "SgdStep";
        ShapeChecks.RequireSameLength(op, nameof(grad), grad, nameof(parameter), parameter);
        if (momentum != 0)
        {
            if (momentumBuffer is null)
                throw new ArgumentException($"{op}: momentum is {momentum} but the momentum buffer is null.",
                    nameof(momentumBuffer));
            ShapeChecks.RequireSameLength(op, nameof(momentumBuffer), momentumBuffer, nameof(parameter), parameter);
        }
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException(
                $"{op}: Nesterov momentum needs momentum > 0 and dampening 0, got {momentum} and {dampening}.",
                nameof(nesterov));

        for (int i = 0; i < parameter.Length; i++)
        {
            double g = grad[i] + weightDecay * parameter[i];
            double direction = g;
            if (momentum != 0)
            {
                var buffer = momentumBuffer!;
                buffer[i] = firstStep ? g : momentum * buffer[i] + (1 - dampening) * g;
                direction = nesterov ? g + momentum * buffer[i] : buffer[i];
            }
            parameter[i] -= learningRate * direction;
        }
    }

    /// <summary>
    /// Computes one Adam step (step counts from 1): m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², and
    /// param −= lr / (1 − β1^step) · m / (sqrt(v) / sqrt(1 − β2^step) + epsilon). With
    /// <paramref name="decoupledWeightDecay"/> (AdamW) param −= lr·weightDecay·param first, and without it
    /// g = grad + weightDecay·param.
    /// </summary>
    public static void AdamStep(double[] parameter, double[] grad, double[] firstMoment, double[] secondMoment,
        double learningRate, double beta1, double beta2, double epsilon, double weightDecay,
        bool decoupledWeightDecay, int step)
    {
        const string op = "AdamStep";
        ShapeChecks.RequireSameLength(op, nameof(grad), grad, nameof(parameter), parameter);
        ShapeChecks.RequireSameLength(op, nameof(firstMoment), firstMoment, nameof(parameter), parameter);
        ShapeChecks.RequireSameLength(op, nameof(secondMoment), secondMoment, nameof(parameter), parameter);
        if (step < 1)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"{op}: the step counts from 1.");

        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        for (int i = 0; i < parameter.Length; i++)
        {
            double g = grad[i];
            if (decoupledWeightDecay)
                parameter[i] -= learningRate * weightDecay * parameter[i];
            else
                g += weightDecay * parameter[i];
            firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g;
            secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g * g;
            double denominator = Math.Sqrt(secondMoment[i]) / Math.Sqrt(biasCorrection2) + epsilon;
            parameter[i] -= learningRate / biasCorrection1 * firstMoment[i] / denominator;
        }
    }
}
