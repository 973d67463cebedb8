using System.Text.RegularExpressions;
using FashionCuda.Backends.Cuda;
using FashionCuda.Tests.Cli;

namespace FashionCuda.Tests.Backends.Cuda;

public sealed partial class KernelSourceTests
{
    private static readonly string KernelDirectory = Path.Combine(CliRunner.RepositoryRoot(), "kernels");

    [GeneratedRegex(@"extern ""C"" __global__ void (\w+)\(")]
    private static partial Regex KernelDeclaration();

    private static HashSet<string> DeclaredKernels(string module) =>
        KernelDeclaration().Matches(File.ReadAllText(Path.Combine(KernelDirectory, module + ".cu")))
            .Select(m => m.Groups[1].Value).ToHashSet();

    [Fact]
    public void EveryCatalogKernelIsDeclared()
    {
        foreach (string module in KernelCatalog.ModuleNames)
        {
            var declared = DeclaredKernels(module);
            foreach (string kernel in KernelCatalog.KernelsOf(module))
                Assert.True(declared.Contains(kernel), $"kernels/{module}.cu does not declare {kernel}.");
        }
    }

    [Fact]
    public void EveryKernelFileIsCatalogued()
    {
        var files = Directory.GetFiles(KernelDirectory, "*.cu").Select(Path.GetFileNameWithoutExtension).Order();
        Assert.Equal(files, KernelCatalog.ModuleNames.Order());
    }

    [Fact]
    public void KernelNamesFollowConvention()
    {
        foreach (string module in KernelCatalog.ModuleNames)
        {
            foreach (string kernel in DeclaredKernels(module))
                Assert.True(kernel.EndsWith("_kernel", StringComparison.Ordinal)
                            && (kernel.Contains("_forward", StringComparison.Ordinal)
                                || kernel.Contains("_backward", StringComparison.Ordinal)
                                || kernel.EndsWith("_step_kernel", StringComparison.Ordinal)),
                    $"{kernel} in {module}.cu is not named <op>_<forward|backward>[_variant]_kernel or <op>_step_kernel.");
        }
    }

    [Fact]
    public void KernelFilesDocumentLaunchAndAvoidCudaHeaders()
    {
        foreach (string path in Directory.GetFiles(KernelDirectory, "*.cu"))
        {
            string text = File.ReadAllText(path);
            string header = string.Concat(text.Split('\n').TakeWhile(line => line.StartsWith("//")));
            Assert.True(header.Contains("Launch", StringComparison.OrdinalIgnoreCase),
                $"{Path.GetFileName(path)} has no launch shape in its header comment.");
            Assert.DoesNotContain("#include <cuda", text);
            Assert.Contains("long long", text); // 64-bit index arithmetic
        }
    }

    [Fact]
    public void UnknownKernelIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => KernelCatalog.ModuleOf("no_such_kernel"));
        Assert.Contains("no_such_kernel", error.Message);
    }
}
