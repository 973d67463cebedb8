namespace FashionCuda.Backends.Cuda;

/// <summary>The grid and block of one kernel launch, plus its dynamic shared memory in bytes.</summary>
public readonly record struct LaunchShape(
    uint GridX, uint GridY, uint GridZ, uint BlockX, uint BlockY, uint BlockZ, uint SharedMemoryBytes = 0)
{
    /// <summary>The largest grid x dimension every device since compute capability 3.0 accepts (2^31 − 1).</summary>
    public const long MaxGridX = int.MaxValue;

    /// <summary>The largest grid y and z dimension (65535).</summary>
    public const long MaxGridYz = 65535;

    public const int MaxThreadsPerBlock = 1024;

    public long Threads => (long)GridX * GridY * GridZ * BlockX * BlockY * BlockZ;

    /// <summary>⌈a / b⌉ for a ≥ 0 and b &gt; 0, in 64 bits so that element counts past 2^31 do not overflow.</summary>
    public static long CeilDiv(long a, long b)
    {
        if (a < 0 || b <= 0)
            throw new ArgumentOutOfRangeException(nameof(a), $"CeilDiv needs a ≥ 0 and b > 0, got {a} and {b}.");
        return a / b + (a % b == 0 ? 0 : 1);
    }

    /// <summary>
    /// A 1-D launch over <paramref name="elements"/> items, one thread each, for kernels with a grid-stride loop:
    /// the grid is capped at <paramref name="maxBlocks"/>, and the loop covers what the cap leaves out.
    /// </summary>
    public static LaunchShape Elementwise(long elements, int blockSize, long maxBlocks = MaxGridX)
    {
        ValidateBlock(blockSize);
        if (maxBlocks < 1 || maxBlocks > MaxGridX)
            throw new ArgumentOutOfRangeException(nameof(maxBlocks), maxBlocks, $"The block cap must be in [1, {MaxGridX}].");
        long blocks = Math.Clamp(CeilDiv(elements, blockSize), 1, maxBlocks);
        return new LaunchShape((uint)blocks, 1, 1, (uint)blockSize, 1, 1);
    }

    /// <summary>
    /// One block per row (plane, channel, sample) for reduction kernels; rows beyond the x limit would need a
    /// second grid dimension, which no shape here reaches, so they are rejected.
    /// </summary>
    public static LaunchShape BlockPerRow(long rows, int blockSize, uint sharedMemoryBytes = 0)
    {
        ValidateBlock(blockSize);
        if (rows < 1 || rows > MaxGridX)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A block-per-row launch takes 1 to {MaxGridX} rows.");
        return new LaunchShape((uint)rows, 1, 1, (uint)blockSize, 1, 1, sharedMemoryBytes);
    }

    /// <summary>One 32-thread warp per row, <paramref name="blockSize"/>/32 rows per block.</summary>
    public static LaunchShape WarpPerRow(long rows, int blockSize)
    {
        ValidateBlock(blockSize);
        long rowsPerBlock = blockSize / 32;
        long blocks = CeilDiv(rows, rowsPerBlock);
        if (blocks > MaxGridX)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "Too many rows for one warp-per-row launch.");
        return new LaunchShape((uint)Math.Max(blocks, 1), 1, 1, (uint)blockSize, 1, 1);
    }

    /// <summary>Requires a block size that is a whole number of warps, from 32 to 1024 threads.</summary>
    public static void ValidateBlock(int blockSize)
    {
        if (blockSize < 32 || blockSize > MaxThreadsPerBlock || blockSize % 32 != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize,
                "The block size must be a multiple of 32 between 32 and 1024.");
    }
}
