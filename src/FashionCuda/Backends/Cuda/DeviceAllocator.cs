using FashionCuda.Backends.Cuda.Interop;
using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

/// <summary>Raw device memory: one <c>cuMemAlloc</c> or <c>cuMemFree</c> per call. Tests fake it.</summary>
public interface IDeviceMemory
{
    /// <summary>Allocates <paramref name="bytes"/> (&gt; 0) and returns the device address.</summary>
    /// <exception cref="DeviceOutOfMemoryException">The device has not enough free memory.</exception>
    ulong Allocate(long bytes);

    void Free(ulong address);
}

/// <summary>A raw allocation failed because the device is out of memory.</summary>
public sealed class DeviceOutOfMemoryException(long bytes, Exception? inner = null)
    : Exception($"The device is out of memory: an allocation of {bytes} bytes failed.", inner)
{
    public long Bytes { get; } = bytes;
}

/// <summary>The driver's allocator.</summary>
internal sealed class DriverDeviceMemory : IDeviceMemory
{
    // NOTE: never run on a GPU.
    public ulong Allocate(long bytes)
    {
        var result = CudaDriver.cuMemAlloc(out ulong address, (nuint)bytes);
        if (result == CudaResult.OutOfMemory)
            throw new DeviceOutOfMemoryException(bytes);
        CudaDriver.Check(result, "cuMemAlloc_v2");
        return address;
    }

    public void Free(ulong address) => CudaDriver.Check(CudaDriver.cuMemFree(address), "cuMemFree_v2");
}

/// <summary>
/// A caching allocator for device buffers, in the manner of PyTorch's: requests are rounded up to a size bucket,
/// freed blocks go to a free list per bucket, and a later request of the same bucket reuses one. A training loop
/// whose shapes repeat therefore calls <c>cuMemAlloc</c> only during its first step.
/// </summary>
/// <remarks>
/// Buckets: up to 1 MiB, multiples of 512 bytes; above, multiples of 2 MiB. When a raw allocation runs out of
/// memory, the allocator frees every cached block and tries once more. Not thread-safe, like the backend that
/// owns it.
/// </remarks>
public sealed class CachingDeviceAllocator : IDisposable
{
    public const long SmallGranularity = 512;
    public const long SmallLimit = 1L << 20;
    public const long LargeGranularity = 2L << 20;

    private readonly IDeviceMemory memory;
    private readonly Dictionary<long, Stack<ulong>> free = new();
    private readonly Dictionary<ulong, long> live = new();
    private bool disposed;

    public CachingDeviceAllocator(IDeviceMemory memory)
    {
        this.memory = memory;
    }

    /// <summary>Bucket bytes handed out and not yet returned.</summary>
    public long BytesInUse { get; private set; }

    /// <summary>Maximum of <see cref="BytesInUse"/> since creation or <see cref="ResetPeak"/>.</summary>
    public long PeakBytesInUse { get; private set; }

    /// <summary>Bytes obtained from the device: in use plus cached.</summary>
    public long BytesReserved { get; private set; }

    /// <summary>Calls to <see cref="IDeviceMemory.Allocate"/> so far.</summary>
    public long RawAllocations { get; private set; }

    /// <summary>Requests served from the free lists.</summary>
    public long CacheHits { get; private set; }

    /// <summary>The bucket a request of <paramref name="bytes"/> is served from.</summary>
    public static long BucketSize(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        long granularity = bytes <= SmallLimit ? SmallGranularity : LargeGranularity;
        return LaunchShape.CeilDiv(bytes, granularity) * granularity;
    }

    /// <summary>Returns a block of at least <paramref name="bytes"/> (&gt; 0) bytes and its bucket size.</summary>
    public (ulong Address, long Bucket) Rent(long bytes)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        long bucket = BucketSize(bytes);
        ulong address;
        if (free.TryGetValue(bucket, out var stack) && stack.Count > 0)
        {
            address = stack.Pop();
            CacheHits++;
        }
        else
            address = AllocateRaw(bucket);
        live[address] = bucket;
        BytesInUse += bucket;
        PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
        return (address, bucket);
    }

    /// <summary>Puts a block back on its bucket's free list; the device memory stays reserved for reuse.</summary>
    public void Return(ulong address)
    {
        if (disposed)
            return; // the device memory went with the allocator
        if (!live.Remove(address, out long bucket))
            throw new InvalidOperationException($"Device address 0x{address:x} was not handed out by this allocator.");
        BytesInUse -= bucket;
        if (!free.TryGetValue(bucket, out var stack))
            free[bucket] = stack = new Stack<ulong>();
        stack.Push(address);
    }

    /// <summary>Frees every cached block to the device; blocks in use are kept.</summary>
    public void ReleaseCached()
    {
        foreach (var (bucket, stack) in free)
        {
            while (stack.Count > 0)
            {
                memory.Free(stack.Pop());
                BytesReserved -= bucket;
            }
        }
        free.Clear();
    }

    public void ResetPeak() => PeakBytesInUse = BytesInUse;

    /// <summary>Frees all device memory, cached and in use; storages still alive then point at freed memory.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        ReleaseCached();
        foreach (var address in live.Keys)
            memory.Free(address);
        live.Clear();
        BytesReserved = 0;
        BytesInUse = 0;
        disposed = true;
    }

    private ulong AllocateRaw(long bucket)
    {
        ulong address;
        try
        {
            RawAllocations++;
            address = memory.Allocate(bucket);
        }
        catch (DeviceOutOfMemoryException)
        {
            ReleaseCached();
            RawAllocations++;
            address = memory.Allocate(bucket);
        }
        BytesReserved += bucket;
        return address;
    }
}

/// <summary>
/// A tensor's device buffer from a <see cref="CachingDeviceAllocator"/>. An empty tensor has address 0 and no
/// block.
/// </summary>
public sealed class DeviceStorage : Storage
{
    private readonly CachingDeviceAllocator? allocator;

    internal DeviceStorage(CachingDeviceAllocator allocator, long length) : base(length)
    {
        if (length < 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, "A tensor length cannot be negative.");
        if (length == 0)
            return;
        this.allocator = allocator;
        (Address, BucketBytes) = allocator.Rent(checked(length * sizeof(float)));
    }

    /// <summary>The device address of element 0 (a <c>CUdeviceptr</c>).</summary>
    public ulong Address { get; }

    /// <summary>Size of the block behind this storage, at least 4·Length bytes.</summary>
    public long BucketBytes { get; }

    protected override void Free()
    {
        if (Address != 0)
            allocator?.Return(Address);
    }
}
