using System.Runtime.InteropServices;

namespace FashionCuda.Backends.Cuda.Interop;

/// <summary>
/// Bindings for the CUDA driver API in <c>libcuda.so.1</c>, for exactly the calls the CUDA backend makes.
/// </summary>
/// <remarks>
/// Signatures, entry points and enum values were checked against <c>cuda.h</c> of CUDA 12.6.3
/// (<c>CUDA_VERSION 12060</c>). The header maps several names to versioned symbols
/// (<c>cuMemAlloc</c> → <c>cuMemAlloc_v2</c>, <c>cuStreamDestroy</c> → <c>cuStreamDestroy_v2</c>, …), so the
/// entry points below name the exported symbols. <c>CUdeviceptr</c> is <c>unsigned long long</c>,
/// <c>CUdevice</c> is <c>int</c>, and every handle type is a pointer.
/// NOTE: none of these calls has run against a real driver; the library was never present where this was written.
/// </remarks>
internal static unsafe partial class CudaDriver
{
    /// <summary>The name the <see cref="CudaLibraries"/> resolver maps to <c>libcuda.so.1</c>.</summary>
    public const string LibraryName = "fashioncuda-cuda-driver";

    static CudaDriver() => CudaLibraries.EnsureResolver();

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuInit(uint flags);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuDriverGetVersion(out int driverVersion);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuDeviceGetCount(out int count);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuDeviceGet(out int device, int ordinal);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuDeviceGetAttribute(out int value, CudaDeviceAttribute attribute, int device);

    [LibraryImport(LibraryName, EntryPoint = "cuDeviceTotalMem_v2")]
    public static partial CudaResult cuDeviceTotalMem(out nuint bytes, int device);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuDevicePrimaryCtxRetain(out nint context, int device);

    [LibraryImport(LibraryName, EntryPoint = "cuDevicePrimaryCtxRelease_v2")]
    public static partial CudaResult cuDevicePrimaryCtxRelease(int device);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuCtxSetCurrent(nint context);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuCtxSynchronize();

    [LibraryImport(LibraryName, EntryPoint = "cuMemGetInfo_v2")]
    public static partial CudaResult cuMemGetInfo(out nuint free, out nuint total);

    [LibraryImport(LibraryName, EntryPoint = "cuMemAlloc_v2")]
    public static partial CudaResult cuMemAlloc(out ulong pointer, nuint bytes);

    [LibraryImport(LibraryName, EntryPoint = "cuMemFree_v2")]
    public static partial CudaResult cuMemFree(ulong pointer);

    [LibraryImport(LibraryName, EntryPoint = "cuMemcpyHtoD_v2")]
    public static partial CudaResult cuMemcpyHtoD(ulong destination, void* source, nuint bytes);

    [LibraryImport(LibraryName, EntryPoint = "cuMemcpyDtoH_v2")]
    public static partial CudaResult cuMemcpyDtoH(void* destination, ulong source, nuint bytes);

    [LibraryImport(LibraryName, EntryPoint = "cuMemcpyDtoD_v2")]
    public static partial CudaResult cuMemcpyDtoD(ulong destination, ulong source, nuint bytes);

    [LibraryImport(LibraryName, EntryPoint = "cuMemcpyHtoDAsync_v2")]
    public static partial CudaResult cuMemcpyHtoDAsync(ulong destination, void* source, nuint bytes,
        CudaStreamHandle stream);

    [LibraryImport(LibraryName, EntryPoint = "cuMemcpyDtoHAsync_v2")]
    public static partial CudaResult cuMemcpyDtoHAsync(void* destination, ulong source, nuint bytes,
        CudaStreamHandle stream);

    [LibraryImport(LibraryName, EntryPoint = "cuMemcpyDtoDAsync_v2")]
    public static partial CudaResult cuMemcpyDtoDAsync(ulong destination, ulong source, nuint bytes,
        CudaStreamHandle stream);

    [LibraryImport(LibraryName, EntryPoint = "cuMemsetD32_v2")]
    public static partial CudaResult cuMemsetD32(ulong destination, uint value, nuint count);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuMemsetD32Async(ulong destination, uint value, nuint count,
        CudaStreamHandle stream);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuStreamCreate(out nint stream, uint flags);

    [LibraryImport(LibraryName, EntryPoint = "cuStreamDestroy_v2")]
    public static partial CudaResult cuStreamDestroy(nint stream);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuStreamSynchronize(CudaStreamHandle stream);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuEventCreate(out nint cudaEvent, uint flags);

    [LibraryImport(LibraryName, EntryPoint = "cuEventDestroy_v2")]
    public static partial CudaResult cuEventDestroy(nint cudaEvent);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuEventRecord(CudaEventHandle cudaEvent, CudaStreamHandle stream);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuEventSynchronize(CudaEventHandle cudaEvent);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuEventElapsedTime(out float milliseconds, CudaEventHandle start,
        CudaEventHandle end);

    /// <summary>Loads a module from a null-terminated PTX image.</summary>
    [LibraryImport(LibraryName)]
    public static partial CudaResult cuModuleLoadData(out nint module, byte* image);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuModuleUnload(nint module);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuModuleGetFunction(out nint function, CudaModuleHandle module, byte* name);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ, uint sharedMemoryBytes, CudaStreamHandle stream,
        void** kernelParameters, void** extra);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuGetErrorName(CudaResult error, out byte* name);

    [LibraryImport(LibraryName)]
    public static partial CudaResult cuGetErrorString(CudaResult error, out byte* message);

    /// <summary>
    /// The checked gateway: throws a <see cref="CudaException"/> that names <paramref name="call"/>, the status
    /// and the driver's own description of it unless <paramref name="result"/> is <see cref="CudaResult.Success"/>.
    /// </summary>
    public static void Check(CudaResult result, string call)
    {
        if (result != CudaResult.Success)
            throw new CudaException(NativeLibraryKind.Driver, call, (int)result, StatusName(result),
                DriverMessage(result));
    }

    /// <summary>The enum name of a status, from this file's table or else from <c>cuGetErrorName</c>.</summary>
    public static string StatusName(CudaResult result)
    {
        if (Enum.IsDefined(result))
            return CudaStatusNames.Driver(result);
        return TryDriverString(result, name: true) ?? $"CUresult {(int)result}";
    }

    private static string DriverMessage(CudaResult result) =>
        TryDriverString(result, name: false) ?? "no description (cuGetErrorString was not available)";

    /// <summary>Asks the driver for a status's name or description; null when the library cannot answer.</summary>
    private static string? TryDriverString(CudaResult result, bool name)
    {
        if (!CudaLibraries.IsLoaded(NativeLibraryKind.Driver))
            return null;
        byte* text;
        var status = name ? cuGetErrorName(result, out text) : cuGetErrorString(result, out text);
        return status == CudaResult.Success && text != null ? Marshal.PtrToStringUTF8((nint)text) : null;
    }
}

/// <summary><c>CUresult</c> values the backend names; the driver has more, which keep their number.</summary>
internal enum CudaResult
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    Deinitialized = 4,
    StubLibrary = 34,
    DeviceUnavailable = 46,
    NoDevice = 100,
    InvalidDevice = 101,
    InvalidImage = 200,
    InvalidContext = 201,
    NoBinaryForGpu = 209,
    InvalidPtx = 218,
    UnsupportedPtxVersion = 222,
    InvalidSource = 300,
    InvalidHandle = 400,
    NotFound = 500,
    NotReady = 600,
    IllegalAddress = 700,
    LaunchOutOfResources = 701,
    LaunchTimeout = 702,
    LaunchFailed = 719,
    SystemDriverMismatch = 803,
    Unknown = 999,
}

/// <summary><c>CUdevice_attribute</c> values the backend reads.</summary>
internal enum CudaDeviceAttribute
{
    MaxThreadsPerBlock = 1,
    MaxBlockDimX = 2,
    MaxGridDimX = 5,
    MaxSharedMemoryPerBlock = 8,
    WarpSize = 10,
    MultiprocessorCount = 16,
    MemoryClockRate = 36,
    GlobalMemoryBusWidth = 37,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
}

/// <summary>Flag values of <c>cuStreamCreate</c> and <c>cuEventCreate</c>.</summary>
internal static class CudaFlags
{
    public const uint StreamNonBlocking = 0x1;
    public const uint EventDefault = 0x0;
    public const uint EventDisableTiming = 0x2;
}
