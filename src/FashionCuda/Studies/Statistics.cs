namespace FashionCuda.Studies;

/// <summary>Summary statistics of the per-seed figures of a study arm.</summary>
public static class Statistics
{
    public static double Mean(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            throw new ArgumentException("The mean of no values is undefined.", nameof(values));
        double sum = 0;
        foreach (double value in values)
            sum += value;
        return sum / values.Count;
    }

    /// <summary>
    /// Sample standard deviation (divisor n − 1), the usual estimate of seed noise from a few runs; NaN for fewer
    /// than two values.
    /// </summary>
    public static double StandardDeviation(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
            return double.NaN;
        double mean = Mean(values);
        double sum = 0;
        foreach (double value in values)
            sum += (value - mean) * (value - mean);
        return Math.Sqrt(sum / (values.Count - 1));
    }

    /// <summary>
    /// Standard error of the difference of two means, √(s_a²/n_a + s_b²/n_b) as in Welch's t-test; NaN unless
    /// both samples have at least two values.
    /// </summary>
    public static double StandardErrorOfDifference(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double sa = StandardDeviation(a);
        double sb = StandardDeviation(b);
        return Math.Sqrt(sa * sa / a.Count + sb * sb / b.Count);
    }
}
