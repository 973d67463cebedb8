using FashionCuda.Backends.Cuda;
using FashionCuda.Tests.Cli;

namespace FashionCuda.Tests.Backends.Cuda;

public sealed class DevicesCommandTests
{
    [Fact]
    public void NoDriverIsExplained()
    {
        if (CudaProbe.Current.DriverSource is not null)
            return; // a driver is installed here, so this case cannot happen
        var result = CliRunner.Run(CliRunner.RepositoryRoot(), "devices");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("No usable CUDA device", result.Output);
        Assert.Contains("libcuda.so.1 not found", result.Output);
        Assert.Contains("system loader", result.Output);
        Assert.Contains("FASHIONCUDA_CUDA_LIB_DIR", result.Output);
        Assert.Contains("python nvidia/*/lib", result.Output);
    }

    [Fact]
    public void CudaDeviceWithoutGpuIsUsageError()
    {
        if (CudaProbe.Current.Usable)
            return;
        var result = CliRunner.Run(CliRunner.RepositoryRoot(), "check", "--device", "cuda", "--op", "relu");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--device cuda", result.Error);
        Assert.Contains("fashioncuda devices", result.Error);
    }

    [Fact]
    public void AutoDeviceSaysWhichBackend()
    {
        var result = CliRunner.Run(CliRunner.RepositoryRoot(), "check", "--device", "auto", "--op", "relu");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--device auto: ", result.Error);
        Assert.Contains(CudaProbe.Current.Usable ? "using cuda:0" : "using cpu", result.Error);
    }

    [CudaFact]
    public void GpuIsListed()
    {
        var result = CliRunner.Run(CliRunner.RepositoryRoot(), "devices");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("cuda:0", result.Output);
        Assert.Contains("cuDNN", result.Output);
    }
}
