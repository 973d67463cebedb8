namespace FashionCuda.Backends.Cuda;

/// <summary>A kernel's PTX file could not be found; the message lists where the locator looked and how to build it.</summary>
public sealed class PtxNotFoundException(string message) : Exception(message);

/// <summary>
/// Finds the PTX that CMake builds from <c>kernels/NAME.cu</c>. Folders, in order: <c>FASHIONCUDA_PTX_DIR</c>
/// (if set, the only place searched), then <c>ptx/</c> beside the executable, then
/// <c>build/kernels/ptx/</c> in the executable's folder or any folder above it (the repository's build output).
/// </summary>
/// <remarks>
/// Inside a folder the PTX may sit in per-architecture subfolders <c>sm_XY/NAME.ptx</c>, as CMake writes it, or
/// directly as <c>NAME.ptx</c>. The locator takes the newest architecture that does not exceed the device's
/// compute capability, because the driver compiles PTX for an older virtual architecture forward to newer GPUs
/// but not backward.
/// </remarks>
public sealed class PtxLocator
{
    public const string DirectoryVariable = "FASHIONCUDA_PTX_DIR";

    public const string BuildCommand = "cmake -S . -B build/kernels && cmake --build build/kernels";

    private readonly Func<string, string?> environment;
    private readonly string baseDirectory;

    public PtxLocator(Func<string, string?> environment, string baseDirectory)
    {
        this.environment = environment;
        this.baseDirectory = baseDirectory;
    }

    public static PtxLocator CreateDefault() =>
        new(Environment.GetEnvironmentVariable, AppContext.BaseDirectory);

    /// <summary>The folders searched, in order.</summary>
    public IReadOnlyList<string> SearchFolders()
    {
        if (environment(DirectoryVariable) is { Length: > 0 } configured)
            return [Path.GetFullPath(configured)];
        var folders = new List<string> { Path.Combine(baseDirectory, "ptx") };
        for (var directory = new DirectoryInfo(baseDirectory); directory is not null; directory = directory.Parent)
            folders.Add(Path.Combine(directory.FullName, "build", "kernels", "ptx"));
        return folders;
    }

    /// <summary>Returns the path of <c>NAME.ptx</c> for a device of compute capability major.minor.</summary>
    public string Locate(string moduleName, int computeMajor, int computeMinor)
    {
        int deviceArch = computeMajor * 10 + computeMinor;
        var folders = SearchFolders();
        foreach (string folder in folders)
        {
            if (!Directory.Exists(folder))
                continue;
            var best = Directory.EnumerateDirectories(folder, "sm_*")
                .Select(path => (Path: path, Arch: ParseArch(Path.GetFileName(path))))
                .Where(entry => entry.Arch > 0 && entry.Arch <= deviceArch)
                .OrderByDescending(entry => entry.Arch)
                .Select(entry => Path.Combine(entry.Path, moduleName + ".ptx"))
                .FirstOrDefault(File.Exists);
            if (best is not null)
                return best;
            string flat = Path.Combine(folder, moduleName + ".ptx");
            if (File.Exists(flat))
                return flat;
        }
        throw new PtxNotFoundException(
            $"PTX for kernels/{moduleName}.cu (sm_{deviceArch} or older) not found. Looked in: " +
            string.Join(", ", folders) + $". Build it from the repository root with '{BuildCommand}' " +
            $"(or 'dotnet pwsh build.ps1 kernels'), or set {DirectoryVariable} to a folder with the .ptx files.");
    }

    /// <summary>"sm_80" → 80; 0 when the name is not of that form.</summary>
    public static int ParseArch(string folderName) =>
        folderName.StartsWith("sm_", StringComparison.Ordinal) && int.TryParse(folderName.AsSpan(3), out int arch)
            ? arch
            : 0;

    /// <summary>Reads a PTX file and appends the zero byte that <c>cuModuleLoadData</c> needs.</summary>
    public static byte[] ReadNullTerminated(string path)
    {
        byte[] text = File.ReadAllBytes(path);
        var image = new byte[text.Length + 1];
        text.CopyTo(image, 0);
        return image;
    }
}
