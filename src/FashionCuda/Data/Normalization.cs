namespace FashionCuda.Data;

/// <summary>
/// Per-channel standardization on the [0, 1] pixel scale: a byte pixel p of channel c becomes
/// (p / 255 − Means[c]) / Stds[c]. A one-channel normalization applies to every channel of an image.
/// </summary>
public sealed class Normalization : IEquatable<Normalization>
{
    private readonly float[] means;
    private readonly float[] stds;

    /// <summary>One mean and standard deviation for all channels.</summary>
    public Normalization(float mean, float std) : this([mean], [std])
    {
    }

    public Normalization(IReadOnlyList<float> means, IReadOnlyList<float> stds)
    {
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(stds);
        if (means.Count == 0 || means.Count != stds.Count)
            throw new ArgumentException(
                $"Normalization needs one mean and one standard deviation per channel; got {means.Count} means " +
                $"and {stds.Count} standard deviations.");
        foreach (float std in stds)
        {
            if (!(std > 0) || !float.IsFinite(std))
                throw new ArgumentOutOfRangeException(nameof(stds), std, "Each standard deviation must be positive.");
        }
        this.means = means.ToArray();
        this.stds = stds.ToArray();
    }

    /// <summary>Only rescales to [0, 1] (mean 0, standard deviation 1).</summary>
    public static Normalization Identity => new(0f, 1f);

    public IReadOnlyList<float> Means => means;

    public IReadOnlyList<float> Stds => stds;

    public int Channels => means.Length;

    /// <summary>Mean of the first channel, the only one for grey images.</summary>
    public float Mean => means[0];

    /// <summary>Standard deviation of the first channel, the only one for grey images.</summary>
    public float Std => stds[0];

    /// <summary>
    /// Computes the mean and the population standard deviation of each channel over all images of
    /// <paramref name="images"/>, on the [0, 1] scale. Sums are exact 64-bit integers, so the result does not
    /// depend on the order of the images.
    /// </summary>
    public static Normalization Compute(ImageDataset images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Pixels.Length == 0)
            throw new ArgumentException("Normalization needs at least one image.", nameof(images));
        int channels = images.Channels;
        int plane = images.Height * images.Width;
        var sums = new long[channels];
        var sumsOfSquares = new long[channels];
        ReadOnlySpan<byte> pixels = images.Pixels;
        for (int offset = 0; offset < pixels.Length; offset += plane)
        {
            int channel = offset / plane % channels;
            long sum = 0, sumOfSquares = 0;
            foreach (byte pixel in pixels.Slice(offset, plane))
            {
                sum += pixel;
                sumOfSquares += pixel * pixel;
            }
            sums[channel] += sum;
            sumsOfSquares[channel] += sumOfSquares;
        }

        double count = (double)pixels.Length / channels;
        var means = new float[channels];
        var stds = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double mean = sums[c] / count;
            double variance = Math.Max(0.0, sumsOfSquares[c] / count - mean * mean);
            if (variance == 0.0)
                throw new ArgumentException(
                    $"All pixels of channel {c} of the images equal {mean / 255.0:F4}, so they cannot be " +
                    "standardized.", nameof(images));
            means[c] = (float)(mean / 255.0);
            stds[c] = (float)(Math.Sqrt(variance) / 255.0);
        }
        return new Normalization(means, stds);
    }

    /// <summary>Returns the normalized value of a byte pixel of <paramref name="channel"/>.</summary>
    public float Apply(byte pixel, int channel = 0)
    {
        int index = Channels == 1 ? 0 : channel;
        return (pixel / 255f - means[index]) / stds[index];
    }

    /// <summary>
    /// Fills a table of 256 entries per channel (channel-major) with <see cref="Apply"/> of every byte value.
    /// </summary>
    internal void FillTable(Span<float> table, int channels)
    {
        if (Channels != 1 && Channels != channels)
            throw new ArgumentException(
                $"The normalization has {Channels} channels but the images have {channels}.");
        for (int c = 0; c < channels; c++)
        {
            for (int value = 0; value < 256; value++)
                table[c * 256 + value] = Apply((byte)value, c);
        }
    }

    public bool Equals(Normalization? other) =>
        other is not null && means.AsSpan().SequenceEqual(other.means) && stds.AsSpan().SequenceEqual(other.stds);

    public override bool Equals(object? obj) => Equals(obj as Normalization);

    public override int GetHashCode() => HashCode.Combine(means[0], stds[0], means.Length);

    public override string ToString() =>
        $"mean [{string.Join(", ", means)}], std [{string.Join(", ", stds)}]";
}
