using System.Runtime.InteropServices;

namespace FashionCuda.Backends.Cuda;

/// <summary>
/// The <c>kernelParams</c> array of <c>cuLaunchKernel</c>: argument values packed into 8-byte slots of unmanaged
/// memory and an array with one pointer per argument to its first slot. The driver copies each argument by the
/// size the kernel declares, from the start of its slot, so 4-byte values (int, float) sit in the low half of
/// theirs (x64 is little-endian) and a struct takes as many whole slots as it needs.
/// </summary>
/// <remarks>One instance is reused for every launch of a backend; <see cref="Clear"/> starts the next list.</remarks>
public sealed unsafe class KernelArguments : IDisposable
{
    public const int SlotCapacity = 32;

    private readonly ulong* slots;
    private readonly void** pointers;
    private int slotsUsed;
    private bool disposed;

    public KernelArguments()
    {
        slots = (ulong*)NativeMemory.AllocZeroed(SlotCapacity, sizeof(ulong));
        pointers = (void**)NativeMemory.AllocZeroed(SlotCapacity, (nuint)sizeof(void*));
    }

    /// <summary>Number of arguments added since the last <see cref="Clear"/>.</summary>
    public int Count { get; private set; }

    /// <summary>The array to pass as <c>kernelParams</c>.</summary>
    internal void** Pointers => pointers;

    public KernelArguments Clear()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Count = 0;
        slotsUsed = 0;
        return this;
    }

    /// <summary>A device pointer or any 64-bit integer (<c>long long</c>, <c>unsigned long long</c>).</summary>
    public KernelArguments Add(ulong value) => AddValue(value);

    public KernelArguments Add(long value) => AddValue(value);

    public KernelArguments Add(int value) => AddValue(value);

    public KernelArguments Add(float value) => AddValue(value);

    /// <summary>A value of any unmanaged type, such as a struct the kernel takes by value.</summary>
    public KernelArguments AddValue<T>(T value) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        int needed = (sizeof(T) + sizeof(ulong) - 1) / sizeof(ulong);
        if (slotsUsed + needed > SlotCapacity)
            throw new InvalidOperationException($"A kernel launch takes at most {SlotCapacity} 8-byte slots here.");
        ulong* start = slots + slotsUsed;
        new Span<ulong>(start, needed).Clear();
        *(T*)start = value;
        pointers[Count++] = start;
        slotsUsed += needed;
        return this;
    }

    /// <summary>The first 8 bytes of argument <paramref name="index"/>, for tests.</summary>
    public ulong FirstSlotOf(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return *(ulong*)pointers[index];
    }

    /// <summary>The slot offset, in 8-byte units, at which argument <paramref name="index"/> starts, for tests.</summary>
    public long SlotOffsetOf(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return (ulong*)pointers[index] - slots;
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        NativeMemory.Free(slots);
        NativeMemory.Free(pointers);
    }
}
