using FashionCuda.Backends.Cuda;

namespace FashionCuda.Tests.Backends.Cuda;

public sealed class LaunchShapeTests
{
    [Theory]
    [InlineData(0, 256, 0)]
    [InlineData(1, 256, 1)]
    [InlineData(256, 256, 1)]
    [InlineData(257, 256, 2)]
    [InlineData(5_000_000_000, 256, 19_531_250)]
    [InlineData(long.MaxValue, 1024, 9_007_199_254_740_992)]
    public void CeilDivRoundsUpIn64Bits(long a, long b, long expected) =>
        Assert.Equal(expected, LaunchShape.CeilDiv(a, b));

    [Fact]
    public void CeilDivRejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LaunchShape.CeilDiv(-1, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => LaunchShape.CeilDiv(4, 0));
    }

    [Fact]
    public void ElementwiseCoversOddLength()
    {
        var shape = LaunchShape.Elementwise(1001, 128);
        Assert.Equal(8u, shape.GridX);
        Assert.Equal(128u, shape.BlockX);
        Assert.True(shape.Threads >= 1001);
    }

    [Fact]
    public void ElementwiseCapsGridForHugeLengths()
    {
        // 2^40 elements need more blocks than a grid holds; the grid-stride loop covers the rest.
        var shape = LaunchShape.Elementwise(1L << 40, 256);
        Assert.Equal((uint)int.MaxValue, shape.GridX);
        var capped = LaunchShape.Elementwise(1L << 20, 256, maxBlocks: 132 * 4);
        Assert.Equal(528u, capped.GridX);
    }

    [Fact]
    public void EmptyLengthStillLaunchesOneBlock() => Assert.Equal(1u, LaunchShape.Elementwise(0, 256).GridX);

    [Fact]
    public void WarpPerRowPacksRowsPerBlock()
    {
        var shape = LaunchShape.WarpPerRow(1000, 256); // 8 rows per block
        Assert.Equal(125u, shape.GridX);
        Assert.Equal(126u, LaunchShape.WarpPerRow(1001, 256).GridX);
    }

    [Fact]
    public void BlockPerRowUsesOneBlockEach()
    {
        var shape = LaunchShape.BlockPerRow(128 * 64, 512, sharedMemoryBytes: 2048);
        Assert.Equal(8192u, shape.GridX);
        Assert.Equal(2048u, shape.SharedMemoryBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => LaunchShape.BlockPerRow(0, 256));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(100)]
    [InlineData(2048)]
    public void InvalidBlockSizesAreRejected(int blockSize) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LaunchShape.Elementwise(10, blockSize));

    [Fact]
    public void ArgumentsFillSlotsInOrder()
    {
        using var arguments = new KernelArguments();
        arguments.Clear().Add(0xdead_beef_0000_1000UL).Add(-1L).Add(7).Add(1.5f);
        Assert.Equal(4, arguments.Count);
        Assert.Equal(0xdead_beef_0000_1000UL, arguments.FirstSlotOf(0));
        Assert.Equal(ulong.MaxValue, arguments.FirstSlotOf(1));
        Assert.Equal(7UL, arguments.FirstSlotOf(2)); // a 4-byte int in the low half, upper half zero
        Assert.Equal((ulong)BitConverter.SingleToUInt32Bits(1.5f), arguments.FirstSlotOf(3));
    }

    private readonly record struct FiveInts(int A, int B, int C, int D, int E);

    [Fact]
    public void StructArgumentTakesWholeSlots()
    {
        using var arguments = new KernelArguments();
        arguments.Clear().Add(1UL).AddValue(new FiveInts(1, 2, 3, 4, 5)).Add(9);
        Assert.Equal(0, arguments.SlotOffsetOf(0));
        Assert.Equal(1, arguments.SlotOffsetOf(1));
        Assert.Equal(4, arguments.SlotOffsetOf(2)); // 20 bytes take 3 slots
        Assert.Equal(1UL | (2UL << 32), arguments.FirstSlotOf(1));
        arguments.Clear();
        Assert.Equal(0, arguments.Count);
    }

    [Fact]
    public void TooManyArgumentsAreRejected()
    {
        using var arguments = new KernelArguments();
        for (int i = 0; i < KernelArguments.SlotCapacity; i++)
            arguments.Add(i);
        Assert.Throws<InvalidOperationException>(() => arguments.Add(0));
    }
}
