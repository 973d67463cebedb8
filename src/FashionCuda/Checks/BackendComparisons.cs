using FashionCuda.Backends;
using FashionCuda.Backends.Reference;
using FashionCuda.Tensors;

namespace FashionCuda.Checks;

/// <summary>
/// Runs every op of a candidate backend and of <see cref="ReferenceBackend"/> on the same random inputs, forward
/// and backward, and compares the results element by element. An element passes when
/// |candidate − reference| ≤ atol + rtol·|reference|, with atol and rtol stated per op below.
/// </summary>
/// <remarks>
/// Shapes mix fixed cases that reach the fast paths (odd sizes, batch 1, GEMM block edges, several images per
/// GEMM) with sizes drawn from the seed. Outputs start as NaN on both sides, so an element that a kernel never
/// writes fails. A quantity whose reference is all zeros also fails, because such a comparison proves nothing.
/// Max-type ops use small integer inputs, so ties are frequent and their routing is compared exactly.
/// </remarks>
public static partial class BackendComparisons
{
    private static readonly OpCase[] Cases = BuildCases();

    /// <summary>Names of the compared ops, in table order.</summary>
    public static IReadOnlyList<string> OpNames { get; } = Cases.Select(c => c.Name).ToArray();

    /// <summary>
    /// Compares <paramref name="candidate"/> with the reference on one op (or all when <paramref name="op"/> is
    /// null). Returns one result per compared quantity (output, dInput, dWeight, …).
    /// </summary>
    public static IReadOnlyList<CheckResult> Run(IBackend candidate, string? op = null, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var selected = op is null ? Cases : Cases.Where(c => c.Name == op).ToArray();
        if (selected.Length == 0)
            throw new ArgumentException(
                $"Unknown op '{op}'. Known ops: {string.Join(", ", OpNames)}.", nameof(op));
        var reference = new ReferenceBackend();
        var results = new List<CheckResult>();
        foreach (var opCase in selected)
        {
            // Each op gets its own stream, so adding an op does not change the inputs of the others.
            var rng = new Rng(CounterRandom.Hash(seed, (ulong)StableHash(opCase.Name)));
            using var scope = new TensorScope();
            var pair = new Pair(candidate, reference, rng, opCase, results);
            opCase.Run(pair);
        }
        return results;
    }

    private static uint StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char ch in text)
            hash = (hash ^ ch) * 16777619;
        return hash;
    }

    /// <summary>An op of the table with its tolerance.</summary>
    private sealed record OpCase(string Name, double AbsoluteTolerance, double RelativeTolerance, Action<Pair> Run);

    /// <summary>
    /// A tensor made on both backends with the same values: <see cref="Candidate"/> on the backend under test,
    /// <see cref="Reference"/> on the reference backend.
    /// </summary>
    private readonly record struct Twin(Tensor Candidate, Tensor Reference);

    /// <summary>The two backends, the random stream and the results of one op.</summary>
    private sealed class Pair(IBackend candidate, ReferenceBackend reference, Rng rng, OpCase opCase,
        List<CheckResult> results)
    {
        public IBackend CandidateBackend => candidate;

        public ReferenceBackend ReferenceBackend => reference;

        public Rng Rng => rng;

        public Twin Upload(float[] values, params int[] shape) =>
            new(Tensor.FromArray(candidate, values, shape), Tensor.FromArray(reference, values, shape));

        /// <summary>Standard normal values times <paramref name="scale"/>.</summary>
        public Twin Normal(int[] shape, double scale = 1.0)
        {
            var values = new float[Shape.Elements(shape)];
            for (int i = 0; i < values.Length; i++)
                values[i] = (float)(rng.NextNormal() * scale);
            return Upload(values, shape);
        }

        /// <summary>Uniform values in [low, high).</summary>
        public Twin Uniform(int[] shape, double low, double high)
        {
            var values = new float[Shape.Elements(shape)];
            for (int i = 0; i < values.Length; i++)
                values[i] = (float)(low + (high - low) * rng.NextDouble());
            return Upload(values, shape);
        }

        /// <summary>Whole numbers in [0, levels), so that maxima tie often.</summary>
        public Twin Integers(int[] shape, int levels)
        {
            var values = new float[Shape.Elements(shape)];
            for (int i = 0; i < values.Length; i++)
                values[i] = rng.NextInt(levels);
            return Upload(values, shape);
        }

        /// <summary>Outputs, filled with NaN on both sides so that unwritten elements fail.</summary>
        public Twin Output(params int[] shape) =>
            new(Tensor.Full(candidate, shape, float.NaN), Tensor.Full(reference, shape, float.NaN));

        public void Compare(string quantity, Twin twin) =>
            results.Add(CompareValues(opCase, quantity, twin.Candidate.ToArray(), twin.Reference.ToArray()));
    }

    /// <summary>
    /// Compares element by element. The reported tolerance is atol + rtol·|reference| at the element closest to
    /// failing, and the relative error is |difference| / max(|candidate|, |reference|).
    /// </summary>
    private static CheckResult CompareValues(OpCase opCase, string quantity, float[] candidate, float[] reference)
    {
        double maxAbs = 0, maxRel = 0, worstRatio = 0;
        double toleranceAtWorst = opCase.AbsoluteTolerance;
        bool anyNonZero = false;
        bool sameLength = candidate.Length == reference.Length;
        for (int i = 0; i < Math.Min(candidate.Length, reference.Length); i++)
        {
            double expected = reference[i], actual = candidate[i];
            anyNonZero |= expected != 0;
            double error = actual == expected || (double.IsNaN(actual) && double.IsNaN(expected))
                ? 0
                : Math.Abs(actual - expected);
            if (double.IsNaN(error))
                error = double.PositiveInfinity;
            double allowed = opCase.AbsoluteTolerance + opCase.RelativeTolerance * Math.Abs(expected);
            double scale = Math.Max(Math.Abs(actual), Math.Abs(expected));
            maxAbs = Math.Max(maxAbs, error);
            maxRel = Math.Max(maxRel, error == 0 ? 0 : error / scale);
            double ratio = error == 0 ? 0 : error / allowed;
            if (ratio > worstRatio || double.IsNaN(ratio))
            {
                worstRatio = double.IsNaN(ratio) ? double.PositiveInfinity : ratio;
                toleranceAtWorst = allowed;
            }
        }
        bool passed = sameLength && anyNonZero && worstRatio <= 1;
        return new CheckResult(opCase.Name, quantity, maxAbs, maxRel, toleranceAtWorst, passed);
    }
}
