namespace FashionCuda.Data;

/// <summary>
/// Per-dataset standardization on the [0, 1] pixel scale: a byte pixel p becomes (p / 255 − Mean) / Std.
/// </summary>
public readonly record struct Normalization(float Mean, float Std)
{
    /// <summary>Only rescales to [0, 1] (mean 0, standard deviation 1).</summary>
    public static Normalization Identity => new(0f, 1f);

    /// <summary>
    /// Computes the mean and the population standard deviation of all pixels of <paramref name="images"/>, on the
    /// [0, 1] scale. Sums are exact 64-bit integers, so the result does not depend on the order of the images.
    /// </summary>
    public static Normalization Compute(ImageDataset images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Pixels.Length == 0)
            throw new ArgumentException("Normalization needs at least one image.", nameof(images));
        long sum = 0;
        long sumOfSquares = 0;
        foreach (byte pixel in images.Pixels)
        {
            sum += pixel;
            sumOfSquares += pixel * pixel;
        }

        double count = images.Pixels.Length;
        double mean = sum / count;
        double variance = Math.Max(0.0, sumOfSquares / count - mean * mean);
        if (variance == 0.0)
            throw new ArgumentException(
                $"All pixels of the images equal {mean / 255.0:F4}, so they cannot be standardized.", nameof(images));
        return new Normalization((float)(mean / 255.0), (float)(Math.Sqrt(variance) / 255.0));
    }

    /// <summary>Returns the normalized value of a byte pixel.</summary>
    public float Apply(byte pixel) => (pixel / 255f - Mean) / Std;

    /// <summary>Fills a 256-entry table with <see cref="Apply"/> of every byte value.</summary>
    internal void FillTable(Span<float> table)
    {
        for (int value = 0; value < 256; value++)
            table[value] = Apply((byte)value);
    }
}
