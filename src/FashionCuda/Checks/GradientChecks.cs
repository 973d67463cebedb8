using FashionCuda.Backends;
using FashionCuda.Tensors;

namespace FashionCuda.Checks;

/// <summary>
/// One compared quantity of one op: the gradient of an input or parameter ("dInput", "dWeight"), or a named
/// property such as a tie rule.
/// </summary>
/// <param name="MaxAbsError">Max over elements of |analytic − numeric|.</param>
/// <param name="MaxRelError">Max over elements of |analytic − numeric| / max(|analytic|, |numeric|), 0 where both
/// are 0.</param>
/// <param name="Tolerance">The allowed error atol + rtol·|numeric| at the element nearest to failing (the one with
/// the largest error / allowed-error ratio), or 0 for exact checks.</param>
/// <param name="Passed">Whether every element was within its allowed error and the check was not vacuous.</param>
public sealed record CheckResult(string Op, string Quantity, double MaxAbsError, double MaxRelError,
    double Tolerance, bool Passed);

/// <summary>
/// Finite-difference gradient checks of the reference kernels in float64. For each op it draws fixed inputs and
/// a fixed random G shaped like the output, takes L = Σ output·G, and compares the kernel's backward pass (fed G
/// as gradOutput) with the central difference (L(x + h) − L(x − h)) / 2h for every element of every input and
/// parameter.
/// </summary>
/// <remarks>
/// An element passes when |analytic − numeric| ≤ <see cref="AbsoluteTolerance"/> + <see cref="RelativeTolerance"/>
/// · |numeric|. A check whose numeric gradient is zero everywhere fails, because it would pass whatever the
/// backward pass returned. Inputs are drawn away from kinks: ReLU inputs are at least 0.01 from 0, and the inputs
/// of every max are distinct grid values at least 2/length apart, far more than the step h.
/// </remarks>
public static partial class GradientChecks
{
    /// <summary>The finite-difference step h. Its truncation error is O(h²) and its rounding error about
    /// 1e-16·|L| / h, both far below the tolerances for losses of order 10.</summary>
    public const double Step = 1e-6;

    public const double AbsoluteTolerance = 1e-6;

    public const double RelativeTolerance = 1e-5;

    private static readonly (string Name, Func<Rng, string, IEnumerable<CheckResult>> Run)[] Checks =
    [
        ("conv2d", CheckConv2d),
        ("conv2d-strided", CheckConv2dStrided),
        ("linear", CheckLinear),
        ("relu", CheckRelu),
        ("sigmoid", CheckSigmoid),
        ("add", CheckAdd),
        ("multiply", (rng, op) => CheckMultiply(rng, op, Broadcast.None)),
        ("multiply-per-channel", (rng, op) => CheckMultiply(rng, op, Broadcast.PerChannel)),
        ("multiply-per-pixel", (rng, op) => CheckMultiply(rng, op, Broadcast.PerPixel)),
        ("max-pool2d", CheckMaxPool2d),
        ("max-pool2d-padded", CheckMaxPool2dPadded),
        ("avg-pool2d", CheckAvgPool2d),
        ("global-avg-pool", CheckGlobalAvgPool),
        ("global-max-pool", CheckGlobalMaxPool),
        ("channel-mean", CheckChannelMean),
        ("channel-max", CheckChannelMax),
        ("concat-channels", CheckConcat),
        ("batch-norm2d-training", CheckBatchNorm2d),
        ("dropout", CheckDropout),
        ("local-response-norm", (rng, op) => CheckLocalResponseNorm(rng, op, size: 3)),
        ("local-response-norm-even", (rng, op) => CheckLocalResponseNorm(rng, op, size: 4)),
        ("softmax-cross-entropy", (rng, op) => CheckSoftmaxCrossEntropy(rng, op, labelSmoothing: 0)),
        ("softmax-cross-entropy-smoothing", (rng, op) => CheckSoftmaxCrossEntropy(rng, op, labelSmoothing: 0.1)),
        ("tie", CheckTies),
        ("cbam", CheckCbam),
    ];

    /// <summary>Names accepted by <see cref="Run"/>, one per op and configuration, plus "tie".</summary>
    public static IReadOnlyList<string> OpNames { get; } = Checks.Select(check => check.Name).ToArray();

    /// <summary>
    /// Runs the checks of one op, or of all ops when <paramref name="op"/> is null. Each op draws its inputs from
    /// a fresh <see cref="Rng"/> seeded with <paramref name="seed"/>, so its results do not depend on which other
    /// ops run.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="op"/> is not one of <see cref="OpNames"/>.</exception>
    public static IReadOnlyList<CheckResult> Run(string? op = null, ulong seed = 1)
    {
        if (op is null)
            return Checks.SelectMany(check => check.Run(new Rng(seed), check.Name)).ToList();
        foreach (var check in Checks)
        {
            if (check.Name == op)
                return check.Run(new Rng(seed), check.Name).ToList();
        }
        throw new ArgumentException($"Unknown op '{op}'. Known ops: {string.Join(", ", OpNames)}.", nameof(op));
    }

    /// <summary>
    /// Compares <paramref name="analytic"/> with the central difference of <paramref name="loss"/> as each element
    /// of <paramref name="x"/> moves by ±<see cref="Step"/>. The loss must read x on every call.
    /// </summary>
    internal static CheckResult Compare(string op, string quantity, double[] x, double[] analytic,
        Func<double> loss) =>
        Compare(op, quantity, x, analytic, loss, Step, AbsoluteTolerance, RelativeTolerance);

    /// <summary>
    /// As <see cref="Compare(string, string, double[], double[], Func{double})"/>, with the step
    /// <paramref name="step"/> and the allowed error <paramref name="absoluteTolerance"/> +
    /// <paramref name="relativeTolerance"/>·|numeric|.
    /// </summary>
    internal static CheckResult Compare(string op, string quantity, double[] x, double[] analytic,
        Func<double> loss, double step, double absoluteTolerance, double relativeTolerance)
    {
        if (analytic.Length != x.Length)
            throw new ArgumentException(
                $"{op} {quantity}: the analytic gradient has {analytic.Length} elements but the input has {x.Length}.");
        double maxAbs = 0;
        double maxRel = 0;
        double worstRatio = 0;
        double toleranceAtWorst = absoluteTolerance;
        double maxNumeric = 0;
        bool allFinite = true;
        for (int i = 0; i < x.Length; i++)
        {
            double saved = x[i];
            x[i] = saved + step;
            double plus = loss();
            x[i] = saved - step;
            double minus = loss();
            x[i] = saved;

            double numeric = (plus - minus) / (2 * step);
            double error = Math.Abs(analytic[i] - numeric);
            double allowed = absoluteTolerance + relativeTolerance * Math.Abs(numeric);
            double scale = Math.Max(Math.Abs(analytic[i]), Math.Abs(numeric));
            allFinite &= double.IsFinite(error);
            maxAbs = Math.Max(maxAbs, error);
            maxRel = Math.Max(maxRel, scale == 0 ? 0 : error / scale);
            maxNumeric = Math.Max(maxNumeric, Math.Abs(numeric));
            if (error / allowed > worstRatio)
            {
                worstRatio = error / allowed;
                toleranceAtWorst = allowed;
            }
        }
        bool passed = allFinite && worstRatio <= 1 && maxNumeric > 0;
        return new CheckResult(op, quantity, maxAbs, maxRel, toleranceAtWorst, passed);
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Standard normal values times <paramref name="scale"/>.</summary>
    private static double[] Normal(Rng rng, int length, double scale = 1)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
            values[i] = scale * rng.NextNormal();
        return values;
    }

    /// <summary>A random permutation of the grid −1 + (2i + 1)/length: distinct values 2/length apart.</summary>
    private static double[] DistinctValues(Rng rng, int length)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
            values[i] = -1 + (2.0 * i + 1) / length;
        rng.Shuffle(values.AsSpan());
        return values;
    }

    /// <summary>Values with a random sign and magnitude uniform in [0.01, 1], so none is near 0.</summary>
    private static double[] AwayFromZero(Rng rng, int length)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
        {
            double magnitude = 0.01 + 0.99 * rng.NextDouble();
            values[i] = rng.NextDouble() < 0.5 ? -magnitude : magnitude;
        }
        return values;
    }
}
