using FashionCuda.Tensors;

namespace FashionCuda.Backends.Reference;

/// <summary>Argument checks of the reference kernels. Each failure names the op, the array and the shape.</summary>
internal static class ShapeChecks
{
    /// <summary>Throws unless <paramref name="array"/> has the element count of <paramref name="shape"/>.</summary>
    public static void RequireLength(string op, string name, double[] array, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(array, name);
        long expected = Shape.Elements(shape);
        if (array.Length != expected)
            throw new ArgumentException(
                $"{op}: {name} has {array.Length} elements, but shape {Shape.Format(shape)} needs {expected}.", name);
    }

    /// <summary>Throws unless the two arrays of an elementwise op have the same length.</summary>
    public static void RequireSameLength(string op, string name, double[] array, string otherName, double[] other)
    {
        ArgumentNullException.ThrowIfNull(array, name);
        ArgumentNullException.ThrowIfNull(other, otherName);
        if (array.Length != other.Length)
            throw new ArgumentException(
                $"{op}: {name} has {array.Length} elements but {otherName} has {other.Length}; " +
                "an elementwise op needs equal lengths.", name);
    }

    /// <summary>Throws unless every size is positive, so a zero or negative size is reported with its shape.</summary>
    public static void RequirePositive(string op, params int[] sizes)
    {
        foreach (int size in sizes)
        {
            if (size <= 0)
                throw new ArgumentException($"{op}: invalid sizes {Shape.Format(sizes)}, every size must be positive.");
        }
    }
}
