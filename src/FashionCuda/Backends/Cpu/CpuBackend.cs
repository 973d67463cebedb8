using System.Buffers;
using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cpu;

/// <summary>
/// The fast CPU backend: a packed SIMD GEMM under convolution and linear layers, vectorized elementwise kernels,
/// and a fixed pool of worker threads. Results match <see cref="IBackend"/>'s semantics up to float32 rounding,
/// since sums accumulate in float32 in a different order than the reference.
/// </summary>
/// <remarks>
/// Tensors live in host arrays from a <see cref="HostBufferPool"/>. Kernels keep their scratch buffers (GEMM
/// packing, im2col columns) between calls, so a training loop with fixed shapes stops allocating after its first
/// step. The pool counts those buffers too, so <see cref="PeakBytesInUse"/> covers tensors and scratch. Like the
/// other backends, an instance serves one calling thread at a time.
/// </remarks>
public sealed partial class CpuBackend : IBackend, IDisposable
{
    // Element counts below which a memory-bound kernel runs on the calling thread alone.
    private const int MinParallelElements = 1 << 15;

    private readonly HostBufferPool buffers = new();
    private readonly WorkerPool pool;
    private readonly Gemm gemm;

    /// <param name="threadCount">Threads a kernel may use, the caller included (default: the processor count).</param>
    public CpuBackend(int? threadCount = null)
    {
        int threads = threadCount ?? Environment.ProcessorCount;
        if (threads < 1)
            throw new ArgumentOutOfRangeException(nameof(threadCount), threads, "The thread count must be at least 1.");
        pool = new WorkerPool(threads);
        gemm = new Gemm(pool);
        buffers.AddScratch(gemm.WorkspaceBytes);
    }

    public string Name => "cpu";

    public int ThreadCount => pool.ThreadCount;

    /// <summary>
    /// Bytes of tensor storage handed out by the buffer pool plus kernel scratch: the GEMM packing workspaces,
    /// the convolution's im2col and staging buffers, and the temporaries of local response normalization.
    /// </summary>
    public long BytesInUse => buffers.BytesInUse;

    /// <summary>The part of <see cref="BytesInUse"/> that is kernel scratch rather than tensors.</summary>
    public long ScratchBytesInUse => buffers.ScratchBytesInUse;

    /// <summary>Tensor arrays created so far rather than reused from the pool.</summary>
    public long ArraysCreated => buffers.ArraysCreated;

    public long PeakBytesInUse => buffers.PeakBytesInUse;

    public void ResetPeakMemory() => buffers.ResetPeak();

    public Storage Allocate(long length) => buffers.Rent(length);

    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        var target = Data(destination);
        if (source.Length != target.Length)
            throw new ArgumentException(
                $"Upload of {source.Length} values into {destination}, which has {target.Length} elements.");
        source.CopyTo(target);
    }

    public void Download(Tensor source, Span<float> destination)
    {
        var values = Data(source);
        if (destination.Length != values.Length)
            throw new ArgumentException(
                $"Download of {source} ({values.Length} elements) into a span of {destination.Length}.");
        values.CopyTo(destination);
    }

    public void Fill(Tensor tensor, float value) => Data(tensor).Fill(value);

    public void Copy(Tensor source, Tensor destination)
    {
        RequireSameLength(source, destination);
        // Split like the elementwise ops: autograd copies whole activations, e.g. the gradient of a residual add.
        float[] from = Array(source), to = Array(destination);
        ForRanges((int)source.Length, (start, count) => from.AsSpan(start, count).CopyTo(to.AsSpan(start, count)));
    }

    public void Dispose()
    {
        gemm.Dispose();
        pool.Dispose();
    }

    /// <summary>Returns the host elements of a tensor of this backend.</summary>
    private Span<float> Data(Tensor tensor)
    {
        if (!ReferenceEquals(tensor.Backend, this) || tensor.Storage is not HostStorage storage)
            throw new ArgumentException($"{tensor} does not belong to this CPU backend; copy it here first.");
        if (tensor.IsDisposed || storage.IsReleased)
            throw new ObjectDisposedException(tensor.ToString(), "The tensor was disposed before a kernel used it.");
        return storage.Data.AsSpan(0, checked((int)tensor.Length));
    }

    /// <summary>Replaces a kept scratch array with a longer, uninitialized one, and moves its count along.</summary>
    private float[] GrowScratch(float[] old, long length)
    {
        buffers.RemoveScratch(4L * old.Length);
        var array = GC.AllocateUninitializedArray<float>(checked((int)length));
        buffers.AddScratch(4L * array.Length);
        return array;
    }

    /// <summary>Rents a temporary array of at least <paramref name="length"/> elements, counted as scratch.</summary>
    private float[] RentScratch(int length)
    {
        var array = ArrayPool<float>.Shared.Rent(length);
        buffers.AddScratch(4L * array.Length);
        return array;
    }

    private void ReturnScratch(float[] array)
    {
        buffers.RemoveScratch(4L * array.Length);
        ArrayPool<float>.Shared.Return(array);
    }

    private float[] Array(Tensor tensor)
    {
        Data(tensor);
        return ((HostStorage)tensor.Storage).Data;
    }

    private static void RequireSameLength(Tensor a, Tensor b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"{a} and {b} must have the same number of elements.");
    }

    private static void RequireLength(Tensor tensor, long expected, string role)
    {
        if (tensor.Length != expected)
            throw new ArgumentException(
                $"The {role} {tensor} has {tensor.Length} elements, but {expected} are expected here.");
    }

    /// <summary>Requires a rank-4 (N, C, H, W) tensor and returns its sizes.</summary>
    private static (int N, int C, int H, int W) Nchw(Tensor tensor, string role)
    {
        if (tensor.Rank != 4)
            throw new ArgumentException($"The {role} must be (N, C, H, W), but it is {tensor}.");
        var d = tensor.Dimensions;
        return (d[0], d[1], d[2], d[3]);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, count) over [0, length) in a few contiguous chunks, in parallel when
    /// the range is long enough to pay for waking the workers.
    /// </summary>
    private void ForRanges(int length, Action<int, int> body)
    {
        int chunks = length < MinParallelElements
            ? 1
            : Math.Min(4 * pool.ThreadCount, length / (MinParallelElements / 4));
        if (chunks <= 1)
        {
            body(0, length);
            return;
        }
        // Chunk starts are multiples of 16 floats so that every chunk but the last begins on a 64-byte line.
        int chunkSize = (length / chunks + 15) & ~15;
        int count = (length + chunkSize - 1) / chunkSize;
        pool.For(count, i =>
        {
            int start = i * chunkSize;
            body(start, Math.Min(chunkSize, length - start));
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/>(i) for i in [0, count), in parallel when the work is large. The workers take
    /// runs of consecutive items, at most 8 runs per thread, so that thousands of small items (the 3×3 planes of
    /// a late pooling layer) do not each pay for a turn at the pool's shared counter.
    /// </summary>
    private void ForItems(int count, long elementsPerItem, Action<int> body)
    {
        long total = count * elementsPerItem;
        if (total < MinParallelElements)
        {
            for (int i = 0; i < count; i++)
                body(i);
            return;
        }
        long runs = Math.Min(8L * pool.ThreadCount, total / (MinParallelElements / 4));
        if (runs >= count)
        {
            pool.For(count, body);
            return;
        }
        int runLength = (int)((count + runs - 1) / runs);
        pool.For((count + runLength - 1) / runLength, run =>
        {
            int end = Math.Min(count, (run + 1) * runLength);
            for (int i = run * runLength; i < end; i++)
                body(i);
        });
    }
}
