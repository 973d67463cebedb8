using FashionCuda.Studies;

namespace FashionCuda.Tests.Studies;

public class MachineDescriptionTests
{
    [Fact]
    public void Current_NamesCoresOsAndRuntime()
    {
        string description = MachineDescription.Current();
        Assert.Contains($"{Environment.ProcessorCount} logical cores", description);
        Assert.Contains($".NET {Environment.Version}", description);
        Assert.Contains($", {MachineDescription.VectorWidth()}, ", description);
        if (File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").FirstOrDefault(
                line => line.StartsWith("model name", StringComparison.Ordinal)) is { } model)
            Assert.StartsWith(model[(model.IndexOf(':') + 1)..].Trim(), description);
    }

    [Fact]
    public void VectorWidth_MatchesTheWidestAcceleratedVector()
    {
        string width = MachineDescription.VectorWidth();
        int bits = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 512
            : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? 256
            : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? 128 : 0;
        Assert.Equal(bits == 0 ? "no SIMD vectors" : $"{bits}-bit vectors", width);
    }

    [Fact]
    public void EngineVersion_StartsWithAssemblyVersion()
    {
        string version = MachineDescription.EngineVersion();
        var assembly = typeof(MachineDescription).Assembly.GetName().Version!;
        Assert.StartsWith($"{assembly.Major}.{assembly.Minor}.{assembly.Build}", version);
    }
}
