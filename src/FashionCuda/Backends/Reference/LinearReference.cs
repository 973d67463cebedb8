namespace FashionCuda.Backends.Reference;

/// <summary>
/// Fully connected layer as PyTorch's Linear: input (N, in), weight (out, in), bias (out), output (N, out),
/// row-major, with output = input · weightᵀ + bias.
/// </summary>
public static class LinearReference
{
    /// <summary>Computes output[n, o] = bias[o] + Σ_i input[n, i] · weight[o, i].</summary>
    public static void Forward(double[] input, double[] weight, double[]? bias, double[] output, int batch,
        int inFeatures, int outFeatures)
    {
        Validate("LinearForward", input, weight, output, nameof(output), batch, inFeatures, outFeatures);
        if (bias is not null)
            ShapeChecks.RequireLength("LinearForward", nameof(bias), bias, outFeatures);
        for (int n = 0; n < batch; n++)
        for (int o = 0; o < outFeatures; o++)
        {
            double sum = bias is null ? 0 : bias[o];
            for (int i = 0; i < inFeatures; i++)
                sum += input[n * inFeatures + i] * weight[o * inFeatures + i];
            output[n * outFeatures + o] = sum;
        }
    }

    /// <summary>
    /// Computes gradInput = gradOutput · weight (N, in), gradWeight = gradOutputᵀ · input (out, in) and
    /// gradBias = Σ_n gradOutput (out) from gradOutput (N, out). A null gradient is skipped.
    /// </summary>
    public static void Backward(double[] input, double[] weight, double[] gradOutput, double[]? gradInput,
        double[]? gradWeight, double[]? gradBias, int batch, int inFeatures, int outFeatures)
    {
        const string op = "LinearBackward";
        Validate(op, input, weight, gradOutput, nameof(gradOutput), batch, inFeatures, outFeatures);
        if (gradInput is not null)
        {
            ShapeChecks.RequireLength(op, nameof(gradInput), gradInput, batch, inFeatures);
            for (int n = 0; n < batch; n++)
            for (int i = 0; i < inFeatures; i++)
            {
                double sum = 0;
                for (int o = 0; o < outFeatures; o++)
                    sum += gradOutput[n * outFeatures + o] * weight[o * inFeatures + i];
                gradInput[n * inFeatures + i] = sum;
            }
        }
        if (gradWeight is not null)
        {
            ShapeChecks.RequireLength(op, nameof(gradWeight), gradWeight, outFeatures, inFeatures);
            for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++)
            {
                double sum = 0;
                for (int n = 0; n < batch; n++)
                    sum += gradOutput[n * outFeatures + o] * input[n * inFeatures + i];
                gradWeight[o * inFeatures + i] = sum;
            }
        }
        if (gradBias is not null)
        {
            ShapeChecks.RequireLength(op, nameof(gradBias), gradBias, outFeatures);
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = 0;
                for (int n = 0; n < batch; n++)
                    sum += gradOutput[n * outFeatures + o];
                gradBias[o] = sum;
            }
        }
    }

    private static void Validate(string op, double[] input, double[] weight, double[] output, string outputName,
        int batch, int inFeatures, int outFeatures)
    {
        ShapeChecks.RequirePositive(op, batch, inFeatures, outFeatures);
        ShapeChecks.RequireLength(op, nameof(input), input, batch, inFeatures);
        ShapeChecks.RequireLength(op, nameof(weight), weight, outFeatures, inFeatures);
        ShapeChecks.RequireLength(op, outputName, output, batch, outFeatures);
    }
}
