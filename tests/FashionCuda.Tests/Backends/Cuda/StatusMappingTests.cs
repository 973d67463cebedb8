using FashionCuda.Backends.Cuda.Interop;

namespace FashionCuda.Tests.Backends.Cuda;

public sealed class StatusMappingTests
{
    [Theory]
    [InlineData((int)CudaResult.Success, "CUDA_SUCCESS")]
    [InlineData((int)CudaResult.OutOfMemory, "CUDA_ERROR_OUT_OF_MEMORY")]
    [InlineData((int)CudaResult.InvalidPtx, "CUDA_ERROR_INVALID_PTX")]
    [InlineData((int)CudaResult.NoBinaryForGpu, "CUDA_ERROR_NO_BINARY_FOR_GPU")]
    [InlineData((int)CudaResult.UnsupportedPtxVersion, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION")]
    public void DriverNamesMatchHeader(int code, string expected) =>
        Assert.Equal(expected, CudaStatusNames.Driver((CudaResult)code));

    [Theory]
    [InlineData((int)CudnnStatus.BadParamNullPointer, "CUDNN_STATUS_BAD_PARAM_NULL_POINTER")]
    [InlineData((int)CudnnStatus.NotSupportedIncompatibleCudart, "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART")]
    [InlineData((int)CudnnStatus.SublibraryLoadingFailed, "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED")]
    public void CudnnNamesMatchHeader(int code, string expected) =>
        Assert.Equal(expected, CudaStatusNames.CuDnn((CudnnStatus)code));

    [Fact]
    public void CublasNamesMatchHeader()
    {
        Assert.Equal("CUBLAS_STATUS_ALLOC_FAILED", CudaStatusNames.CuBlas(CublasStatus.AllocFailed));
        Assert.Equal("CUBLAS_STATUS_EXECUTION_FAILED", CudaStatusNames.CuBlas(CublasStatus.ExecutionFailed));
    }

    [Fact]
    public void EnumValuesMatchHeaders()
    {
        // Spot checks of values copied from cuda.h 12.6, cublas_api.h 12.6 and cudnn_graph.h 9.6.
        Assert.Equal(218, (int)CudaResult.InvalidPtx);
        Assert.Equal(719, (int)CudaResult.LaunchFailed);
        Assert.Equal(75, (int)CudaDeviceAttribute.ComputeCapabilityMajor);
        Assert.Equal(13, (int)CublasStatus.ExecutionFailed);
        Assert.Equal(3, (int)CublasMath.Tf32TensorOp);
        Assert.Equal(2000, (int)CudnnStatus.BadParam);
        Assert.Equal(5003, (int)CudnnStatus.ExecutionFailedCudart);
        Assert.Equal(3, (int)CudnnMathType.Fma);
        Assert.Equal(1, (int)CudnnConvolutionMode.CrossCorrelation);
    }

    [Fact]
    public void DriverFailureNamesCallCodeAndMessage()
    {
        var error = Assert.Throws<CudaException>(() => CudaDriver.Check(CudaResult.OutOfMemory, "cuMemAlloc_v2"));
        Assert.Equal("cuMemAlloc_v2", error.Call);
        Assert.Equal(2, error.Status);
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", error.StatusName);
        Assert.StartsWith("cuMemAlloc_v2 failed with CUDA_ERROR_OUT_OF_MEMORY (2): ", error.Message);
        Assert.False(string.IsNullOrWhiteSpace(error.LibraryMessage));
    }

    [Fact]
    public void UnknownCodesKeepTheirNumber()
    {
        var driver = Assert.Throws<CudaException>(() => CudaDriver.Check((CudaResult)12345, "cuInit"));
        Assert.Contains("12345", driver.Message);
        var dnn = Assert.Throws<CudaException>(() => CuDnn.Check((CudnnStatus)4242, "cudnnCreate"));
        Assert.Equal("cudnnStatus_t 4242", dnn.StatusName);
        Assert.Equal(NativeLibraryKind.CuDnn, dnn.Library);
    }

    [Fact]
    public void CublasFailureNamesCall()
    {
        var error = Assert.Throws<CudaException>(
            () => CuBlas.Check(CublasStatus.InvalidValue, "cublasSgemm_v2 in LinearForward"));
        Assert.StartsWith("cublasSgemm_v2 in LinearForward failed with CUBLAS_STATUS_INVALID_VALUE (7): ", error.Message);
    }

    [Fact]
    public void SuccessDoesNotThrow()
    {
        CudaDriver.Check(CudaResult.Success, "cuInit");
        CuBlas.Check(CublasStatus.Success, "cublasCreate_v2");
        CuDnn.Check(CudnnStatus.Success, "cudnnCreate");
    }
}
