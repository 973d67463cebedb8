namespace FashionCuda.Backends.Reference;

/// <summary>
/// 2-D convolution as PyTorch's Conv2d computes it (cross-correlation, zero padding). Input (N, C, H, W),
/// weight (K, C, R, S), bias (K), output (N, K, P, Q), all NCHW row-major. <see cref="Conv2dGeometry"/> gives
/// P and Q.
/// </summary>
public static class Conv2dReference
{
    /// <summary>
    /// Computes output[n, k, p, q] = bias[k] + Σ_{c, r, s} input[n, c, p·StrideH − PadH + r, q·StrideW − PadW + s]
    /// · weight[k, c, r, s], where input positions outside the image read as 0.
    /// </summary>
    public static void Forward(double[] input, double[] weight, double[]? bias, double[] output,
        Conv2dGeometry geometry)
    {
        Validate("Conv2dForward", input, weight, output, nameof(output), geometry);
        if (bias is not null)
            ShapeChecks.RequireLength("Conv2dForward", nameof(bias), bias, geometry.K);
        var g = geometry;
        for (int n = 0; n < g.N; n++)
        for (int k = 0; k < g.K; k++)
        for (int p = 0; p < g.P; p++)
        for (int q = 0; q < g.Q; q++)
        {
            double sum = bias is null ? 0 : bias[k];
            for (int c = 0; c < g.C; c++)
            for (int r = 0; r < g.R; r++)
            for (int s = 0; s < g.S; s++)
            {
                int h = p * g.StrideH - g.PadH + r;
                int w = q * g.StrideW - g.PadW + s;
                if (h < 0 || h >= g.H || w < 0 || w >= g.W)
                    continue;
                sum += input[InputIndex(g, n, c, h, w)] * weight[WeightIndex(g, k, c, r, s)];
            }
            output[OutputIndex(g, n, k, p, q)] = sum;
        }
    }

    /// <summary>
    /// Computes the gradients of <see cref="Forward"/> from gradOutput (N, K, P, Q). Every product input·weight in
    /// the forward sum sends gradOutput·weight to its input element and gradOutput·input to its weight element.
    /// gradBias[k] sums gradOutput over (N, P, Q). A null gradient is skipped.
    /// </summary>
    public static void Backward(double[] input, double[] weight, double[] gradOutput, double[]? gradInput,
        double[]? gradWeight, double[]? gradBias, Conv2dGeometry geometry)
    {
        Validate("Conv2dBackward", input, weight, gradOutput, nameof(gradOutput), geometry);
        var g = geometry;
        if (gradBias is not null)
            ShapeChecks.RequireLength("Conv2dBackward", nameof(gradBias), gradBias, g.K);
        if (gradInput is not null)
            ShapeChecks.RequireLength("Conv2dBackward", nameof(gradInput), gradInput, g.InputShape);
        if (gradWeight is not null)
            ShapeChecks.RequireLength("Conv2dBackward", nameof(gradWeight), gradWeight, g.WeightShape);
        if (gradInput is not null)
            Array.Clear(gradInput);
        if (gradWeight is not null)
            Array.Clear(gradWeight);
        if (gradBias is not null)
            Array.Clear(gradBias);

        for (int n = 0; n < g.N; n++)
        for (int k = 0; k < g.K; k++)
        for (int p = 0; p < g.P; p++)
        for (int q = 0; q < g.Q; q++)
        {
            double dOut = gradOutput[OutputIndex(g, n, k, p, q)];
            if (gradBias is not null)
                gradBias[k] += dOut;
            for (int c = 0; c < g.C; c++)
            for (int r = 0; r < g.R; r++)
            for (int s = 0; s < g.S; s++)
            {
                int h = p * g.StrideH - g.PadH + r;
                int w = q * g.StrideW - g.PadW + s;
                if (h < 0 || h >= g.H || w < 0 || w >= g.W)
                    continue;
                int inputIndex = InputIndex(g, n, c, h, w);
                int weightIndex = WeightIndex(g, k, c, r, s);
                if (gradInput is not null)
                    gradInput[inputIndex] += dOut * weight[weightIndex];
                if (gradWeight is not null)
                    gradWeight[weightIndex] += dOut * input[inputIndex];
            }
        }
    }

    private static void Validate(string op, double[] input, double[] weight, double[] output, string outputName,
        Conv2dGeometry geometry)
    {
        geometry.Validate();
        ShapeChecks.RequireLength(op, nameof(input), input, geometry.InputShape);
        ShapeChecks.RequireLength(op, nameof(weight), weight, geometry.WeightShape);
        ShapeChecks.RequireLength(op, outputName, output, geometry.OutputShape);
    }

    private static int InputIndex(Conv2dGeometry g, int n, int c, int h, int w) => ((n * g.C + c) * g.H + h) * g.W + w;

    private static int WeightIndex(Conv2dGeometry g, int k, int c, int r, int s) => ((k * g.C + c) * g.R + r) * g.S + s;

    private static int OutputIndex(Conv2dGeometry g, int n, int k, int p, int q) => ((n * g.K + k) * g.P + p) * g.Q + q;
}
