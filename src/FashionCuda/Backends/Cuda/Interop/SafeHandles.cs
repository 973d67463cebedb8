using System.Runtime.InteropServices;

namespace FashionCuda.Backends.Cuda.Interop;

// SafeHandles for every native object the backend creates. Each creator wraps the raw handle at once, so a
// handle is released exactly once even when a later step of a constructor throws. Release results are ignored:
// a release that fails during shutdown has no caller left to report to.

/// <summary>A retained primary context of one device; releasing it calls <c>cuDevicePrimaryCtxRelease</c>.</summary>
internal sealed class CudaPrimaryContextHandle : SafeHandle
{
    public CudaPrimaryContextHandle(nint context, int device) : base(0, ownsHandle: true)
    {
        SetHandle(context);
        Device = device;
    }

    public int Device { get; }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => CudaDriver.cuDevicePrimaryCtxRelease(Device) == CudaResult.Success;
}

/// <summary>A <c>CUstream</c>.</summary>
internal sealed class CudaStreamHandle : SafeHandle
{
    public CudaStreamHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    public static CudaStreamHandle Create(uint flags)
    {
        CudaDriver.Check(CudaDriver.cuStreamCreate(out nint raw, flags), "cuStreamCreate");
        var stream = new CudaStreamHandle();
        stream.SetHandle(raw);
        return stream;
    }

    protected override bool ReleaseHandle() => CudaDriver.cuStreamDestroy(handle) == CudaResult.Success;
}

/// <summary>A <c>CUevent</c>.</summary>
internal sealed class CudaEventHandle : SafeHandle
{
    public CudaEventHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    public static CudaEventHandle Create(uint flags)
    {
        CudaDriver.Check(CudaDriver.cuEventCreate(out nint raw, flags), "cuEventCreate");
        var cudaEvent = new CudaEventHandle();
        cudaEvent.SetHandle(raw);
        return cudaEvent;
    }

    protected override bool ReleaseHandle() => CudaDriver.cuEventDestroy(handle) == CudaResult.Success;
}

/// <summary>A <c>CUmodule</c> loaded from PTX.</summary>
internal sealed class CudaModuleHandle : SafeHandle
{
    public CudaModuleHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    public static unsafe CudaModuleHandle Load(ReadOnlySpan<byte> nullTerminatedPtx, string source)
    {
        if (nullTerminatedPtx.IsEmpty || nullTerminatedPtx[^1] != 0)
            throw new ArgumentException("The PTX image must end with a zero byte.", nameof(nullTerminatedPtx));
        nint raw;
        fixed (byte* image = nullTerminatedPtx)
            CudaDriver.Check(CudaDriver.cuModuleLoadData(out raw, image), $"cuModuleLoadData({source})");
        var module = new CudaModuleHandle();
        module.SetHandle(raw);
        return module;
    }

    protected override bool ReleaseHandle() => CudaDriver.cuModuleUnload(handle) == CudaResult.Success;
}

/// <summary>A <c>cublasHandle_t</c>.</summary>
internal sealed class CublasHandle : SafeHandle
{
    public CublasHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    public static CublasHandle Create()
    {
        CuBlas.Check(CuBlas.cublasCreate(out nint raw), "cublasCreate_v2");
        var blas = new CublasHandle();
        blas.SetHandle(raw);
        return blas;
    }

    protected override bool ReleaseHandle() => CuBlas.cublasDestroy(handle) == CublasStatus.Success;
}

/// <summary>A <c>cudnnHandle_t</c>.</summary>
internal sealed class CudnnHandle : SafeHandle
{
    public CudnnHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    public static CudnnHandle Create()
    {
        CuDnn.Check(CuDnn.cudnnCreate(out nint raw), "cudnnCreate");
        var dnn = new CudnnHandle();
        dnn.SetHandle(raw);
        return dnn;
    }

    protected override bool ReleaseHandle() => CuDnn.cudnnDestroy(handle) == CudnnStatus.Success;
}

/// <summary>A <c>cudnnTensorDescriptor_t</c>.</summary>
internal sealed class CudnnTensorDescriptorHandle : SafeHandle
{
    public CudnnTensorDescriptorHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>Creates a float32 NCHW descriptor of the given sizes.</summary>
    public static CudnnTensorDescriptorHandle Create(TensorDescriptorValues values)
    {
        CuDnn.Check(CuDnn.cudnnCreateTensorDescriptor(out nint raw), "cudnnCreateTensorDescriptor");
        var descriptor = new CudnnTensorDescriptorHandle();
        descriptor.SetHandle(raw);
        CuDnn.Check(CuDnn.cudnnSetTensor4dDescriptor(descriptor, values.Format, values.DataType, values.N,
            values.C, values.H, values.W), "cudnnSetTensor4dDescriptor");
        return descriptor;
    }

    protected override bool ReleaseHandle() => CuDnn.cudnnDestroyTensorDescriptor(handle) == CudnnStatus.Success;
}

/// <summary>A <c>cudnnFilterDescriptor_t</c>.</summary>
internal sealed class CudnnFilterDescriptorHandle : SafeHandle
{
    public CudnnFilterDescriptorHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    public static CudnnFilterDescriptorHandle Create(FilterDescriptorValues values)
    {
        CuDnn.Check(CuDnn.cudnnCreateFilterDescriptor(out nint raw), "cudnnCreateFilterDescriptor");
        var descriptor = new CudnnFilterDescriptorHandle();
        descriptor.SetHandle(raw);
        CuDnn.Check(CuDnn.cudnnSetFilter4dDescriptor(descriptor, values.DataType, values.Format, values.K,
            values.C, values.R, values.S), "cudnnSetFilter4dDescriptor");
        return descriptor;
    }

    protected override bool ReleaseHandle() => CuDnn.cudnnDestroyFilterDescriptor(handle) == CudnnStatus.Success;
}

/// <summary>A <c>cudnnConvolutionDescriptor_t</c>.</summary>
internal sealed class CudnnConvolutionDescriptorHandle : SafeHandle
{
    public CudnnConvolutionDescriptorHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    public static CudnnConvolutionDescriptorHandle Create(ConvolutionDescriptorValues values)
    {
        CuDnn.Check(CuDnn.cudnnCreateConvolutionDescriptor(out nint raw), "cudnnCreateConvolutionDescriptor");
        var descriptor = new CudnnConvolutionDescriptorHandle();
        descriptor.SetHandle(raw);
        CuDnn.Check(CuDnn.cudnnSetConvolution2dDescriptor(descriptor, values.PadH, values.PadW, values.StrideH,
            values.StrideW, values.DilationH, values.DilationW, values.Mode, values.ComputeType),
            "cudnnSetConvolution2dDescriptor");
        CuDnn.Check(CuDnn.cudnnSetConvolutionMathType(descriptor, values.MathType), "cudnnSetConvolutionMathType");
        return descriptor;
    }

    protected override bool ReleaseHandle() =>
        CuDnn.cudnnDestroyConvolutionDescriptor(handle) == CudnnStatus.Success;
}
