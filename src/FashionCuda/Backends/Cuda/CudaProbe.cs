using FashionCuda.Backends.Cuda.Interop;

namespace FashionCuda.Backends.Cuda;

/// <summary>What <see cref="CudaProbe.Run"/> found: the driver, its GPUs and the library versions, or why not.</summary>
/// <param name="Summary">One line on why no GPU is usable; null when one is.</param>
/// <param name="Reason">The full explanation, with every place the libraries were looked for.</param>
public sealed record CudaProbeReport(
    bool Usable, string? Summary, string? Reason, string? DriverSource, int DriverVersion, IReadOnlyList<CudaDeviceInfo> Devices,
    string? CublasVersion, string? CublasProblem, string? CudnnVersion, string? CudnnProblem)
{
    /// <summary>"12.6" from the driver's 12060.</summary>
    public string DriverVersionText => $"{DriverVersion / 1000}.{DriverVersion % 1000 / 10}";
}

/// <summary>
/// Checks, without creating a backend, whether this machine can run the CUDA backend: loads libcuda.so.1,
/// initializes the driver, lists the GPUs, then loads cuBLAS and cuDNN and reads their versions.
/// </summary>
public static class CudaProbe
{
    private static readonly Lazy<CudaProbeReport> Cached = new(Run);

    /// <summary>The report of the first probe in this process; the libraries stay loaded, so it does not change.</summary>
    public static CudaProbeReport Current => Cached.Value;

    public static CudaProbeReport Run()
    {
        LoadedLibrary driver;
        try
        {
            driver = CudaLibraries.Load(NativeLibraryKind.Driver);
        }
        catch (CudaLibraryNotFoundException e)
        {
            return NotUsable("no NVIDIA driver (libcuda.so.1 not found)", e.Message);
        }

        // NOTE: everything below needs a real driver and has never run.
        var init = CudaDriver.cuInit(0);
        if (init != CudaResult.Success)
        {
            string name = CudaDriver.StatusName(init);
            string why = init == CudaResult.NoDevice
                ? "the driver found no CUDA-capable GPU"
                : $"cuInit failed with {name} ({(int)init})";
            return NotUsable(why, $"libcuda.so.1 loaded from {driver.Source}, but {why}.", driver.Source);
        }
        CudaDriver.Check(CudaDriver.cuDriverGetVersion(out int driverVersion), "cuDriverGetVersion");
        CudaDriver.Check(CudaDriver.cuDeviceGetCount(out int count), "cuDeviceGetCount");
        var devices = new List<CudaDeviceInfo>();
        for (int ordinal = 0; ordinal < count; ordinal++)
        {
            CudaDriver.Check(CudaDriver.cuDeviceGet(out int device, ordinal), "cuDeviceGet");
            devices.Add(CudaDevice.Describe(device, ordinal));
        }
        var (blasVersion, blasProblem) = CublasVersion();
        var (dnnVersion, dnnProblem) = CudnnVersion();
        string? reason = count == 0 ? "the driver reports no CUDA device."
            : blasProblem ?? dnnProblem;
        string? summary = count == 0 ? "no CUDA device" : blasProblem is not null ? "cuBLAS not usable"
            : dnnProblem is not null ? "cuDNN not usable" : null;
        return new CudaProbeReport(reason is null, summary, reason, driver.Source, driverVersion, devices, blasVersion,
            blasProblem, dnnVersion, dnnProblem);
    }

    private static CudaProbeReport NotUsable(string summary, string reason, string? driverSource = null) =>
        new(false, summary, reason, driverSource, 0, [], null, null, null, null);

    private static (string? Version, string? Problem) CublasVersion()
    {
        try
        {
            var library = CudaLibraries.Load(NativeLibraryKind.CuBlas);
            CuBlas.Check(CuBlas.cublasGetProperty(LibraryProperty.MajorVersion, out int major), "cublasGetProperty");
            CuBlas.Check(CuBlas.cublasGetProperty(LibraryProperty.MinorVersion, out int minor), "cublasGetProperty");
            CuBlas.Check(CuBlas.cublasGetProperty(LibraryProperty.PatchLevel, out int patch), "cublasGetProperty");
            return ($"{major}.{minor}.{patch} ({library.Source})", null);
        }
        catch (Exception e) when (e is CudaLibraryNotFoundException or CudaException or EntryPointNotFoundException)
        {
            return (null, $"cuBLAS: {e.Message}");
        }
    }

    private static (string? Version, string? Problem) CudnnVersion()
    {
        try
        {
            var library = CudaLibraries.Load(NativeLibraryKind.CuDnn);
            return ($"{FormatCudnnVersion((long)CuDnn.cudnnGetVersion())} ({library.Source})", null);
        }
        catch (Exception e) when (e is CudaLibraryNotFoundException or EntryPointNotFoundException)
        {
            return (null, $"cuDNN: {e.Message}");
        }
    }

    /// <summary>
    /// Formats <c>cudnnGetVersion()</c>: cuDNN 9 encodes major·10000 + minor·100 + patch (90600 is 9.6.0),
    /// cuDNN 8 major·1000 + minor·100 + patch (8902 is 8.9.2).
    /// </summary>
    public static string FormatCudnnVersion(long version) =>
        version >= 90000
            ? $"{version / 10000}.{version % 10000 / 100}.{version % 100}"
            : $"{version / 1000}.{version % 1000 / 100}.{version % 100}";
}
