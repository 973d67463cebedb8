using FashionCuda.Backends;
using FashionCuda.Backends.Reference;
using FashionCuda.Tensors;

namespace FashionCuda.Checks;

/// <summary>
/// The tie rule of every max: over equal values the whole gradient goes to the first maximal element in row-major
/// order of the window, so exactly one input receives it. These checks are exact, with tolerance 0.
/// </summary>
public static partial class GradientChecks
{
    private static IEnumerable<CheckResult> CheckTies(Rng rng, string op)
    {
        yield return CheckMaxPoolTie(rng, op, "max-pool2d", value: 0.25, new Pool2dGeometry(N: 1, C: 2, H: 4, W: 4,
            KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0));
        // A negative value would lose to zero padding if padded positions took part in the max.
        yield return CheckMaxPoolTie(rng, op, "max-pool2d-padded", value: -0.25, new Pool2dGeometry(N: 1, C: 2, H: 5,
            W: 5, KernelH: 3, KernelW: 3, StrideH: 3, StrideW: 3, PadH: 1, PadW: 1));
        yield return CheckGlobalMaxPoolTie(rng, op);
        yield return CheckChannelMaxTie(rng, op);
    }

    /// <summary>The stride equals the kernel, so windows do not overlap and each input is in at most one.</summary>
    private static CheckResult CheckMaxPoolTie(Rng rng, string op, string quantity, double value,
        Pool2dGeometry geometry)
    {
        var g = geometry;
        var input = Enumerable.Repeat(value, g.N * g.C * g.H * g.W).ToArray();
        var gradOutput = PositiveValues(rng, g.N * g.C * g.P * g.Q);
        var gradInput = new double[input.Length];
        PoolingReference.MaxPool2dBackward(input, gradOutput, gradInput, geometry);

        // The first element of a window inside the image is its top-left corner clipped to row and column 0.
        var expected = new double[input.Length];
        for (int plane = 0; plane < g.N * g.C; plane++)
        for (int p = 0; p < g.P; p++)
        for (int q = 0; q < g.Q; q++)
        {
            int h = Math.Max(0, p * g.StrideH - g.PadH);
            int w = Math.Max(0, q * g.StrideW - g.PadW);
            expected[(plane * g.H + h) * g.W + w] = gradOutput[(plane * g.P + p) * g.Q + q];
        }
        return CompareExact(op, quantity, gradInput, expected);
    }

    private static CheckResult CheckGlobalMaxPoolTie(Rng rng, string op)
    {
        const int n = 2, c = 2, h = 3, w = 3;
        var input = Enumerable.Repeat(0.5, n * c * h * w).ToArray();
        var gradOutput = PositiveValues(rng, n * c);
        var gradInput = new double[input.Length];
        PoolingReference.GlobalMaxPoolBackward(input, gradOutput, gradInput, n, c, h, w);

        var expected = new double[input.Length];
        for (int plane = 0; plane < n * c; plane++)
            expected[plane * h * w] = gradOutput[plane];
        return CompareExact(op, "global-max-pool", gradInput, expected);
    }

    private static CheckResult CheckChannelMaxTie(Rng rng, string op)
    {
        const int n = 2, c = 3, h = 2, w = 2;
        var input = Enumerable.Repeat(-1.5, n * c * h * w).ToArray();
        var gradOutput = PositiveValues(rng, n * h * w);
        var gradInput = new double[input.Length];
        ChannelReference.ChannelMaxBackward(input, gradOutput, gradInput, n, c, h, w);

        // Channel 0 is first among equal channels.
        var expected = new double[input.Length];
        for (int image = 0; image < n; image++)
        for (int pixel = 0; pixel < h * w; pixel++)
            expected[image * c * h * w + pixel] = gradOutput[image * h * w + pixel];
        return CompareExact(op, "channel-max", gradInput, expected);
    }

    /// <summary>Values in [1, 2), so a gradient that went missing or to the wrong element shows as an error.</summary>
    private static double[] PositiveValues(Rng rng, int length)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
            values[i] = 1 + rng.NextDouble();
        return values;
    }

    private static CheckResult CompareExact(string op, string quantity, double[] actual, double[] expected)
    {
        double maxAbs = 0;
        double maxRel = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            double scale = Math.Max(Math.Abs(actual[i]), Math.Abs(expected[i]));
            maxAbs = Math.Max(maxAbs, double.IsNaN(error) ? double.PositiveInfinity : error);
            maxRel = Math.Max(maxRel, scale == 0 ? 0 : error / scale);
        }
        return new CheckResult(op, quantity, maxAbs, maxRel, Tolerance: 0, Passed: maxAbs == 0);
    }
}
