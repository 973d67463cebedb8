namespace FashionCuda.Tensors;

/// <summary>
/// A stateless counter-based generator: the value for (seed, index) is a hash, so any thread or GPU thread can
/// draw element i of a stream without sharing state, and every backend draws the same numbers.
/// </summary>
public static class CounterRandom
{
    /// <summary>SplitMix64's finalizer applied to seed and index; a bijective 64-bit mix.</summary>
    public static ulong Hash(ulong seed, ulong index)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + index * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A float in [0, 1) from the top 24 bits of the hash, exact in float32.</summary>
    public static float Uniform(ulong seed, ulong index) => (Hash(seed, index) >> 40) * (1.0f / 16777216.0f);
}

/// <summary>
/// The engine's seeded generator (SplitMix64). Its whole state is one <see cref="ulong"/>, so a run can save and
/// restore it. Used on the host for initialization, shuffling, augmentation and per-step dropout seeds.
/// </summary>
public sealed class Rng
{
    public Rng(ulong seed)
    {
        State = seed;
    }

    public ulong State { get; set; }

    public ulong NextUInt64()
    {
        State += 0x9E3779B97F4A7C15UL;
        ulong z = State;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>An integer in [0, maxExclusive), unbiased (rejection of the short last bucket).</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "The bound must be positive.");
        ulong bound = (ulong)maxExclusive;
        ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
        ulong value;
        do
            value = NextUInt64();
        while (value >= limit);
        return (int)(value % bound);
    }

    /// <summary>A standard normal sample by the Box–Muller transform.</summary>
    public double NextNormal()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
