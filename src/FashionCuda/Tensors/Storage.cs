namespace FashionCuda.Tensors;

/// <summary>
/// A flat buffer of float32 values owned by one backend. Views made by <see cref="Tensor.Reshape"/> share a
/// storage, so it is reference-counted and goes back to its backend's pool when the last tensor releases it.
/// </summary>
public abstract class Storage
{
    private int referenceCount = 1;

    protected Storage(long length)
    {
        Length = length;
    }

    /// <summary>Number of float32 elements.</summary>
    public long Length { get; }

    public bool IsReleased => referenceCount <= 0;

    internal void AddReference()
    {
        if (referenceCount <= 0)
            throw new ObjectDisposedException(nameof(Storage), "A view was requested of a released storage.");
        referenceCount++;
    }

    internal void ReleaseReference()
    {
        if (referenceCount <= 0)
            return;
        referenceCount--;
        if (referenceCount == 0)
            Free();
    }

    /// <summary>Returns the buffer to the backend's pool; called once, when the last reference goes.</summary>
    protected abstract void Free();
}

/// <summary>
/// Host memory for the reference and fast CPU backends. <see cref="Data"/> may be longer than
/// <see cref="Storage.Length"/> because the pool hands out buffers by size bucket.
/// </summary>
public sealed class HostStorage : Storage
{
    private readonly HostBufferPool? pool;

    internal HostStorage(float[] data, long length, HostBufferPool? pool) : base(length)
    {
        Data = data;
        this.pool = pool;
    }

    public float[] Data { get; }

    public Span<float> Span => Data.AsSpan(0, checked((int)Length));

    protected override void Free() => pool?.Return(Data);
}

/// <summary>
/// A caching allocator for host buffers: arrays are kept per exact length and reused, so a training loop whose
/// shapes repeat allocates no new arrays after its first step.
/// </summary>
public sealed class HostBufferPool
{
    private readonly Dictionary<int, Stack<float[]>> free = new();
    private readonly object gate = new();

    /// <summary>Bytes handed out as tensors now, plus the kernel scratch counted by <see cref="AddScratch"/>.</summary>
    public long BytesInUse { get; private set; }

    /// <summary>Bytes of kernel scratch counted now, which <see cref="BytesInUse"/> includes.</summary>
    public long ScratchBytesInUse { get; private set; }

    /// <summary>Maximum of <see cref="BytesInUse"/> since creation or the last <see cref="ResetPeak"/>.</summary>
    public long PeakBytesInUse { get; private set; }

    /// <summary>Number of arrays created (not reused) so far.</summary>
    public long ArraysCreated { get; private set; }

    public HostStorage Rent(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        // OverflowException, as for a product of sizes past int, so the CLI reports a model or batch too large.
        if (length > Array.MaxLength)
            throw new OverflowException($"A host tensor of {length} elements is past the limit of {Array.MaxLength}.");
        int size = (int)length;
        float[]? data = null;
        lock (gate)
        {
            if (free.TryGetValue(size, out var stack) && stack.Count > 0)
                data = stack.Pop();
            BytesInUse += 4L * size;
            PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
            if (data is null)
                ArraysCreated++;
        }
        data ??= GC.AllocateUninitializedArray<float>(size);
        return new HostStorage(data, size, this);
    }

    internal void Return(float[] data)
    {
        lock (gate)
        {
            BytesInUse -= 4L * data.Length;
            if (!free.TryGetValue(data.Length, out var stack))
                free[data.Length] = stack = new Stack<float[]>();
            stack.Push(data);
        }
    }

    /// <summary>
    /// Counts a scratch buffer that a backend allocated outside this pool (GEMM packing, im2col columns) as in use,
    /// so that <see cref="PeakBytesInUse"/> covers it.
    /// </summary>
    internal void AddScratch(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (gate)
        {
            ScratchBytesInUse += bytes;
            BytesInUse += bytes;
            PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
        }
    }

    /// <summary>Stops counting scratch bytes that <see cref="AddScratch"/> counted, when the buffer is freed.</summary>
    internal void RemoveScratch(long bytes)
    {
        lock (gate)
        {
            if (bytes < 0 || bytes > ScratchBytesInUse)
                throw new ArgumentOutOfRangeException(nameof(bytes), bytes,
                    $"Only {ScratchBytesInUse} scratch bytes are counted, so {bytes} cannot be removed.");
            ScratchBytesInUse -= bytes;
            BytesInUse -= bytes;
        }
    }

    public void ResetPeak()
    {
        lock (gate)
            PeakBytesInUse = BytesInUse;
    }
}
