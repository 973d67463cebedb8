using FashionCuda.Backends.Cuda;

namespace FashionCuda.Tests.Backends.Cuda;

/// <summary>A fact that needs a usable GPU; it is skipped, with the probe's reason, where there is none.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (GpuAvailability.SkipReason is { } reason)
            Skip = reason;
    }
}

/// <summary>A theory that needs a usable GPU; skipped like <see cref="CudaFactAttribute"/>.</summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (GpuAvailability.SkipReason is { } reason)
            Skip = reason;
    }
}

internal static class GpuAvailability
{
    /// <summary>Null when the CUDA backend can run here, else why not.</summary>
    public static string? SkipReason => CudaProbe.Current.Usable
        ? null
        : $"No usable GPU: {CudaProbe.Current.Summary}. Run 'fashioncuda devices' for where the libraries were looked for.";
}
