using FashionCuda.Backends.Cuda.Interop;
using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

/// <summary>
/// The CUDA backend: tensors in device memory from a caching allocator, cuDNN for convolutions, cuBLAS for
/// linear layers, and the hand-written kernels of kernels/*.cu for everything else, all on one stream.
/// </summary>
/// <remarks>
/// Host copies happen only in <see cref="Upload"/>, <see cref="Download"/> and <c>UploadBytes</c> (device
/// datasets), which wait for the stream, so the values a caller reads are final. Errors inside a kernel (a bad label, an illegal address) surface at the next
/// call that waits for the stream. Like the other backends, an instance serves one calling thread at a time.
/// NOTE: no part of this class has run on a GPU; every path below is compile-checked and reviewed only. The
/// list of such paths is kept in docs/benchmarks.md.
/// </remarks>
public sealed partial class CudaBackend : IBackend, IDisposable
{
    private readonly CudaDevice device;
    private readonly CachingDeviceAllocator allocator;
    private readonly CudaKernels kernels;
    private readonly CublasHandle blas;
    private readonly CudnnHandle dnn;
    private readonly KernelArguments arguments = new();
    private readonly int blockSize;
    private bool disposed;

    public CudaBackend(CudaBackendOptions? options = null)
    {
        Options = options ?? new CudaBackendOptions();
        LaunchShape.ValidateBlock(Options.BlockSize);
        blockSize = Options.BlockSize;
        device = new CudaDevice(Options.Device);
        try
        {
            allocator = new CachingDeviceAllocator(new DriverDeviceMemory());
            kernels = new CudaKernels(device, PtxLocator.CreateDefault());
            CudaLibraries.Load(NativeLibraryKind.CuBlas);
            blas = CublasHandle.Create();
            CuBlas.Check(CuBlas.cublasSetStream(blas, device.Stream), "cublasSetStream_v2");
            CuBlas.Check(CuBlas.cublasSetMathMode(blas, Options.AllowTf32 ? CublasMath.Tf32TensorOp : CublasMath.Default),
                "cublasSetMathMode");
            CudaLibraries.Load(NativeLibraryKind.CuDnn);
            dnn = CudnnHandle.Create();
            CuDnn.Check(CuDnn.cudnnSetStream(dnn, device.Stream), "cudnnSetStream");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public CudaBackendOptions Options { get; }

    public CudaDeviceInfo Device => device.Info;

    public string Name => $"cuda:{Options.Device}";

    public long BytesInUse => allocator.BytesInUse;

    public long PeakBytesInUse => allocator.PeakBytesInUse;

    /// <summary>Raw <c>cuMemAlloc</c> calls so far; constant after a training loop's first step.</summary>
    public long RawAllocations => allocator.RawAllocations;

    public void ResetPeakMemory() => allocator.ResetPeak();

    public Storage Allocate(long length) => new DeviceStorage(allocator, length);

    /// <summary>Waits until every queued operation has finished.</summary>
    public void Synchronize() => device.Synchronize();

    public unsafe void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        ulong target = Pointer(destination);
        if (source.Length != destination.Length)
            throw new ArgumentException(
                $"Upload of {source.Length} values into {destination}, which has {destination.Length} elements.");
        if (source.IsEmpty)
            return;
        fixed (float* host = source)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync(target, host, (nuint)(source.Length * sizeof(float)),
                device.Stream), "cuMemcpyHtoDAsync_v2");
            // The host span may be freed once this returns, so the copy must be done by then.
            device.Synchronize();
        }
    }

    public unsafe void Download(Tensor source, Span<float> destination)
    {
        ulong from = Pointer(source);
        if (destination.Length != source.Length)
            throw new ArgumentException(
                $"Download of {source} ({source.Length} elements) into a span of {destination.Length}.");
        if (destination.IsEmpty)
            return;
        fixed (float* host = destination)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync(host, from, (nuint)(destination.Length * sizeof(float)),
                device.Stream), "cuMemcpyDtoHAsync_v2");
            device.Synchronize();
        }
    }

    /// <summary>Copies bytes from the host to a raw device block, waiting for the copy (device datasets use it).</summary>
    internal unsafe void UploadBytes(ReadOnlySpan<byte> source, ulong target)
    {
        if (source.IsEmpty)
            return;
        fixed (byte* host = source)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync(target, host, (nuint)source.Length, device.Stream),
                "cuMemcpyHtoDAsync_v2");
            device.Synchronize();
        }
    }

    public void Fill(Tensor tensor, float value)
    {
        ulong target = Pointer(tensor);
        if (tensor.Length == 0)
            return;
        // cuMemsetD32 writes a 32-bit pattern, which is the float's bit pattern.
        CudaDriver.Check(CudaDriver.cuMemsetD32Async(target, BitConverter.SingleToUInt32Bits(value),
            (nuint)tensor.Length, device.Stream), "cuMemsetD32Async");
    }

    public void Copy(Tensor source, Tensor destination)
    {
        RequireSameLength(source, destination);
        ulong from = Pointer(source), to = Pointer(destination);
        if (source.Length == 0)
            return;
        CudaDriver.Check(CudaDriver.cuMemcpyDtoDAsync(to, from, (nuint)(source.Length * sizeof(float)),
            device.Stream), "cuMemcpyDtoDAsync_v2");
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        try
        {
            device.Synchronize();
        }
        catch (CudaException)
        {
            // A failed kernel leaves the context broken; freeing what we can is all that is left to do.
        }
        DisposeConvolutionCaches();
        dnn?.Dispose();
        blas?.Dispose();
        kernels?.Dispose();
        allocator?.Dispose();
        arguments.Dispose();
        device.Dispose();
    }

    // ---- helpers shared by the op files ----

    /// <summary>The device address of a tensor of this backend, after checking that it belongs here.</summary>
    private ulong Pointer(Tensor tensor)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!ReferenceEquals(tensor.Backend, this) || tensor.Storage is not DeviceStorage storage)
            throw new ArgumentException($"{tensor} does not belong to this CUDA backend; copy it here first.");
        if (tensor.IsDisposed || storage.IsReleased)
            throw new ObjectDisposedException(tensor.ToString(), "The tensor was disposed before a kernel used it.");
        return storage.Address;
    }

    /// <summary>The argument list for a launch by <see cref="CudaKernelBench"/>.</summary>
    internal KernelArguments KernelArgumentsForBench() => Arguments();

    internal void LaunchForBench(string kernel, LaunchShape shape) => Launch(kernel, shape);

    internal void RecordEvent(CudaEventHandle cudaEvent) =>
        CudaDriver.Check(CudaDriver.cuEventRecord(cudaEvent, device.Stream), "cuEventRecord");

    /// <summary>The shared argument list, cleared for the next launch.</summary>
    private KernelArguments Arguments() => arguments.Clear();

    private void Launch(string kernel, LaunchShape shape) => kernels.Launch(kernel, shape, arguments);

    /// <summary>A grid-stride launch over <paramref name="elements"/> items (nothing to do for 0).</summary>
    private LaunchShape Elementwise(long elements) => LaunchShape.Elementwise(Math.Max(elements, 1), blockSize);

    private LaunchShape BlockPerRow(long rows) => LaunchShape.BlockPerRow(rows, blockSize);

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

    private static void RequireShape(Tensor tensor, int[] expected, string role)
    {
        if (!tensor.Dimensions.AsSpan().SequenceEqual(expected))
            throw new ArgumentException(
                $"The {role} must have shape {Shape.Format(expected)}, but it is {tensor}.");
    }
}
