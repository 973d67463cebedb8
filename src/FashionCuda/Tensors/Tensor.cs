using FashionCuda.Autograd;
using FashionCuda.Backends;

namespace FashionCuda.Tensors;

/// <summary>
/// A dense float32 tensor, contiguous and row-major (NCHW for images), whose storage belongs to one backend.
/// Only that backend reads or writes the storage; everything above it goes through <see cref="IBackend"/>.
/// </summary>
/// <remarks>
/// A tensor made while a <see cref="TensorScope"/> is open is disposed when that scope closes, unless it was
/// made persistent (parameters, optimizer state, running statistics).
/// </remarks>
public sealed class Tensor : IDisposable
{
    private Tensor(IBackend backend, Storage storage, int[] shape, bool persistent)
    {
        Backend = backend;
        Storage = storage;
        Dimensions = shape;
        Length = Tensors.Shape.Elements(shape);
        IsPersistent = persistent;
        if (!persistent)
            TensorScope.Current?.Track(this);
    }

    public IBackend Backend { get; }

    public Storage Storage { get; }

    /// <summary>Sizes, outermost first. Do not modify the returned array.</summary>
    public int[] Dimensions { get; }

    public long Length { get; }

    public int Rank => Dimensions.Length;

    /// <summary>Size of dimension <paramref name="dimension"/>.</summary>
    [System.Runtime.CompilerServices.IndexerName("Size")]
    public int this[int dimension] => Dimensions[dimension];

    public bool IsPersistent { get; }

    public bool IsDisposed { get; private set; }

    /// <summary>Whether backward passes accumulate a gradient for this tensor.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>Gradient of the last backward pass with respect to this tensor, with the same shape.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>Optional name used in error messages and state dictionaries.</summary>
    public string? Name { get; set; }

    /// <summary>Allocates a tensor with undefined contents.</summary>
    public static Tensor Empty(IBackend backend, int[] shape, bool persistent = false)
    {
        var copy = (int[])shape.Clone();
        return new Tensor(backend, backend.Allocate(Tensors.Shape.Elements(copy)), copy, persistent);
    }

    public static Tensor Zeros(IBackend backend, int[] shape, bool persistent = false) =>
        Full(backend, shape, 0f, persistent);

    public static Tensor Full(IBackend backend, int[] shape, float value, bool persistent = false)
    {
        var tensor = Empty(backend, shape, persistent);
        backend.Fill(tensor, value);
        return tensor;
    }

    /// <summary>Copies <paramref name="values"/> (row-major) into a new tensor on <paramref name="backend"/>.</summary>
    public static Tensor FromArray(IBackend backend, ReadOnlySpan<float> values, int[] shape, bool persistent = false)
    {
        long length = Tensors.Shape.Elements(shape);
        if (values.Length != length)
            throw new ArgumentException(
                $"{values.Length} values do not fill shape {Tensors.Shape.Format(shape)}, which needs {length}.");
        var tensor = Empty(backend, shape, persistent);
        backend.Upload(values, tensor);
        return tensor;
    }

    /// <summary>Returns a view with another shape of the same elements; it shares this tensor's storage.</summary>
    internal Tensor View(int[] shape)
    {
        if (Tensors.Shape.Elements(shape) != Length)
            throw new ArgumentException(
                $"Cannot view a tensor of shape {Tensors.Shape.Format(Dimensions)} as {Tensors.Shape.Format(shape)}.");
        Storage.AddReference();
        return new Tensor(Backend, Storage, (int[])shape.Clone(), persistent: false);
    }

    /// <summary>Copies the elements to a new host array (a device-to-host copy on the CUDA backend).</summary>
    public float[] ToArray()
    {
        var values = new float[Length];
        Backend.Download(this, values);
        return values;
    }

    /// <summary>Reads the single element of a one-element tensor.</summary>
    public float Item()
    {
        if (Length != 1)
            throw new InvalidOperationException(
                $"Item() needs a one-element tensor, but the shape is {Tensors.Shape.Format(Dimensions)}.");
        Span<float> value = stackalloc float[1];
        Backend.Download(this, value);
        return value[0];
    }

    /// <summary>Runs reverse-mode autograd from this scalar over the current tape.</summary>
    public void Backward() => Tape.Current.Backward(this);

    public void Dispose()
    {
        if (IsDisposed)
            return;
        IsDisposed = true;
        Storage.ReleaseReference();
        if (!IsPersistent)
            return;
        Grad?.Dispose();
        Grad = null;
    }

    public override string ToString() =>
        $"Tensor{Tensors.Shape.Format(Dimensions)} on {Backend.Name}" + (Name is null ? "" : $" '{Name}'");
}
