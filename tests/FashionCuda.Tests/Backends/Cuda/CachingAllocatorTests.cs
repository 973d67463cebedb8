using FashionCuda.Backends.Cuda;

namespace FashionCuda.Tests.Backends.Cuda;

public sealed class CachingAllocatorTests
{
    /// <summary>Hands out increasing fake addresses and records every raw call; can run out of memory.</summary>
    private sealed class FakeDeviceMemory : IDeviceMemory
    {
        private ulong next = 0x1000;

        public long Capacity { get; init; } = long.MaxValue;

        public Dictionary<ulong, long> Live { get; } = new();

        public int Allocations { get; private set; }

        public int Frees { get; private set; }

        public ulong Allocate(long bytes)
        {
            Allocations++;
            if (Live.Values.Sum() + bytes > Capacity)
                throw new DeviceOutOfMemoryException(bytes);
            ulong address = next;
            next += (ulong)bytes;
            Live[address] = bytes;
            return address;
        }

        public void Free(ulong address)
        {
            Frees++;
            Assert.True(Live.Remove(address), $"0x{address:x} was freed twice or never allocated.");
        }
    }

    [Theory]
    [InlineData(1, 512)]
    [InlineData(512, 512)]
    [InlineData(513, 1024)]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData((1 << 20) + 1, 2 << 20)]
    [InlineData(5L << 20, 6L << 20)]
    public void RequestsRoundUpToBucket(long bytes, long bucket) =>
        Assert.Equal(bucket, CachingDeviceAllocator.BucketSize(bytes));

    [Fact]
    public void ZeroBytesAreRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CachingDeviceAllocator.BucketSize(0));

    [Fact]
    public void ReturnedBlockIsReused()
    {
        var memory = new FakeDeviceMemory();
        using var allocator = new CachingDeviceAllocator(memory);
        var (first, _) = allocator.Rent(1000);
        allocator.Return(first);
        var (second, bucket) = allocator.Rent(900); // same 1024-byte bucket
        Assert.Equal(first, second);
        Assert.Equal(1024, bucket);
        Assert.Equal(1, memory.Allocations);
        Assert.Equal(1, allocator.CacheHits);
    }

    [Fact]
    public void OtherBucketAllocatesAnew()
    {
        var memory = new FakeDeviceMemory();
        using var allocator = new CachingDeviceAllocator(memory);
        var (first, _) = allocator.Rent(1000);
        allocator.Return(first);
        allocator.Rent(4000);
        Assert.Equal(2, memory.Allocations);
    }

    [Fact]
    public void RepeatedStepsAllocateOnlyOnce()
    {
        var memory = new FakeDeviceMemory();
        using var allocator = new CachingDeviceAllocator(memory);
        long[] step = [4 * 128 * 784, 4 * 128, 4 * 64 * 9, 4 * 128 * 64 * 28 * 28, 4 * 10, 4 * 128 * 64 * 28 * 28];
        for (int iteration = 0; iteration < 5; iteration++)
        {
            var blocks = step.Select(bytes => allocator.Rent(bytes).Address).ToList();
            foreach (var address in blocks)
                allocator.Return(address);
            if (iteration == 0)
                Assert.Equal(step.Length, memory.Allocations);
        }
        Assert.Equal(step.Length, allocator.RawAllocations);
        Assert.Equal(step.Length, memory.Allocations);
        Assert.Equal(0, allocator.BytesInUse);
    }

    [Fact]
    public void PeakTracksMaximumInUse()
    {
        using var allocator = new CachingDeviceAllocator(new FakeDeviceMemory());
        var (a, _) = allocator.Rent(512);
        var (b, _) = allocator.Rent(1024);
        allocator.Return(a);
        allocator.Rent(512); // reuses a's block
        Assert.Equal(1536, allocator.BytesInUse);
        Assert.Equal(1536, allocator.PeakBytesInUse);
        allocator.Return(b);
        Assert.Equal(512, allocator.BytesInUse);
        Assert.Equal(1536, allocator.PeakBytesInUse);
        allocator.ResetPeak();
        Assert.Equal(512, allocator.PeakBytesInUse);
        Assert.Equal(1536, allocator.BytesReserved);
    }

    [Fact]
    public void OutOfMemoryReleasesCacheAndRetries()
    {
        var memory = new FakeDeviceMemory { Capacity = 5L << 20 };
        using var allocator = new CachingDeviceAllocator(memory);
        var (cached, _) = allocator.Rent(2L << 20);
        allocator.Return(cached); // 2 MiB cached, 3 MiB left on the fake device
        var (fresh, bucket) = allocator.Rent(4L << 20);
        Assert.Equal(4L << 20, bucket);
        Assert.Equal(4L << 20, memory.Live[fresh]);
        Assert.Equal(1, memory.Frees);
        Assert.Equal(3, memory.Allocations); // the cached block, the failed try, the retry
        Assert.Equal(4L << 20, allocator.BytesReserved);
    }

    [Fact]
    public void OutOfMemoryAfterRetryPropagates()
    {
        var memory = new FakeDeviceMemory { Capacity = 1 << 20 };
        using var allocator = new CachingDeviceAllocator(memory);
        var error = Assert.Throws<DeviceOutOfMemoryException>(() => allocator.Rent(8 << 20));
        Assert.Equal(8L << 20, error.Bytes);
    }

    [Fact]
    public void UnknownAddressIsRejected()
    {
        using var allocator = new CachingDeviceAllocator(new FakeDeviceMemory());
        var error = Assert.Throws<InvalidOperationException>(() => allocator.Return(0xdead));
        Assert.Contains("0xdead", error.Message);
    }

    [Fact]
    public void DisposeFreesEverything()
    {
        var memory = new FakeDeviceMemory();
        var allocator = new CachingDeviceAllocator(memory);
        var (kept, _) = allocator.Rent(512);
        var (returned, _) = allocator.Rent(4096);
        allocator.Return(returned);
        allocator.Dispose();
        Assert.Empty(memory.Live);
        Assert.Equal(2, memory.Frees);
        allocator.Return(kept); // a storage released after its backend: ignored
        Assert.Throws<ObjectDisposedException>(() => allocator.Rent(1));
    }

    [Fact]
    public void DeviceStorageReturnsBlockOnRelease()
    {
        var memory = new FakeDeviceMemory();
        using var allocator = new CachingDeviceAllocator(memory);
        var storage = new DeviceStorage(allocator, 300);
        Assert.Equal(1536, storage.BucketBytes); // 1200 bytes round up to 3 × 512
        Assert.Equal(1536, allocator.BytesInUse);
        storage.ReleaseReference();
        Assert.Equal(0, allocator.BytesInUse);
        var empty = new DeviceStorage(allocator, 0);
        Assert.Equal(0UL, empty.Address);
        Assert.Equal(1, memory.Allocations);
    }
}
