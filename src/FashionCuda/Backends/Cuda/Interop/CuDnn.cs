using System.Runtime.InteropServices;

namespace FashionCuda.Backends.Cuda.Interop;

/// <summary>
/// Bindings for cuDNN's legacy convolution API (<c>libcudnn.so.9</c>), for exactly the calls the CUDA backend
/// makes.
/// </summary>
/// <remarks>
/// Signatures, struct layouts and enum values were checked against the cuDNN 9.6.0 headers
/// <c>cudnn_graph.h</c> (handle, status, data and math types), <c>cudnn_ops.h</c> (tensor and filter
/// descriptors, algorithm enums, <c>cudnnDeterminism_t</c>) and <c>cudnn_cnn.h</c> (convolution descriptor,
/// algorithm search, the four convolution calls). cuDNN 9 marks these calls deprecated in favour of its graph
/// API but still exports them. cuDNN 8 exports the same functions, but its status codes are numbered 0–14, so
/// <see cref="CudnnStatus"/> names are only right for cuDNN 9; the message from <c>cudnnGetErrorString</c> is
/// right for both. Device pointers are passed as <c>ulong</c> CUdeviceptr values.
/// NOTE: none of these calls has run against a real cuDNN; the library was never present where this was written.
/// </remarks>
internal static unsafe partial class CuDnn
{
    /// <summary>The name the <see cref="CudaLibraries"/> resolver maps to libcudnn.</summary>
    public const string LibraryName = "fashioncuda-cudnn";

    static CuDnn() => CudaLibraries.EnsureResolver();

    [LibraryImport(LibraryName)]
    public static partial nuint cudnnGetVersion();

    [LibraryImport(LibraryName)]
    public static partial byte* cudnnGetErrorString(CudnnStatus status);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnCreate(out nint handle);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnDestroy(nint handle);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnSetStream(CudnnHandle handle, CudaStreamHandle stream);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnCreateTensorDescriptor(out nint descriptor);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnSetTensor4dDescriptor(CudnnTensorDescriptorHandle descriptor,
        CudnnTensorFormat format, CudnnDataType dataType, int n, int c, int h, int w);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnDestroyTensorDescriptor(nint descriptor);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnCreateFilterDescriptor(out nint descriptor);

    /// <summary>Note the argument order: data type before format, unlike the tensor descriptor.</summary>
    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnSetFilter4dDescriptor(CudnnFilterDescriptorHandle descriptor,
        CudnnDataType dataType, CudnnTensorFormat format, int k, int c, int h, int w);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnDestroyFilterDescriptor(nint descriptor);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnCreateConvolutionDescriptor(out nint descriptor);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnSetConvolution2dDescriptor(CudnnConvolutionDescriptorHandle descriptor,
        int padH, int padW, int strideH, int strideW, int dilationH, int dilationW, CudnnConvolutionMode mode,
        CudnnDataType computeType);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnSetConvolutionMathType(CudnnConvolutionDescriptorHandle descriptor,
        CudnnMathType mathType);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnDestroyConvolutionDescriptor(nint descriptor);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnGetConvolution2dForwardOutputDim(
        CudnnConvolutionDescriptorHandle convolution, CudnnTensorDescriptorHandle input,
        CudnnFilterDescriptorHandle filter, out int n, out int c, out int h, out int w);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnGetConvolutionForwardAlgorithm_v7(CudnnHandle handle,
        CudnnTensorDescriptorHandle x, CudnnFilterDescriptorHandle w, CudnnConvolutionDescriptorHandle convolution,
        CudnnTensorDescriptorHandle y, int requestedCount, out int returnedCount, CudnnAlgorithmPerf* results);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnFindConvolutionForwardAlgorithmEx(CudnnHandle handle,
        CudnnTensorDescriptorHandle xDescriptor, ulong x, CudnnFilterDescriptorHandle wDescriptor, ulong w,
        CudnnConvolutionDescriptorHandle convolution, CudnnTensorDescriptorHandle yDescriptor, ulong y,
        int requestedCount, out int returnedCount, CudnnAlgorithmPerf* results, ulong workspace,
        nuint workspaceBytes);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnGetConvolutionForwardWorkspaceSize(CudnnHandle handle,
        CudnnTensorDescriptorHandle x, CudnnFilterDescriptorHandle w, CudnnConvolutionDescriptorHandle convolution,
        CudnnTensorDescriptorHandle y, int algorithm, out nuint bytes);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnConvolutionForward(CudnnHandle handle, float* alpha,
        CudnnTensorDescriptorHandle xDescriptor, ulong x, CudnnFilterDescriptorHandle wDescriptor, ulong w,
        CudnnConvolutionDescriptorHandle convolution, int algorithm, ulong workspace, nuint workspaceBytes,
        float* beta, CudnnTensorDescriptorHandle yDescriptor, ulong y);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnGetConvolutionBackwardDataAlgorithm_v7(CudnnHandle handle,
        CudnnFilterDescriptorHandle w, CudnnTensorDescriptorHandle dy, CudnnConvolutionDescriptorHandle convolution,
        CudnnTensorDescriptorHandle dx, int requestedCount, out int returnedCount, CudnnAlgorithmPerf* results);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnFindConvolutionBackwardDataAlgorithmEx(CudnnHandle handle,
        CudnnFilterDescriptorHandle wDescriptor, ulong w, CudnnTensorDescriptorHandle dyDescriptor, ulong dy,
        CudnnConvolutionDescriptorHandle convolution, CudnnTensorDescriptorHandle dxDescriptor, ulong dx,
        int requestedCount, out int returnedCount, CudnnAlgorithmPerf* results, ulong workspace,
        nuint workspaceBytes);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnGetConvolutionBackwardDataWorkspaceSize(CudnnHandle handle,
        CudnnFilterDescriptorHandle w, CudnnTensorDescriptorHandle dy, CudnnConvolutionDescriptorHandle convolution,
        CudnnTensorDescriptorHandle dx, int algorithm, out nuint bytes);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnConvolutionBackwardData(CudnnHandle handle, float* alpha,
        CudnnFilterDescriptorHandle wDescriptor, ulong w, CudnnTensorDescriptorHandle dyDescriptor, ulong dy,
        CudnnConvolutionDescriptorHandle convolution, int algorithm, ulong workspace, nuint workspaceBytes,
        float* beta, CudnnTensorDescriptorHandle dxDescriptor, ulong dx);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnGetConvolutionBackwardFilterAlgorithm_v7(CudnnHandle handle,
        CudnnTensorDescriptorHandle x, CudnnTensorDescriptorHandle dy, CudnnConvolutionDescriptorHandle convolution,
        CudnnFilterDescriptorHandle dw, int requestedCount, out int returnedCount, CudnnAlgorithmPerf* results);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnFindConvolutionBackwardFilterAlgorithmEx(CudnnHandle handle,
        CudnnTensorDescriptorHandle xDescriptor, ulong x, CudnnTensorDescriptorHandle dyDescriptor, ulong dy,
        CudnnConvolutionDescriptorHandle convolution, CudnnFilterDescriptorHandle dwDescriptor, ulong dw,
        int requestedCount, out int returnedCount, CudnnAlgorithmPerf* results, ulong workspace,
        nuint workspaceBytes);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnGetConvolutionBackwardFilterWorkspaceSize(CudnnHandle handle,
        CudnnTensorDescriptorHandle x, CudnnTensorDescriptorHandle dy, CudnnConvolutionDescriptorHandle convolution,
        CudnnFilterDescriptorHandle dw, int algorithm, out nuint bytes);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnConvolutionBackwardFilter(CudnnHandle handle, float* alpha,
        CudnnTensorDescriptorHandle xDescriptor, ulong x, CudnnTensorDescriptorHandle dyDescriptor, ulong dy,
        CudnnConvolutionDescriptorHandle convolution, int algorithm, ulong workspace, nuint workspaceBytes,
        float* beta, CudnnFilterDescriptorHandle dwDescriptor, ulong dw);

    [LibraryImport(LibraryName)]
    public static partial CudnnStatus cudnnConvolutionBackwardBias(CudnnHandle handle, float* alpha,
        CudnnTensorDescriptorHandle dyDescriptor, ulong dy, float* beta, CudnnTensorDescriptorHandle dbDescriptor,
        ulong db);

    /// <summary>The checked gateway for cuDNN statuses; see <see cref="CudaDriver.Check"/>.</summary>
    public static void Check(CudnnStatus status, string call)
    {
        if (status == CudnnStatus.Success)
            return;
        string name = Enum.IsDefined(status) ? CudaStatusNames.CuDnn(status) : $"cudnnStatus_t {(int)status}";
        string message = "no description (cudnnGetErrorString was not available)";
        if (CudaLibraries.IsLoaded(NativeLibraryKind.CuDnn) && cudnnGetErrorString(status) is var text
            && text != null)
            message = Marshal.PtrToStringUTF8((nint)text) ?? message;
        throw new CudaException(NativeLibraryKind.CuDnn, call, (int)status, name, message);
    }
}

/// <summary>
/// <c>cudnnConvolutionFwdAlgoPerf_t</c>, <c>cudnnConvolutionBwdDataAlgoPerf_t</c> and
/// <c>cudnnConvolutionBwdFilterAlgoPerf_t</c>, which share one layout (48 bytes on 64-bit Linux): the algorithm
/// enum, its status, the time in milliseconds, the workspace in bytes, determinism, math type and three reserved
/// ints.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct CudnnAlgorithmPerf
{
    public int Algorithm;
    public int Status;
    public float TimeMilliseconds;
    public nuint MemoryBytes;
    public CudnnDeterminism Determinism;
    public CudnnMathType MathType;
    public int Reserved0;
    public int Reserved1;
    public int Reserved2;
}

/// <summary><c>cudnnStatus_t</c> of cuDNN 9 (cuDNN 8 numbers its codes differently).</summary>
internal enum CudnnStatus
{
    Success = 0,
    NotInitialized = 1001,
    SublibraryVersionMismatch = 1002,
    SerializationVersionMismatch = 1003,
    Deprecated = 1004,
    LicenseError = 1005,
    RuntimeInProgress = 1006,
    RuntimeFpOverflow = 1007,
    SublibraryLoadingFailed = 1008,
    BadParam = 2000,
    BadParamNullPointer = 2002,
    BadParamMisalignedPointer = 2003,
    BadParamNotFinalized = 2004,
    BadParamOutOfBound = 2005,
    BadParamSizeInsufficient = 2006,
    BadParamStreamMismatch = 2007,
    BadParamShapeMismatch = 2008,
    BadParamDuplicatedEntries = 2009,
    BadParamAttributeType = 2010,
    BadParamCudaGraphMismatch = 2011,
    BadParamDescriptorType = 2012,
    NotSupported = 3000,
    NotSupportedGraphPattern = 3001,
    NotSupportedShape = 3002,
    NotSupportedDataType = 3003,
    NotSupportedLayout = 3004,
    NotSupportedIncompatibleCudaDriver = 3005,
    NotSupportedIncompatibleCudart = 3006,
    NotSupportedArchMismatch = 3007,
    NotSupportedRuntimePrerequisiteMissing = 3008,
    NotSupportedSublibraryUnavailable = 3009,
    NotSupportedSharedMemoryInsufficient = 3010,
    NotSupportedPadding = 3011,
    NotSupportedBadLaunchParam = 3012,
    NotSupportedCudaGraphNativeApi = 3013,
    InternalError = 4000,
    InternalErrorCompilationFailed = 4001,
    InternalErrorUnexpectedValue = 4002,
    InternalErrorHostAllocationFailed = 4003,
    InternalErrorDeviceAllocationFailed = 4004,
    InternalErrorBadLaunchParam = 4005,
    InternalErrorTextureCreationFailed = 4006,
    ExecutionFailed = 5000,
    ExecutionFailedCudaDriver = 5001,
    ExecutionFailedCublas = 5002,
    ExecutionFailedCudart = 5003,
    ExecutionFailedCurand = 5004,
}

/// <summary><c>cudnnDataType_t</c> values used here.</summary>
public enum CudnnDataType
{
    Float = 0,
}

/// <summary><c>cudnnTensorFormat_t</c> values used here.</summary>
public enum CudnnTensorFormat
{
    /// <summary>Row-major NCHW: W stride 1, H stride W.</summary>
    Nchw = 0,
}

/// <summary><c>cudnnConvolutionMode_t</c>.</summary>
public enum CudnnConvolutionMode
{
    Convolution = 0,

    /// <summary>No kernel flip, as PyTorch's Conv2d computes.</summary>
    CrossCorrelation = 1,
}

/// <summary><c>cudnnMathType_t</c>.</summary>
public enum CudnnMathType
{
    /// <summary>Lets float32 convolutions use TF32 tensor cores on Ampere and newer.</summary>
    Default = 0,
    TensorOp = 1,
    TensorOpAllowConversion = 2,

    /// <summary>Plain float32 FMA math, no TF32.</summary>
    Fma = 3,
}

/// <summary><c>cudnnDeterminism_t</c>.</summary>
public enum CudnnDeterminism
{
    NonDeterministic = 0,
    Deterministic = 1,
}
