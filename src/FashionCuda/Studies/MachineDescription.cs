using System.Reflection;
using System.Runtime.InteropServices;

namespace FashionCuda.Studies;

/// <summary>Describes the machine a study runs on, for the reports.</summary>
public static class MachineDescription
{
    /// <summary>
    /// Returns the processor model (from /proc/cpuinfo on Linux, else the architecture), the logical core count,
    /// the OS and the .NET version.
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
        return $"{processor}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, " +
               $".NET {Environment.Version}";
    }

    /// <summary>
    /// Returns the engine's informational version: the project version and, when it was built from a git
    /// checkout, "+" and the commit, e.g. "1.0.0+5e2529d…".
    /// </summary>
    public static string EngineVersion() =>
        typeof(MachineDescription).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion ?? "unknown";
}
