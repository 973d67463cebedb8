using System.Runtime.InteropServices;

namespace FashionCuda.Backends.Cuda.Interop;

/// <summary>
/// Bindings for cuBLAS (<c>libcublas.so.13</c> or <c>.12</c>), for exactly the calls the CUDA backend makes.
/// </summary>
/// <remarks>
/// Signatures and enum values were checked against <c>cublas_api.h</c> of cuBLAS 12.6 (CUDA 12.6.3,
/// <c>CUBLAS_VER_MAJOR 12</c>, <c>CUBLAS_VER_MINOR 6</c>) and <c>cublas_v2.h</c>, which maps <c>cublasCreate</c>,
/// <c>cublasSgemm</c> and <c>cublasSetStream</c> to their <c>_v2</c> symbols. <c>libraryPropertyType</c> comes from
/// <c>library_types.h</c> of the same toolkit. Device pointers are passed as <c>ulong</c> CUdeviceptr values, which
/// have the size of a pointer on 64-bit Linux. cuBLAS is column-major; <see cref="RowMajorGemm"/> turns the
/// backend's row-major products into these calls.
/// NOTE: none of these calls has run against a real cuBLAS; the library was never present where this was written.
/// </remarks>
internal static unsafe partial class CuBlas
{
    /// <summary>The name the <see cref="CudaLibraries"/> resolver maps to libcublas.</summary>
    public const string LibraryName = "fashioncuda-cublas";

    static CuBlas() => CudaLibraries.EnsureResolver();

    [LibraryImport(LibraryName, EntryPoint = "cublasCreate_v2")]
    public static partial CublasStatus cublasCreate(out nint handle);

    [LibraryImport(LibraryName, EntryPoint = "cublasDestroy_v2")]
    public static partial CublasStatus cublasDestroy(nint handle);

    [LibraryImport(LibraryName, EntryPoint = "cublasSetStream_v2")]
    public static partial CublasStatus cublasSetStream(CublasHandle handle, CudaStreamHandle stream);

    [LibraryImport(LibraryName)]
    public static partial CublasStatus cublasSetMathMode(CublasHandle handle, CublasMath mode);

    [LibraryImport(LibraryName)]
    public static partial CublasStatus cublasGetProperty(LibraryProperty type, out int value);

    [LibraryImport(LibraryName, EntryPoint = "cublasSgemm_v2")]
    public static partial CublasStatus cublasSgemm(CublasHandle handle, CublasOperation transa,
        CublasOperation transb, int m, int n, int k, float* alpha, ulong a, int lda, ulong b, int ldb, float* beta,
        ulong c, int ldc);

    [LibraryImport(LibraryName)]
    public static partial CublasStatus cublasSgemmStridedBatched(CublasHandle handle, CublasOperation transa,
        CublasOperation transb, int m, int n, int k, float* alpha, ulong a, int lda, long strideA, ulong b,
        int ldb, long strideB, float* beta, ulong c, int ldc, long strideC, int batchCount);

    [LibraryImport(LibraryName)]
    public static partial byte* cublasGetStatusString(CublasStatus status);

    /// <summary>The checked gateway for cuBLAS statuses; see <see cref="CudaDriver.Check"/>.</summary>
    public static void Check(CublasStatus status, string call)
    {
        if (status == CublasStatus.Success)
            return;
        string name = Enum.IsDefined(status) ? CudaStatusNames.CuBlas(status) : $"cublasStatus_t {(int)status}";
        string message = "no description (cublasGetStatusString was not available)";
        if (CudaLibraries.IsLoaded(NativeLibraryKind.CuBlas) && cublasGetStatusString(status) is var text
            && text != null)
            message = Marshal.PtrToStringUTF8((nint)text) ?? message;
        throw new CudaException(NativeLibraryKind.CuBlas, call, (int)status, name, message);
    }
}

/// <summary><c>cublasStatus_t</c>.</summary>
internal enum CublasStatus
{
    Success = 0,
    NotInitialized = 1,
    AllocFailed = 3,
    InvalidValue = 7,
    ArchMismatch = 8,
    MappingError = 11,
    ExecutionFailed = 13,
    InternalError = 14,
    NotSupported = 15,
    LicenseError = 16,
}

/// <summary><c>cublasOperation_t</c>: whether cuBLAS reads an operand as stored or transposed.</summary>
public enum CublasOperation
{
    N = 0,
    T = 1,
}

/// <summary><c>cublasMath_t</c> values the backend sets.</summary>
internal enum CublasMath
{
    /// <summary>Full float32 math (tensor cores only where they keep float32 precision).</summary>
    Default = 0,

    /// <summary>Lets float32 GEMMs run on TF32 tensor cores (10-bit mantissa inputs).</summary>
    Tf32TensorOp = 3,
}

/// <summary><c>libraryPropertyType</c> from <c>library_types.h</c>.</summary>
internal enum LibraryProperty
{
    MajorVersion = 0,
    MinorVersion = 1,
    PatchLevel = 2,
}
