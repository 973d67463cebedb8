using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FashionCuda.Studies;

/// <summary>Describes the machine a study runs on, for the reports.</summary>
public static class MachineDescription
{
    /// <summary>
    /// Returns the processor model (from /proc/cpuinfo on Linux, else the architecture), the logical core count,
    /// the widest vectors the runtime accelerates (<see cref="VectorWidth"/>), the OS and the .NET version, e.g.
    /// "AMD EPYC, 2 logical cores, 512-bit vectors, Debian GNU/Linux 12 (bookworm), .NET 10.0.12".
    /// </summary>
    public static string Current()
    {
        string processor = RuntimeInformation.ProcessArchitecture.ToString();
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? model = File.ReadLines("/proc/cpuinfo")
                    .FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal));
                if (model is not null)
                    processor = model[(model.IndexOf(':') + 1)..].Trim();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a readable /proc/cpuinfo the description names the architecture only.
        }
        return $"{processor}, {Environment.ProcessorCount} logical cores, {VectorWidth()}, " +
               $"{RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    /// <summary>
    /// Returns the widest SIMD vectors the runtime accelerates on this CPU: "512-bit vectors" (AVX-512),
    /// "256-bit vectors" (AVX2), "128-bit vectors" or "no SIMD vectors". The fast CPU path picks its GEMM kernel
    /// by this width, so two machines that report the same processor model can train at different speeds.
    /// </summary>
    public static string VectorWidth() =>
        Vector512.IsHardwareAccelerated ? "512-bit vectors"
        : Vector256.IsHardwareAccelerated ? "256-bit vectors"
        : Vector128.IsHardwareAccelerated ? "128-bit vectors"
        : "no SIMD vectors";

    /// <summary>
    /// Returns the engine's informational version: the project version and, when it was built from a git
    /// checkout, "+" and the commit, e.g. "1.0.0+5e2529d…".
    /// </summary>
    public static string EngineVersion() =>
        typeof(MachineDescription).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion ?? "unknown";
}
