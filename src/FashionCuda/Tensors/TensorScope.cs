namespace FashionCuda.Tensors;

/// <summary>
/// Collects the non-persistent tensors made on this thread while it is open and disposes them when it closes.
/// A training step opens one, so activations, gradients of activations and temporaries go back to the pool.
/// Scopes nest; a tensor belongs to the innermost open scope.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? current;

    private readonly TensorScope? parent;
    private readonly List<Tensor> tensors = new();
    private bool closed;

    public TensorScope()
    {
        parent = current;
        current = this;
    }

    internal static TensorScope? Current => current;

    internal void Track(Tensor tensor) => tensors.Add(tensor);

    /// <summary>Moves <paramref name="tensor"/> to the enclosing scope (or to none), so it outlives this one.</summary>
    public Tensor Keep(Tensor tensor)
    {
        if (tensors.Remove(tensor))
            parent?.Track(tensor);
        return tensor;
    }

    public void Dispose()
    {
        if (closed)
            return;
        closed = true;
        if (current != this)
            throw new InvalidOperationException("Tensor scopes must close in the reverse order of opening.");
        current = parent;
        foreach (var tensor in tensors)
            tensor.Dispose();
        tensors.Clear();
    }
}
