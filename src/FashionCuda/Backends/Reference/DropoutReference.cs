using FashionCuda.Tensors;

namespace FashionCuda.Backends.Reference;

/// <summary>Inverted dropout over flat arrays of any shape. Input, output and mask have the same length.</summary>
public static class DropoutReference
{
    /// <summary>
    /// Draws mask[i] = 0 when <see cref="CounterRandom.Uniform(ulong, ulong)"/>(seed, i) &lt; probability and
    /// 1 / (1 − probability) otherwise, then computes output = input · mask. The kept elements are scaled up so
    /// that the expected output equals the input.
    /// </summary>
    public static void Forward(double[] input, double[] output, double[] mask, double probability, ulong seed)
    {
        ShapeChecks.RequireSameLength("DropoutForward", nameof(output), output, nameof(input), input);
        ShapeChecks.RequireSameLength("DropoutForward", nameof(mask), mask, nameof(input), input);
        if (!(probability >= 0 && probability <= 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability,
                "The dropout probability must be between 0 and 1.");
        for (int i = 0; i < input.Length; i++)
        {
            // With probability 1 every draw (< 1) drops, so the infinite scale 1 / 0 is never used.
            bool dropped = CounterRandom.Uniform(seed, (ulong)i) < probability;
            mask[i] = dropped ? 0 : 1 / (1 - probability);
            output[i] = input[i] * mask[i];
        }
    }

    /// <summary>Computes gradInput = gradOutput · mask with the mask of the forward pass.</summary>
    public static void Backward(double[] mask, double[] gradOutput, double[] gradInput)
    {
        ShapeChecks.RequireSameLength("DropoutBackward", nameof(gradOutput), gradOutput, nameof(mask), mask);
        ShapeChecks.RequireSameLength("DropoutBackward", nameof(gradInput), gradInput, nameof(mask), mask);
        for (int i = 0; i < mask.Length; i++)
            gradInput[i] = gradOutput[i] * mask[i];
    }
}
