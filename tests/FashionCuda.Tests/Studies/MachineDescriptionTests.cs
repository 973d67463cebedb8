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
        if (File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").FirstOrDefault(
                line => line.StartsWith("model name", StringComparison.Ordinal)) is { } model)
            Assert.StartsWith(model[(model.IndexOf(':') + 1)..].Trim(), description);
    }

    [Fact]
    public void EngineVersion_StartsWithAssemblyVersion()
    {
        string version = MachineDescription.EngineVersion();
        var assembly = typeof(MachineDescription).Assembly.GetName().Version!;
        Assert.StartsWith($"{assembly.Major}.{assembly.Minor}.{assembly.Build}", version);
    }
}
