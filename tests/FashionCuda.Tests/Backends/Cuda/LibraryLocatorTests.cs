using FashionCuda.Backends.Cuda.Interop;

namespace FashionCuda.Tests.Backends.Cuda;

public sealed class LibraryLocatorTests
{
    /// <summary>A file system and loader in memory: the files that exist and which paths load.</summary>
    private sealed class FakeProbe : INativeLibraryProbe
    {
        public HashSet<string> Files { get; } = new();

        public HashSet<string> Loadable { get; } = new();

        public List<string> LoadOrder { get; } = new();

        public bool TryLoad(string nameOrPath, out nint handle, out string error)
        {
            LoadOrder.Add(nameOrPath);
            bool ok = Loadable.Contains(nameOrPath);
            handle = ok ? 1000 + LoadOrder.Count : 0;
            error = ok ? "" : $"{Path.GetFileName(nameOrPath)}: cannot open shared object file";
            return ok;
        }

        public bool FileExists(string path) => Files.Contains(path);

        public bool DirectoryExists(string path) =>
            Files.Any(f => f.StartsWith(path.TrimEnd('/') + "/", StringComparison.Ordinal));

        public IEnumerable<string> EnumerateDirectories(string path, string pattern)
        {
            string prefix = path.TrimEnd('/') + "/";
            return Files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal))
                .Select(f => prefix + f[prefix.Length..].Split('/')[0])
                .Where(d => Files.Any(f => f.StartsWith(d + "/", StringComparison.Ordinal)))
                .Distinct()
                .Order(StringComparer.Ordinal);
        }
    }

    private static CudaLibraryLocator Locator(FakeProbe probe, string? libDir = null, params string[] sitePackages) =>
        new(probe, name => name == CudaLibraryLocator.LibraryDirectoryVariable ? libDir : null, () => sitePackages);

    [Fact]
    public void SonameThroughSystemLoaderComesFirst()
    {
        var probe = new FakeProbe();
        probe.Loadable.Add("libcublas.so.12");
        probe.Files.Add("/env/libcublas.so.13");
        probe.Loadable.Add("/env/libcublas.so.13");
        var library = Locator(probe, "/env").Load(NativeLibrarySpec.CuBlas);
        Assert.Equal("libcublas.so.12", library.Source);
        Assert.Equal(["libcublas.so.13", "libcublas.so.12"], probe.LoadOrder);
    }

    [Fact]
    public void EnvironmentFoldersComeBeforePython()
    {
        var probe = new FakeProbe();
        probe.Files.Add("/a/empty.txt");
        probe.Files.Add("/b/libcudnn.so.9");
        probe.Loadable.Add("/b/libcudnn.so.9");
        probe.Files.Add("/site/nvidia/cudnn/lib/libcudnn.so.9");
        probe.Loadable.Add("/site/nvidia/cudnn/lib/libcudnn.so.9");
        var library = Locator(probe, "/a:/b", "/site").Load(NativeLibrarySpec.CuDnn);
        Assert.Equal("/b/libcudnn.so.9", library.Source);
    }

    [Fact]
    public void PythonWheelFolderIsFound()
    {
        var probe = new FakeProbe();
        probe.Files.Add("/site/nvidia/cublas/lib/libcublas.so.12");
        probe.Files.Add("/site/nvidia/cublas/lib/libcublasLt.so.12");
        probe.Loadable.Add("/site/nvidia/cublas/lib/libcublas.so.12");
        probe.Loadable.Add("/site/nvidia/cublas/lib/libcublasLt.so.12");
        var library = Locator(probe, null, "/site").Load(NativeLibrarySpec.CuBlas);
        Assert.Equal("/site/nvidia/cublas/lib/libcublas.so.12", library.Source);
        int companion = probe.LoadOrder.IndexOf("/site/nvidia/cublas/lib/libcublasLt.so.12");
        int main = probe.LoadOrder.IndexOf("/site/nvidia/cublas/lib/libcublas.so.12");
        Assert.True(companion >= 0, "libcublasLt was not loaded before libcublas.");
        Assert.True(companion < main, "libcublasLt must load before libcublas.");
    }

    [Fact]
    public void CudnnSublibrariesLoadFirst()
    {
        var probe = new FakeProbe();
        string folder = "/site/nvidia/cudnn/lib";
        foreach (string name in NativeLibrarySpec.CuDnn.Companions.Append("libcudnn.so.9"))
        {
            probe.Files.Add($"{folder}/{name}");
            probe.Loadable.Add($"{folder}/{name}");
        }
        Locator(probe, null, "/site").Load(NativeLibrarySpec.CuDnn);
        var fromFolder = probe.LoadOrder.Where(p => p.StartsWith(folder, StringComparison.Ordinal)).ToList();
        Assert.Equal($"{folder}/libcudnn_graph.so.9", fromFolder[0]);
        Assert.Equal($"{folder}/libcudnn.so.9", fromFolder[^1]);
    }

    [Fact]
    public void MissingDriverErrorListsEveryPlace()
    {
        var probe = new FakeProbe();
        probe.Files.Add("/site/nvidia/cudnn/lib/libcudnn.so.9");
        var error = Assert.Throws<CudaLibraryNotFoundException>(
            () => Locator(probe, "/opt/cuda/lib64", "/site").Load(NativeLibrarySpec.Driver));
        Assert.Equal(NativeLibraryKind.Driver, error.Kind);
        Assert.Contains("libcuda.so.1 not found", error.Message);
        Assert.Contains("system loader", error.Message);
        Assert.Contains("cannot open shared object file", error.Message);
        Assert.Contains("/opt/cuda/lib64", error.Message);
        Assert.Contains("/site/nvidia/cudnn/lib: no libcuda.so.1", error.Message);
        Assert.Contains("NVIDIA driver", error.Message);
    }

    [Fact]
    public void UnsetVariableAndNoPythonAreReported()
    {
        var error = Assert.Throws<CudaLibraryNotFoundException>(
            () => Locator(new FakeProbe()).Load(NativeLibrarySpec.CuDnn));
        Assert.Contains($"{CudaLibraryLocator.LibraryDirectoryVariable}: not set", error.Message);
        Assert.Contains("no python site-packages found", error.Message);
        Assert.Contains("pip install nvidia-cudnn", error.Message);
        Assert.Equal(4, error.Attempts.Count); // two sonames, the variable, python
    }

    [Fact]
    public void FileThatFailsToLoadShowsLoaderError()
    {
        var probe = new FakeProbe();
        probe.Files.Add("/env/libcudnn.so.9");
        var error = Assert.Throws<CudaLibraryNotFoundException>(
            () => Locator(probe, "/env").Load(NativeLibrarySpec.CuDnn));
        Assert.Contains(error.Attempts, a => a.Candidate == "/env/libcudnn.so.9"
                                             && a.Outcome.Contains("cannot open", StringComparison.Ordinal));
    }

    [Fact]
    public void LoaderErrorKeepsDlerrorLine()
    {
        string message = "Unable to load shared library 'libcuda.so.1' or one of its dependencies. In order to " +
                         "help diagnose loading problems, consider using a tool like strace.\n" +
                         "libcuda.so.1: cannot open shared object file: No such file or directory\n";
        Assert.Equal("libcuda.so.1: cannot open shared object file: No such file or directory",
            SystemLibraryProbe.LoaderError(message));
        Assert.Equal("plain failure", SystemLibraryProbe.LoaderError("plain failure"));
    }

    [Fact]
    public void SitePackagesComeFromEnvironment()
    {
        var probe = new FakeProbe();
        probe.Files.Add("/venv/lib/python3.12/site-packages/x.py");
        probe.Files.Add("/extra/y.py");
        var environment = new Dictionary<string, string> { ["VIRTUAL_ENV"] = "/venv", ["PYTHONPATH"] = "/extra" };
        var folders = PythonSitePackages.Find(probe, name => environment.GetValueOrDefault(name));
        Assert.Equal("/venv/lib/python3.12/site-packages", folders[0]);
        Assert.Contains("/extra", folders);
    }
}
