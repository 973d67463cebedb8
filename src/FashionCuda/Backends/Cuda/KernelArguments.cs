using System.Runtime.InteropServices;

namespace FashionCuda.Backends.Cuda;

/// <summary>
/// The <c>kernelParams</c> array of <c>cuLaunchKernel</c>: one 8-byte slot per argument in unmanaged memory and
/// an array of pointers to the slots. The driver copies each argument by the size the kernel declares, from the
/// start of its slot, so 4-byte values (int, float) sit in the low half of theirs (x64 is little-endian).
/// </summary>
/// <remarks>One instance is reused for every launch of a backend; <see cref="Clear"/> starts the next list.</remarks>
public sealed unsafe class KernelArguments : IDisposable
{
    public const int Capacity = 24;

    private readonly ulong* slots;
    private readonly void** pointers;
    private bool disposed;

    public KernelArguments()
    {
        slots = (ulong*)NativeMemory.AllocZeroed(Capacity, sizeof(ulong));
        pointers = (void**)NativeMemory.AllocZeroed(Capacity, (nuint)sizeof(void*));
        for (int i = 0; i < Capacity; i++)
            pointers[i] = slots + i;
    }

    public int Count { get; private set; }

    /// <summary>The array to pass as <c>kernelParams</c>.</summary>
    internal void** Pointers => pointers;

    public KernelArguments Clear()
    {
        Count = 0;
        return this;
    }

    /// <summary>A device pointer or any 64-bit integer (<c>long long</c>, <c>unsigned long long</c>).</summary>
    public KernelArguments Add(ulong value)
    {
        Next() = value;
        return this;
    }

    public KernelArguments Add(long value) => Add(unchecked((ulong)value));

    public KernelArguments Add(int value)
    {
        Next() = unchecked((uint)value);
        return this;
    }

    public KernelArguments Add(float value)
    {
        Next() = BitConverter.SingleToUInt32Bits(value);
        return this;
    }

    /// <summary>The raw 8 bytes of slot <paramref name="index"/>, for tests.</summary>
    public ulong Slot(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return slots[index];
    }

    /// <summary>Whether entry <paramref name="index"/> of the pointer array points at slot <paramref name="index"/>.</summary>
    public bool PointsAtSlot(int index) => pointers[index] == slots + index;

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        NativeMemory.Free(slots);
        NativeMemory.Free(pointers);
    }

    private ref ulong Next()
    {
        if (Count == Capacity)
            throw new InvalidOperationException($"A kernel launch takes at most {Capacity} arguments here.");
        slots[Count] = 0;
        return ref slots[Count++];
    }
}
