using System.Diagnostics;

namespace FashionCuda.Backends.Cuda.Interop;

/// <summary>
/// The file names of one native library: the versioned sonames to try, newest first, and companion libraries
/// that must be loaded from the same folder first because the main library opens them by soname at run time.
/// </summary>
public sealed record NativeLibrarySpec(
    NativeLibraryKind Kind, IReadOnlyList<string> Sonames, IReadOnlyList<string> Companions, string InstallHint)
{
    public static NativeLibrarySpec Driver { get; } = new(NativeLibraryKind.Driver, ["libcuda.so.1"], [],
        "libcuda.so.1 is installed with the NVIDIA driver; install the driver, or run on a machine with a GPU.");

    public static NativeLibrarySpec CuBlas { get; } = new(NativeLibraryKind.CuBlas,
        ["libcublas.so.13", "libcublas.so.12"], ["libcublasLt.so.13", "libcublasLt.so.12"],
        "Install cuBLAS with the CUDA toolkit or 'pip install nvidia-cublas-cu12', or set " +
        $"{CudaLibraryLocator.LibraryDirectoryVariable} to the folder that contains libcublas.so.12.");

    // cuDNN 9 splits into sub-libraries that libcudnn.so.9 opens by soname; loading them from the same folder
    // first lets the loader find them without LD_LIBRARY_PATH. The order follows their dependencies.
    public static NativeLibrarySpec CuDnn { get; } = new(NativeLibraryKind.CuDnn,
        ["libcudnn.so.9", "libcudnn.so.8"],
        ["libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
            "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9"],
        "Install cuDNN 9 with 'pip install nvidia-cudnn-cu12' (or -cu13), or set " +
        $"{CudaLibraryLocator.LibraryDirectoryVariable} to the folder that contains libcudnn.so.9.");

    public static NativeLibrarySpec For(NativeLibraryKind kind) => kind switch
    {
        NativeLibraryKind.Driver => Driver,
        NativeLibraryKind.CuBlas => CuBlas,
        NativeLibraryKind.CuDnn => CuDnn,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown native library."),
    };
}

/// <summary>The operating-system side of library loading, behind an interface so tests can fake it.</summary>
public interface INativeLibraryProbe
{
    /// <summary>Loads a library by soname (system search) or by path; returns false and the loader's error.</summary>
    bool TryLoad(string nameOrPath, out nint handle, out string error);

    bool FileExists(string path);

    bool DirectoryExists(string path);

    /// <summary>Subfolders of <paramref name="path"/> whose names match <paramref name="pattern"/> (* wildcard).</summary>
    IEnumerable<string> EnumerateDirectories(string path, string pattern);
}

/// <summary>One place the locator tried, and what happened there.</summary>
public readonly record struct LibraryAttempt(string Candidate, string Outcome);

/// <summary>A library the locator loaded: its handle and the name or path that worked.</summary>
public readonly record struct LoadedLibrary(NativeLibraryKind Kind, nint Handle, string Source);

/// <summary>No candidate of a native library could be loaded; the message lists every place that was tried.</summary>
public sealed class CudaLibraryNotFoundException : Exception
{
    public CudaLibraryNotFoundException(NativeLibrarySpec spec, IReadOnlyList<LibraryAttempt> attempts)
        : base(FormatMessage(spec, attempts))
    {
        Kind = spec.Kind;
        Attempts = attempts;
    }

    public NativeLibraryKind Kind { get; }

    public IReadOnlyList<LibraryAttempt> Attempts { get; }

    private static string FormatMessage(NativeLibrarySpec spec, IReadOnlyList<LibraryAttempt> attempts)
    {
        var lines = attempts.Select(a => $"  {a.Candidate}: {a.Outcome}");
        return $"{string.Join(" or ", spec.Sonames)} not found. Looked in:{Environment.NewLine}" +
               string.Join(Environment.NewLine, lines) + Environment.NewLine + spec.InstallHint;
    }
}

/// <summary>
/// Finds a native CUDA library in a fixed order: each versioned soname through the system loader
/// (LD_LIBRARY_PATH, the ld.so cache), then each folder listed in <c>FASHIONCUDA_CUDA_LIB_DIR</c>, then the
/// <c>nvidia/*/lib</c> folders of python's site-packages, where pip's nvidia-* wheels put their libraries.
/// </summary>
public sealed class CudaLibraryLocator
{
    public const string LibraryDirectoryVariable = "FASHIONCUDA_CUDA_LIB_DIR";

    private readonly INativeLibraryProbe probe;
    private readonly Func<string, string?> environment;
    private readonly Func<IReadOnlyList<string>> sitePackages;

    /// <param name="sitePackages">Python site-packages folders to search; called only when the earlier steps fail.</param>
    public CudaLibraryLocator(INativeLibraryProbe probe, Func<string, string?> environment,
        Func<IReadOnlyList<string>> sitePackages)
    {
        this.probe = probe;
        this.environment = environment;
        this.sitePackages = sitePackages;
    }

    /// <summary>The locator over the real file system, process environment and python installations.</summary>
    public static CudaLibraryLocator CreateDefault()
    {
        var probe = new SystemLibraryProbe();
        return new CudaLibraryLocator(probe, Environment.GetEnvironmentVariable,
            () => PythonSitePackages.Find(probe, Environment.GetEnvironmentVariable));
    }

    /// <summary>Loads the first candidate that works, or throws with every attempt listed.</summary>
    public LoadedLibrary Load(NativeLibrarySpec spec)
    {
        var attempts = new List<LibraryAttempt>();
        foreach (string soname in spec.Sonames)
        {
            if (probe.TryLoad(soname, out nint handle, out string error))
                return new LoadedLibrary(spec.Kind, handle, soname);
            attempts.Add(new LibraryAttempt($"{soname} (system loader: LD_LIBRARY_PATH, ld.so cache)", error));
        }

        string? configured = environment(LibraryDirectoryVariable);
        if (string.IsNullOrWhiteSpace(configured))
            attempts.Add(new LibraryAttempt(LibraryDirectoryVariable, "not set"));
        else
        {
            var folders = configured.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
            if (TryFolders(spec, folders, attempts) is { } fromVariable)
                return fromVariable;
        }

        var roots = sitePackages();
        var libraryFolders = roots.Where(probe.DirectoryExists)
            .SelectMany(root => probe.EnumerateDirectories(Path.Combine(root, "nvidia"), "*"))
            .Select(package => Path.Combine(package, "lib"))
            .Where(probe.DirectoryExists)
            .ToList();
        if (libraryFolders.Count == 0)
        {
            string searched = roots.Count == 0 ? "no python site-packages found" : string.Join(", ", roots);
            attempts.Add(new LibraryAttempt("python nvidia/*/lib folders", $"none found (searched {searched})"));
        }
        else if (TryFolders(spec, libraryFolders, attempts) is { } fromPython)
            return fromPython;

        throw new CudaLibraryNotFoundException(spec, attempts);
    }

    private LoadedLibrary? TryFolders(NativeLibrarySpec spec, IEnumerable<string> folders,
        List<LibraryAttempt> attempts)
    {
        foreach (string folder in folders)
        {
            bool anyFile = false;
            foreach (string soname in spec.Sonames)
            {
                string path = Path.Combine(folder, soname);
                if (!probe.FileExists(path))
                    continue;
                anyFile = true;
                LoadCompanions(spec, folder);
                if (probe.TryLoad(path, out nint handle, out string error))
                    return new LoadedLibrary(spec.Kind, handle, path);
                attempts.Add(new LibraryAttempt(path, error));
            }
            if (!anyFile)
                attempts.Add(new LibraryAttempt(folder, $"no {string.Join(" or ", spec.Sonames)}"));
        }
        return null;
    }

    /// <summary>Loads the companions that exist in <paramref name="folder"/>; a failure here is left to the main load.</summary>
    private void LoadCompanions(NativeLibrarySpec spec, string folder)
    {
        foreach (string companion in spec.Companions)
        {
            string path = Path.Combine(folder, companion);
            if (probe.FileExists(path))
                probe.TryLoad(path, out _, out _);
        }
    }
}

/// <summary>Candidate python site-packages folders, where pip's nvidia-* wheels install CUDA libraries.</summary>
public static class PythonSitePackages
{
    /// <summary>
    /// Collects site-packages folders from VIRTUAL_ENV, CONDA_PREFIX, PYTHONPATH, the user's ~/.local, the usual
    /// system prefixes, and finally from asking <c>python3</c> itself. Only folders that exist are returned.
    /// </summary>
    public static IReadOnlyList<string> Find(INativeLibraryProbe probe, Func<string, string?> environment)
    {
        var folders = new List<string>();
        foreach (string variable in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
        {
            if (environment(variable) is { Length: > 0 } prefix)
                AddVersioned(probe, folders, Path.Combine(prefix, "lib"), "site-packages");
        }
        if (environment("PYTHONPATH") is { Length: > 0 } pythonPath)
            folders.AddRange(pythonPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        if (environment("HOME") is { Length: > 0 } home)
            AddVersioned(probe, folders, Path.Combine(home, ".local", "lib"), "site-packages");
        foreach (string prefix in new[] { "/usr/local/lib", "/usr/lib", "/opt/conda/lib" })
        {
            AddVersioned(probe, folders, prefix, "site-packages");
            AddVersioned(probe, folders, prefix, "dist-packages");
        }
        folders.Add("/usr/lib/python3/dist-packages");
        folders.AddRange(AskPython());
        return folders.Where(probe.DirectoryExists).Distinct().ToList();
    }

    private static void AddVersioned(INativeLibraryProbe probe, List<string> folders, string libFolder, string leaf)
    {
        if (!probe.DirectoryExists(libFolder))
            return;
        foreach (string python in probe.EnumerateDirectories(libFolder, "python3*").Order(StringComparer.Ordinal))
            folders.Add(Path.Combine(python, leaf));
    }

    /// <summary>Site-packages folders that <c>python3</c> on PATH reports; empty when it is absent or slow.</summary>
    private static IEnumerable<string> AskPython()
    {
        const string script = "import site; print('\\n'.join(site.getsitepackages() + [site.getusersitepackages()]))";
        try
        {
            var start = new ProcessStartInfo("python3")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(script);
            using var process = Process.Start(start);
            if (process is null)
                return [];
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return [];
            }
            return output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return []; // no python3 on PATH
        }
    }
}

/// <summary>The real loader: <see cref="System.Runtime.InteropServices.NativeLibrary"/> and the file system.</summary>
internal sealed class SystemLibraryProbe : INativeLibraryProbe
{
    public bool TryLoad(string nameOrPath, out nint handle, out string error)
    {
        try
        {
            handle = System.Runtime.InteropServices.NativeLibrary.Load(nameOrPath);
            error = "";
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            handle = 0;
            error = LoaderError(e.Message);
            return false;
        }
    }

    /// <summary>
    /// The dynamic loader's own line ("libcuda.so.1: cannot open shared object file: …") from the runtime's
    /// multi-line message, or the whole message on one line when there is no such line.
    /// </summary>
    public static string LoaderError(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var loaderLine = lines.LastOrDefault(line => line.Contains(".so", StringComparison.Ordinal)
                                                     && line.Contains(": ", StringComparison.Ordinal)
                                                     && !line.StartsWith("Unable to load", StringComparison.Ordinal));
        return loaderLine ?? string.Join(" ", lines);
    }

    public bool FileExists(string path) => File.Exists(path);

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public IEnumerable<string> EnumerateDirectories(string path, string pattern) =>
        Directory.Exists(path) ? Directory.EnumerateDirectories(path, pattern).Order(StringComparer.Ordinal) : [];
}
