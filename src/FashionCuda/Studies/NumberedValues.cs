using System.Globalization;

namespace FashionCuda.Studies;

/// <summary>
/// The distinct values of one run property, such as the machine or the data source, numbered from 1 in order of
/// first appearance, so a report can name each once and refer to it by number. A run that did not record the
/// property (null) counts as <c>fallback</c>.
/// </summary>
internal sealed class NumberedValues
{
    private readonly Func<RunResult, string?> select;
    private readonly string fallback;
    private readonly List<(string Value, int Runs)> entries = [];

    public NumberedValues(IEnumerable<RunResult> runs, Func<RunResult, string?> select, string fallback)
    {
        this.select = select;
        this.fallback = fallback;
        foreach (var run in runs)
        {
            string value = ValueOf(run);
            int index = entries.FindIndex(entry => entry.Value == value);
            if (index < 0)
                entries.Add((value, 1));
            else
                entries[index] = (value, entries[index].Runs + 1);
        }
    }

    /// <summary>Whether the runs have more than one value.</summary>
    public bool Mixed => entries.Count > 1;

    /// <summary>Returns the number of the run's value, from 1.</summary>
    /// <exception cref="ArgumentException">The run's value is not in the list.</exception>
    public int NumberOf(RunResult run)
    {
        string value = ValueOf(run);
        int index = entries.FindIndex(entry => entry.Value == value);
        if (index < 0)
        {
            throw new ArgumentException($"Run {run.Arm} seed {run.Seed} has the value '{value}', which is not in " +
                                        "the list. Build the list from every run that it numbers.", nameof(run));
        }
        return index + 1;
    }

    /// <summary>
    /// Returns the single value as it is, or each value with its number and run count, e.g.
    /// "machine 1: AMD EPYC 7763 (7 runs); machine 2: Intel Xeon (2 runs)" for the noun "machine". With no noun
    /// the values go unnumbered, for a property that no table refers to by number.
    /// </summary>
    public string Describe(string? noun)
    {
        if (!Mixed)
            return entries[0].Value;
        return string.Join("; ", entries.Select((entry, i) => string.Create(CultureInfo.InvariantCulture,
            $"{(noun is null ? "" : $"{noun} {i + 1}: ")}{entry.Value} ({entry.Runs} " +
            $"run{(entry.Runs == 1 ? "" : "s")})")));
    }

    private string ValueOf(RunResult run) => select(run) ?? fallback;
}
