namespace FashionCuda.Tensors;

/// <summary>Helpers for shapes stored as <c>int[]</c>, outermost dimension first (N, C, H, W for images).</summary>
public static class Shape
{
    public static long Elements(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int dimension in shape)
        {
            if (dimension < 0)
                throw new ArgumentException($"Invalid shape {Format(shape)}: dimensions must be non-negative.");
            count *= dimension;
        }
        return count;
    }

    public static string Format(ReadOnlySpan<int> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);
}
