namespace FashionCuda.Backends.Reference;

/// <summary>
/// Local response normalization across channels as PyTorch's LocalResponseNorm, over (N, C, H, W) NCHW inputs.
/// For channel c the window is c − size/2 … c + (size − 1)/2 (integer division), cut to the channels that exist,
/// and output = input / scale^beta with scale = k + alpha/size · Σ_window input².
/// </summary>
public static class LocalResponseNormReference
{
    public static void Forward(double[] input, double[] output, int size, double alpha, double beta, double k, int n,
        int c, int h, int w)
    {
        Validate("LocalResponseNormForward", input, output, nameof(output), size, n, c, h, w);
        int area = h * w;
        for (int image = 0; image < n; image++)
        for (int channel = 0; channel < c; channel++)
        for (int pixel = 0; pixel < area; pixel++)
        {
            int index = (image * c + channel) * area + pixel;
            double scale = Scale(input, image, channel, pixel, size, alpha, k, c, area);
            output[index] = input[index] / Math.Pow(scale, beta);
        }
    }

    /// <summary>
    /// Computes gradInput[j] = gradOutput[j]·scale_j^−beta − (2·alpha·beta/size)·input[j] ·
    /// Σ_{c : j in window(c)} gradOutput[c]·output[c] / scale_c, where channel j lies in the window of channel c
    /// when j − (size − 1)/2 ≤ c ≤ j + size/2. The scales are recomputed from input.
    /// </summary>
    public static void Backward(double[] input, double[] output, double[] gradOutput, double[] gradInput, int size,
        double alpha, double beta, double k, int n, int c, int h, int w)
    {
        const string op = "LocalResponseNormBackward";
        Validate(op, input, output, nameof(output), size, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(gradOutput), gradOutput, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(gradInput), gradInput, n, c, h, w);
        int area = h * w;
        for (int image = 0; image < n; image++)
        for (int j = 0; j < c; j++)
        for (int pixel = 0; pixel < area; pixel++)
        {
            int indexJ = (image * c + j) * area + pixel;
            double scaleJ = Scale(input, image, j, pixel, size, alpha, k, c, area);
            double direct = gradOutput[indexJ] * Math.Pow(scaleJ, -beta);

            // Input j also changes the scale of every channel whose window contains it.
            double throughScales = 0;
            for (int channel = Math.Max(0, j - (size - 1) / 2); channel <= Math.Min(c - 1, j + size / 2); channel++)
            {
                int index = (image * c + channel) * area + pixel;
                double scale = Scale(input, image, channel, pixel, size, alpha, k, c, area);
                throughScales += gradOutput[index] * output[index] / scale;
            }
            gradInput[indexJ] = direct - 2 * alpha * beta / size * input[indexJ] * throughScales;
        }
    }

    /// <summary>Computes k + alpha/size · Σ input² over the window of one channel at one pixel.</summary>
    private static double Scale(double[] input, int image, int channel, int pixel, int size, double alpha, double k,
        int c, int area)
    {
        double squares = 0;
        for (int other = Math.Max(0, channel - size / 2); other <= Math.Min(c - 1, channel + (size - 1) / 2); other++)
        {
            double value = input[(image * c + other) * area + pixel];
            squares += value * value;
        }
        return k + alpha / size * squares;
    }

    private static void Validate(string op, double[] input, double[] output, string outputName, int size, int n,
        int c, int h, int w)
    {
        ShapeChecks.RequirePositive(op, n, c, h, w);
        if (size <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"{op}: the window size must be positive.");
        ShapeChecks.RequireLength(op, nameof(input), input, n, c, h, w);
        ShapeChecks.RequireLength(op, outputName, output, n, c, h, w);
    }
}
