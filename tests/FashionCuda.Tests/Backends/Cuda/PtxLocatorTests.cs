using FashionCuda.Backends.Cuda;

namespace FashionCuda.Tests.Backends.Cuda;

public sealed class PtxLocatorTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ptx-locator-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string Write(string relativePath)
    {
        string path = Path.Combine(root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, ".version 8.0\n.target sm_80\n");
        return path;
    }

    [Fact]
    public void BuildOutputAboveBinariesIsFound()
    {
        string expected = Write("build/kernels/ptx/sm_80/relu.ptx");
        string binaries = Path.Combine(root, "src", "bin", "Release");
        Directory.CreateDirectory(binaries);
        var locator = new PtxLocator(_ => null, binaries);
        Assert.Equal(expected, locator.Locate("relu", 9, 0));
    }

    [Fact]
    public void NewestArchitectureNotAboveDeviceWins()
    {
        Write("ptx/sm_80/relu.ptx");
        string sm90 = Write("ptx/sm_90/relu.ptx");
        Write("ptx/sm_100/relu.ptx");
        var locator = new PtxLocator(_ => null, root);
        Assert.Equal(sm90, locator.Locate("relu", 9, 0));
        Assert.EndsWith(Path.Combine("sm_80", "relu.ptx"), locator.Locate("relu", 8, 6));
    }

    [Fact]
    public void EnvironmentFolderOverridesBuildOutput()
    {
        Write("build/kernels/ptx/sm_80/relu.ptx");
        string flat = Write("custom/relu.ptx");
        var locator = new PtxLocator(
            name => name == PtxLocator.DirectoryVariable ? Path.Combine(root, "custom") : null, root);
        Assert.Equal(flat, locator.Locate("relu", 8, 0));
        Assert.Single(locator.SearchFolders());
    }

    [Fact]
    public void MissingPtxNamesBuildCommand()
    {
        Write("build/kernels/ptx/sm_90/relu.ptx"); // too new for an sm_80 device
        var locator = new PtxLocator(_ => null, root);
        var error = Assert.Throws<PtxNotFoundException>(() => locator.Locate("relu", 8, 0));
        Assert.Contains("kernels/relu.cu", error.Message);
        Assert.Contains(PtxLocator.BuildCommand, error.Message);
        Assert.Contains(PtxLocator.DirectoryVariable, error.Message);
        Assert.Contains(Path.Combine(root, "build", "kernels", "ptx"), error.Message);
    }

    [Theory]
    [InlineData("sm_80", 80)]
    [InlineData("sm_90", 90)]
    [InlineData("sm_x", 0)]
    [InlineData("compute_80", 0)]
    public void ArchitectureFolderNamesParse(string name, int arch) => Assert.Equal(arch, PtxLocator.ParseArch(name));

    [Fact]
    public void PtxImageEndsWithZeroByte()
    {
        string path = Write("relu.ptx");
        byte[] image = PtxLocator.ReadNullTerminated(path);
        Assert.Equal(0, image[^1]);
        Assert.Equal(new FileInfo(path).Length + 1, image.Length);
    }
}
