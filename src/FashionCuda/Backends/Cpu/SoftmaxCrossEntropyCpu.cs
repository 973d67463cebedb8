using System.Numerics.Tensors;
using Tensor = FashionCuda.Tensors.Tensor;

namespace FashionCuda.Backends.Cpu;

// Softmax cross-entropy over logits (N, classes) with labels (N) stored as float32 class indices.
public sealed partial class CpuBackend
{
    public void SoftmaxCrossEntropyForward(Tensor logits, Tensor labels, Tensor loss, Tensor probabilities,
        float labelSmoothing)
    {
        var (n, classes) = LossSizes(logits, labels);
        RequireLength(loss, 1, "loss");
        RequireSameLength(logits, probabilities);
        float[] z = Array(logits), y = Array(labels), prob = Array(probabilities);
        double total = 0;
        double smoothShare = labelSmoothing / (double)classes;
        for (int row = 0; row < n; row++)
        {
            int label = Label(y, row, classes);
            var scores = z.AsSpan(row * classes, classes);
            var p = prob.AsSpan(row * classes, classes);
            // Subtracting the row maximum keeps exp in range; log Σ exp(z) = max + log Σ exp(z − max).
            float max = TensorPrimitives.Max(scores);
            TensorPrimitives.Subtract(scores, max, p);
            TensorPrimitives.Exp(p, p);
            double sum = TensorPrimitives.Sum(p);
            TensorPrimitives.Multiply(p, (float)(1.0 / sum), p);
            double logSumExp = max + Math.Log(sum);
            // −Σ target·log softmax with target = (1 − ε)·onehot + ε/classes.
            total += logSumExp - (1.0 - labelSmoothing) * scores[label] - smoothShare * TensorPrimitives.Sum(scores);
        }
        Data(loss)[0] = (float)(total / n);
    }

    public void SoftmaxCrossEntropyBackward(Tensor probabilities, Tensor labels, Tensor gradLoss, Tensor gradLogits,
        float labelSmoothing)
    {
        var (n, classes) = LossSizes(probabilities, labels);
        RequireLength(gradLoss, 1, "loss gradient");
        RequireSameLength(probabilities, gradLogits);
        float[] prob = Array(probabilities), y = Array(labels), dz = Array(gradLogits);
        float scale = Data(gradLoss)[0] / n;
        float smoothShare = labelSmoothing / classes;
        for (int row = 0; row < n; row++)
        {
            int label = Label(y, row, classes);
            var grad = dz.AsSpan(row * classes, classes);
            TensorPrimitives.Subtract(prob.AsSpan(row * classes, classes), smoothShare, grad);
            grad[label] -= 1f - labelSmoothing;
            TensorPrimitives.Multiply(grad, scale, grad);
        }
    }

    private static (int N, int Classes) LossSizes(Tensor logits, Tensor labels)
    {
        if (logits.Rank != 2)
            throw new ArgumentException($"Logits must be (N, classes), but they are {logits}.");
        int n = logits.Dimensions[0], classes = logits.Dimensions[1];
        RequireLength(labels, n, "labels");
        return (n, classes);
    }

    private static int Label(float[] labels, int row, int classes)
    {
        float value = labels[row];
        int label = (int)value;
        if (label != value || label < 0 || label >= classes)
            throw new ArgumentException(
                $"Label {value} of row {row} is not a class index in [0, {classes}); labels must be whole numbers.");
        return label;
    }
}
