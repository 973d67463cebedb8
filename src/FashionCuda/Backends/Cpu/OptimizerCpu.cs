using System.Runtime.Intrinsics;
using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cpu;

// In-place optimizer updates; every array is read and written once per step, split across the workers.
public sealed partial class CpuBackend
{
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
        float[] w = Array(parameter), g = Array(grad);
        float[]? buffer = momentum != 0f ? Array(momentumBuffer!) : null;
        ForRanges((int)parameter.Length, (start, count) =>
        {
            int end = start + count;
            for (int i = start; i < end; i++)
            {
                float d = g[i] + weightDecay * w[i];
                if (buffer is not null)
                {
                    float b = firstStep ? d : momentum * buffer[i] + (1f - dampening) * d;
                    buffer[i] = b;
                    d = nesterov ? d + momentum * b : b;
                }
                w[i] -= learningRate * d;
            }
        });
    }

    public void AdamStep(Tensor parameter, Tensor grad, Tensor firstMoment, Tensor secondMoment, float learningRate,
        float beta1, float beta2, float epsilon, float weightDecay, bool decoupledWeightDecay, int step)
    {
        RequireSameLength(parameter, grad);
        RequireSameLength(parameter, firstMoment);
        RequireSameLength(parameter, secondMoment);
        if (step < 1)
            throw new ArgumentOutOfRangeException(nameof(step), step, "Adam steps count from 1.");
        float[] w = Array(parameter), g = Array(grad), m = Array(firstMoment), v = Array(secondMoment);
        float stepSize = (float)(learningRate / (1.0 - Math.Pow(beta1, step)));
        float inverseCorrection2 = (float)(1.0 / Math.Sqrt(1.0 - Math.Pow(beta2, step)));
        float coupledDecay = decoupledWeightDecay ? 0f : weightDecay;
        float shrink = decoupledWeightDecay ? 1f - learningRate * weightDecay : 1f;
        ForRanges((int)parameter.Length, (start, count) =>
            AdamRange(w, g, m, v, start, count, stepSize, inverseCorrection2, beta1, beta2, epsilon, coupledDecay,
                shrink));
    }

    private static void AdamRange(float[] w, float[] g, float[] m, float[] v, int start, int count, float stepSize,
        float inverseCorrection2, float beta1, float beta2, float epsilon, float coupledDecay, float shrink)
    {
        int i = start, end = start + count;
        var vb1 = Vector512.Create(beta1);
        var vb2 = Vector512.Create(beta2);
        var v1b1 = Vector512.Create(1f - beta1);
        var v1b2 = Vector512.Create(1f - beta2);
        for (; i <= end - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            var param = Vector512.Create(w.AsSpan(i));
            var gradient = Vector512.Create(g.AsSpan(i)) + coupledDecay * param;
            var first = vb1 * Vector512.Create(m.AsSpan(i)) + v1b1 * gradient;
            var second = vb2 * Vector512.Create(v.AsSpan(i)) + v1b2 * gradient * gradient;
            var denominator = Vector512.Sqrt(second) * inverseCorrection2 + Vector512.Create(epsilon);
            param = param * shrink - stepSize * first / denominator;
            first.CopyTo(m.AsSpan(i));
            second.CopyTo(v.AsSpan(i));
            param.CopyTo(w.AsSpan(i));
        }
        for (; i < end; i++)
        {
            float gradient = g[i] + coupledDecay * w[i];
            m[i] = beta1 * m[i] + (1f - beta1) * gradient;
            v[i] = beta2 * v[i] + (1f - beta2) * gradient * gradient;
            float denominator = MathF.Sqrt(v[i]) * inverseCorrection2 + epsilon;
            w[i] = w[i] * shrink - stepSize * m[i] / denominator;
        }
    }
}
