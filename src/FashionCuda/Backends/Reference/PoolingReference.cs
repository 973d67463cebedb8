namespace FashionCuda.Backends.Reference;

/// <summary>
/// Max and average pooling over (N, C, H, W) NCHW inputs: windowed pooling to (N, C, P, Q) with the sizes of
/// <see cref="Pool2dGeometry"/>, and global pooling over H×W to (N, C, 1, 1).
/// </summary>
/// <remarks>
/// A max picks the first maximal element in row-major order of its window, so ties send the whole gradient to one
/// input. A NaN counts as larger than every number, so it propagates as in PyTorch, and the first NaN wins.
/// </remarks>
public static class PoolingReference
{
    /// <summary>Computes output[n, c, p, q] = the max of the window's elements inside the image.</summary>
    public static void MaxPool2dForward(double[] input, double[] output, Pool2dGeometry geometry)
    {
        Validate("MaxPool2dForward", input, nameof(input), output, nameof(output), geometry);
        var g = geometry;
        for (int plane = 0; plane < g.N * g.C; plane++)
        for (int p = 0; p < g.P; p++)
        for (int q = 0; q < g.Q; q++)
            output[(plane * g.P + p) * g.Q + q] = input[WindowMaxIndex(input, g, plane, p, q)];
    }

    /// <summary>Routes each gradOutput element to its window's first maximum, recomputed from input.</summary>
    public static void MaxPool2dBackward(double[] input, double[] gradOutput, double[] gradInput,
        Pool2dGeometry geometry)
    {
        Validate("MaxPool2dBackward", input, nameof(input), gradOutput, nameof(gradOutput), geometry);
        ShapeChecks.RequireLength("MaxPool2dBackward", nameof(gradInput), gradInput, InputShape(geometry));
        var g = geometry;
        Array.Clear(gradInput);
        // Windows overlap when the stride is smaller than the kernel, so one input may collect from several.
        for (int plane = 0; plane < g.N * g.C; plane++)
        for (int p = 0; p < g.P; p++)
        for (int q = 0; q < g.Q; q++)
            gradInput[WindowMaxIndex(input, g, plane, p, q)] += gradOutput[(plane * g.P + p) * g.Q + q];
    }

    /// <summary>
    /// Computes output[n, c, p, q] = (Σ of the window's elements inside the image) / (KernelH·KernelW). Padded
    /// positions count in the divisor, as PyTorch's default count_include_pad=True does.
    /// </summary>
    public static void AvgPool2dForward(double[] input, double[] output, Pool2dGeometry geometry)
    {
        Validate("AvgPool2dForward", input, nameof(input), output, nameof(output), geometry);
        var g = geometry;
        double divisor = g.KernelH * g.KernelW;
        for (int plane = 0; plane < g.N * g.C; plane++)
        for (int p = 0; p < g.P; p++)
        for (int q = 0; q < g.Q; q++)
        {
            double sum = 0;
            for (int r = 0; r < g.KernelH; r++)
            for (int s = 0; s < g.KernelW; s++)
            {
                int h = p * g.StrideH - g.PadH + r;
                int w = q * g.StrideW - g.PadW + s;
                if (h >= 0 && h < g.H && w >= 0 && w < g.W)
                    sum += input[(plane * g.H + h) * g.W + w];
            }
            output[(plane * g.P + p) * g.Q + q] = sum / divisor;
        }
    }

    /// <summary>Adds gradOutput / (KernelH·KernelW) to every input element inside each window.</summary>
    public static void AvgPool2dBackward(double[] gradOutput, double[] gradInput, Pool2dGeometry geometry)
    {
        Validate("AvgPool2dBackward", gradInput, nameof(gradInput), gradOutput, nameof(gradOutput), geometry);
        var g = geometry;
        double divisor = g.KernelH * g.KernelW;
        Array.Clear(gradInput);
        for (int plane = 0; plane < g.N * g.C; plane++)
        for (int p = 0; p < g.P; p++)
        for (int q = 0; q < g.Q; q++)
        {
            double share = gradOutput[(plane * g.P + p) * g.Q + q] / divisor;
            for (int r = 0; r < g.KernelH; r++)
            for (int s = 0; s < g.KernelW; s++)
            {
                int h = p * g.StrideH - g.PadH + r;
                int w = q * g.StrideW - g.PadW + s;
                if (h >= 0 && h < g.H && w >= 0 && w < g.W)
                    gradInput[(plane * g.H + h) * g.W + w] += share;
            }
        }
    }

    /// <summary>Computes output (N, C, 1, 1) with output[n, c] = the mean of input[n, c, :, :].</summary>
    public static void GlobalAvgPoolForward(double[] input, double[] output, int n, int c, int h, int w)
    {
        ValidateGlobal("GlobalAvgPoolForward", input, nameof(input), output, nameof(output), n, c, h, w);
        int area = h * w;
        for (int plane = 0; plane < n * c; plane++)
        {
            double sum = 0;
            for (int i = 0; i < area; i++)
                sum += input[plane * area + i];
            output[plane] = sum / area;
        }
    }

    /// <summary>Spreads gradOutput[n, c] evenly: gradInput[n, c, h, w] = gradOutput[n, c] / (H·W).</summary>
    public static void GlobalAvgPoolBackward(double[] gradOutput, double[] gradInput, int n, int c, int h, int w)
    {
        ValidateGlobal("GlobalAvgPoolBackward", gradInput, nameof(gradInput), gradOutput, nameof(gradOutput),
            n, c, h, w);
        int area = h * w;
        for (int plane = 0; plane < n * c; plane++)
        for (int i = 0; i < area; i++)
            gradInput[plane * area + i] = gradOutput[plane] / area;
    }

    /// <summary>Computes output (N, C, 1, 1) with output[n, c] = the max of input[n, c, :, :].</summary>
    public static void GlobalMaxPoolForward(double[] input, double[] output, int n, int c, int h, int w)
    {
        ValidateGlobal("GlobalMaxPoolForward", input, nameof(input), output, nameof(output), n, c, h, w);
        int area = h * w;
        for (int plane = 0; plane < n * c; plane++)
            output[plane] = input[PlaneMaxIndex(input, plane * area, area)];
    }

    /// <summary>Sends gradOutput[n, c] to the first maximum of input[n, c, :, :], and 0 to the others.</summary>
    public static void GlobalMaxPoolBackward(double[] input, double[] gradOutput, double[] gradInput, int n, int c,
        int h, int w)
    {
        ValidateGlobal("GlobalMaxPoolBackward", input, nameof(input), gradOutput, nameof(gradOutput), n, c, h, w);
        ShapeChecks.RequireLength("GlobalMaxPoolBackward", nameof(gradInput), gradInput, n, c, h, w);
        int area = h * w;
        Array.Clear(gradInput);
        for (int plane = 0; plane < n * c; plane++)
            gradInput[PlaneMaxIndex(input, plane * area, area)] = gradOutput[plane];
    }

    /// <summary>
    /// Whether <paramref name="value"/> replaces <paramref name="best"/> as the running max. Only a strictly larger
    /// value replaces it, which keeps the first of equal values. A NaN replaces any number.
    /// </summary>
    internal static bool IsNewMax(double value, double best, bool haveBest) =>
        !haveBest || value > best || (double.IsNaN(value) && !double.IsNaN(best));

    private static int WindowMaxIndex(double[] input, Pool2dGeometry g, int plane, int p, int q)
    {
        int bestIndex = -1;
        double best = double.NegativeInfinity;
        for (int r = 0; r < g.KernelH; r++)
        for (int s = 0; s < g.KernelW; s++)
        {
            int h = p * g.StrideH - g.PadH + r;
            int w = q * g.StrideW - g.PadW + s;
            if (h < 0 || h >= g.H || w < 0 || w >= g.W)
                continue;
            int index = (plane * g.H + h) * g.W + w;
            if (IsNewMax(input[index], best, bestIndex >= 0))
            {
                best = input[index];
                bestIndex = index;
            }
        }
        // Pool2dGeometry.Validate keeps padding at most half the kernel, so every window covers an image element.
        return bestIndex;
    }

    private static int PlaneMaxIndex(double[] input, int start, int count)
    {
        int bestIndex = start;
        for (int i = start + 1; i < start + count; i++)
        {
            if (IsNewMax(input[i], input[bestIndex], haveBest: true))
                bestIndex = i;
        }
        return bestIndex;
    }

    private static int[] InputShape(Pool2dGeometry g) => [g.N, g.C, g.H, g.W];

    private static void Validate(string op, double[] input, string inputName, double[] output, string outputName,
        Pool2dGeometry geometry)
    {
        geometry.Validate();
        ShapeChecks.RequireLength(op, inputName, input, InputShape(geometry));
        ShapeChecks.RequireLength(op, outputName, output, geometry.OutputShape);
    }

    private static void ValidateGlobal(string op, double[] input, string inputName, double[] output,
        string outputName, int n, int c, int h, int w)
    {
        ShapeChecks.RequirePositive(op, n, c, h, w);
        ShapeChecks.RequireLength(op, inputName, input, n, c, h, w);
        ShapeChecks.RequireLength(op, outputName, output, n, c, 1, 1);
    }
}
