using FashionCuda.Tensors;

namespace FashionCuda.Backends.Reference;

/// <summary>
/// Conversions between float32 tensors and double arrays, and the tensor shape checks of
/// <see cref="ReferenceBackend"/>.
/// </summary>
public sealed partial class ReferenceBackend
{
    /// <summary>The pool's count of arrays created, so tests can see that shapes that repeat reuse buffers.</summary>
    internal long ArraysCreated => pool.ArraysCreated;

    /// <summary>Returns the tensor's elements after checking that it is alive and lives on this backend.</summary>
    private Span<float> HostSpan(Tensor tensor, string op, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (tensor.IsDisposed)
            throw new ObjectDisposedException(name, $"{op}: {name} (shape {Format(tensor)}) was disposed.");
        if (!ReferenceEquals(tensor.Backend, this) || tensor.Storage is not HostStorage storage)
            throw new ArgumentException(
                $"{op}: {name} (shape {Format(tensor)}) lives on backend '{tensor.Backend.Name}', not on this " +
                "reference backend. Copy it over first.", name);
        return storage.Data.AsSpan(0, checked((int)tensor.Length));
    }

    /// <summary>Copies a tensor's float32 elements into a new double array.</summary>
    private double[] Read(Tensor tensor, string op)
    {
        var span = HostSpan(tensor, op, tensor.Name ?? "a tensor");
        var values = new double[span.Length];
        for (int i = 0; i < span.Length; i++)
            values[i] = span[i];
        return values;
    }

    private double[]? ReadIfPresent(Tensor? tensor, string op) => tensor is null ? null : Read(tensor, op);

    /// <summary>Rounds each double to the nearest float32 and stores it in the tensor.</summary>
    private void Write(double[] values, Tensor tensor)
    {
        var span = HostSpan(tensor, "Write", tensor.Name ?? "a tensor");
        for (int i = 0; i < span.Length; i++)
            span[i] = (float)values[i];
    }

    private void WriteIfPresent(double[]? values, Tensor? tensor)
    {
        if (values is not null && tensor is not null)
            Write(values, tensor);
    }

    private static string Format(Tensor tensor) => Shape.Format(tensor.Dimensions);

    private static void RequireShape(string op, string name, Tensor tensor, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (!Shape.Equal(tensor.Dimensions, shape))
            throw new ArgumentException(
                $"{op}: {name} has shape {Format(tensor)}, but {Shape.Format(shape)} is expected.", name);
    }

    private static void RequireSameShape(string op, string name, Tensor tensor, string otherName, Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other, otherName);
        RequireShape(op, name, tensor, other.Dimensions);
    }

    private static void RequireSameLength(string op, string name, Tensor tensor, string otherName, Tensor other)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        ArgumentNullException.ThrowIfNull(other, otherName);
        if (tensor.Length != other.Length)
            throw new ArgumentException(
                $"{op}: {name} has shape {Format(tensor)} ({tensor.Length} elements) but {otherName} has shape " +
                $"{Format(other)} ({other.Length} elements); the element counts must match.", name);
    }

    private static void RequireLength(string op, string name, Tensor tensor, long length)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (tensor.Length != length)
            throw new ArgumentException(
                $"{op}: {name} has shape {Format(tensor)}, but {length} element(s) are expected.", name);
    }

    /// <summary>Returns the sizes of a rank-4 NCHW tensor.</summary>
    private static (int N, int C, int H, int W) Nchw(string op, string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (tensor.Rank != 4)
            throw new ArgumentException(
                $"{op}: {name} has shape {Format(tensor)}, but an (N, C, H, W) image tensor is expected.", name);
        var d = tensor.Dimensions;
        return (d[0], d[1], d[2], d[3]);
    }

    private static int[] BroadcastShape(Broadcast broadcast, int n, int c, int h, int w) => broadcast switch
    {
        Broadcast.None => [n, c, h, w],
        Broadcast.PerChannel => [n, c, 1, 1],
        Broadcast.PerPixel => [n, 1, h, w],
        _ => throw new ArgumentOutOfRangeException(nameof(broadcast), broadcast, "Invalid broadcast kind."),
    };

    private static void RequirePoolShapes(string op, Tensor input, string inputName, Tensor output,
        string outputName, Pool2dGeometry geometry)
    {
        geometry.Validate();
        RequireShape(op, inputName, input, geometry.N, geometry.C, geometry.H, geometry.W);
        RequireShape(op, outputName, output, geometry.OutputShape);
    }

    /// <summary>Returns (N, in, out) for input (N, in) and weight (out, in).</summary>
    private static (int Batch, int InFeatures, int OutFeatures) LinearSizes(string op, Tensor input, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 2)
            throw new ArgumentException($"{op}: input has shape {Format(input)}, but (N, in) is expected.",
                nameof(input));
        if (weight.Rank != 2 || weight.Dimensions[1] != input.Dimensions[1])
            throw new ArgumentException(
                $"{op}: weight has shape {Format(weight)}, but (out, {input.Dimensions[1]}) is expected for input " +
                $"{Format(input)}.", nameof(weight));
        return (input.Dimensions[0], input.Dimensions[1], weight.Dimensions[0]);
    }

    /// <summary>Returns (N, classes) for a row tensor (N, classes) and labels (N).</summary>
    private static (int Batch, int Classes) LossSizes(string op, Tensor rows, string rowsName, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(rows, rowsName);
        if (rows.Rank != 2)
            throw new ArgumentException($"{op}: {rowsName} has shape {Format(rows)}, but (N, classes) is expected.",
                rowsName);
        RequireShape(op, nameof(labels), labels, rows.Dimensions[0]);
        return (rows.Dimensions[0], rows.Dimensions[1]);
    }
}
