namespace FashionCuda.Backends.Reference;

/// <summary>
/// Mean softmax cross-entropy with label smoothing, as PyTorch's CrossEntropyLoss(label_smoothing=ε): logits
/// (N, classes) row-major, labels (N) holding class indices, loss (1), probabilities (N, classes). The target
/// row is (1 − ε) at the label plus ε/classes at every class.
/// </summary>
public static class SoftmaxCrossEntropyReference
{
    /// <summary>
    /// Computes probabilities = softmax(logits) per row and loss = −(1/N)·Σ_n Σ_j target[n, j]·log p[n, j], with
    /// log p = z − max(z) − log Σ exp(z − max(z)) so that no exponent overflows.
    /// </summary>
    public static void Forward(double[] logits, double[] labels, double[] loss, double[] probabilities,
        double labelSmoothing, int batch, int classes)
    {
        const string op = "SoftmaxCrossEntropyForward";
        Validate(op, logits, nameof(logits), labels, labelSmoothing, batch, classes);
        ShapeChecks.RequireLength(op, nameof(loss), loss, 1);
        ShapeChecks.RequireLength(op, nameof(probabilities), probabilities, batch, classes);

        double total = 0;
        for (int n = 0; n < batch; n++)
        {
            int row = n * classes;
            double max = double.NegativeInfinity;
            for (int j = 0; j < classes; j++)
                max = Math.Max(max, logits[row + j]);
            double sumExp = 0;
            for (int j = 0; j < classes; j++)
                sumExp += Math.Exp(logits[row + j] - max);
            double logSumExp = max + Math.Log(sumExp);

            int label = Label(op, labels, n, classes);
            for (int j = 0; j < classes; j++)
            {
                double logProbability = logits[row + j] - logSumExp;
                probabilities[row + j] = Math.Exp(logProbability);
                total -= Target(j, label, labelSmoothing, classes) * logProbability;
            }
        }
        loss[0] = total / batch;
    }

    /// <summary>Computes gradLogits = gradLoss[0] · (probabilities − target) / N.</summary>
    public static void Backward(double[] probabilities, double[] labels, double[] gradLoss, double[] gradLogits,
        double labelSmoothing, int batch, int classes)
    {
        const string op = "SoftmaxCrossEntropyBackward";
        Validate(op, probabilities, nameof(probabilities), labels, labelSmoothing, batch, classes);
        ShapeChecks.RequireLength(op, nameof(gradLoss), gradLoss, 1);
        ShapeChecks.RequireLength(op, nameof(gradLogits), gradLogits, batch, classes);
        for (int n = 0; n < batch; n++)
        {
            int label = Label(op, labels, n, classes);
            for (int j = 0; j < classes; j++)
            {
                int index = n * classes + j;
                double target = Target(j, label, labelSmoothing, classes);
                gradLogits[index] = gradLoss[0] * (probabilities[index] - target) / batch;
            }
        }
    }

    private static double Target(int j, int label, double labelSmoothing, int classes) =>
        (j == label ? 1 - labelSmoothing : 0) + labelSmoothing / classes;

    /// <summary>Reads label n, which must be an integer class index stored as a number.</summary>
    private static int Label(string op, double[] labels, int n, int classes)
    {
        double value = labels[n];
        if (!(value >= 0 && value < classes && value == Math.Floor(value)))
            throw new ArgumentException(
                $"{op}: labels[{n}] = {value} is not a class index; labels must be integers in [0, {classes}).",
                nameof(labels));
        return (int)value;
    }

    private static void Validate(string op, double[] rows, string rowsName, double[] labels, double labelSmoothing,
        int batch, int classes)
    {
        ShapeChecks.RequirePositive(op, batch, classes);
        ShapeChecks.RequireLength(op, rowsName, rows, batch, classes);
        ShapeChecks.RequireLength(op, nameof(labels), labels, batch);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing,
                $"{op}: label smoothing must be between 0 and 1.");
    }
}
