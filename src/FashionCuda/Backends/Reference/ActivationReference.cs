namespace FashionCuda.Backends.Reference;

/// <summary>
/// Elementwise reference kernels: ReLU, sigmoid and addition. Arrays have any length, but the arrays of one call
/// must have the same length.
/// </summary>
public static class ActivationReference
{
    /// <summary>Computes output = max(input, 0).</summary>
    public static void ReluForward(double[] input, double[] output)
    {
        ShapeChecks.RequireSameLength("ReluForward", nameof(output), output, nameof(input), input);
        for (int i = 0; i < input.Length; i++)
            output[i] = input[i] > 0 ? input[i] : 0;
    }

    /// <summary>Computes gradInput = gradOutput where output &gt; 0, else 0 (so the gradient at 0 is 0).</summary>
    public static void ReluBackward(double[] output, double[] gradOutput, double[] gradInput)
    {
        ShapeChecks.RequireSameLength("ReluBackward", nameof(gradOutput), gradOutput, nameof(output), output);
        ShapeChecks.RequireSameLength("ReluBackward", nameof(gradInput), gradInput, nameof(output), output);
        for (int i = 0; i < output.Length; i++)
            gradInput[i] = output[i] > 0 ? gradOutput[i] : 0;
    }

    /// <summary>Computes output = 1 / (1 + exp(−input)).</summary>
    public static void SigmoidForward(double[] input, double[] output)
    {
        ShapeChecks.RequireSameLength("SigmoidForward", nameof(output), output, nameof(input), input);
        // In double, exp(−x) overflows to +∞ only for x < −709, and 1/∞ = 0 is then the correct limit.
        for (int i = 0; i < input.Length; i++)
            output[i] = 1.0 / (1.0 + Math.Exp(-input[i]));
    }

    /// <summary>Computes gradInput = gradOutput · y · (1 − y) with y the forward output.</summary>
    public static void SigmoidBackward(double[] output, double[] gradOutput, double[] gradInput)
    {
        ShapeChecks.RequireSameLength("SigmoidBackward", nameof(gradOutput), gradOutput, nameof(output), output);
        ShapeChecks.RequireSameLength("SigmoidBackward", nameof(gradInput), gradInput, nameof(output), output);
        for (int i = 0; i < output.Length; i++)
            gradInput[i] = gradOutput[i] * output[i] * (1 - output[i]);
    }

    /// <summary>Computes output = a + b. <paramref name="output"/> may be the same array as a or b.</summary>
    public static void AddForward(double[] a, double[] b, double[] output)
    {
        ShapeChecks.RequireSameLength("AddForward", nameof(b), b, nameof(a), a);
        ShapeChecks.RequireSameLength("AddForward", nameof(output), output, nameof(a), a);
        for (int i = 0; i < a.Length; i++)
            output[i] = a[i] + b[i];
    }

    /// <summary>Copies gradOutput to each gradient that is not null, because ∂(a + b)/∂a = ∂(a + b)/∂b = 1.</summary>
    public static void AddBackward(double[] gradOutput, double[]? gradA, double[]? gradB)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (gradA is not null)
        {
            ShapeChecks.RequireSameLength("AddBackward", nameof(gradA), gradA, nameof(gradOutput), gradOutput);
            Array.Copy(gradOutput, gradA, gradOutput.Length);
        }
        if (gradB is not null)
        {
            ShapeChecks.RequireSameLength("AddBackward", nameof(gradB), gradB, nameof(gradOutput), gradOutput);
            Array.Copy(gradOutput, gradB, gradOutput.Length);
        }
    }
}
