using System.Reflection;
using System.Runtime.InteropServices;

namespace FashionCuda.Backends.Cuda.Interop;

/// <summary>
/// Loads the native CUDA libraries once per process and maps the logical library names of the
/// <c>LibraryImport</c> bindings to them through <see cref="NativeLibrary.SetDllImportResolver"/>.
/// </summary>
/// <remarks>
/// Callers load a library with <see cref="Load"/> before its first native call, so a missing library fails with
/// a <see cref="CudaLibraryNotFoundException"/> that lists where the locator looked. A binding called without that
/// step still resolves through the same locator, but then fails with the runtime's generic
/// <see cref="DllNotFoundException"/>.
/// </remarks>
internal static class CudaLibraries
{
    private static readonly object Gate = new();
    private static readonly Dictionary<NativeLibraryKind, LoadedLibrary> Loaded = new();
    private static readonly CudaLibraryLocator Locator = CudaLibraryLocator.CreateDefault();

    static CudaLibraries()
    {
        NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
    }

    /// <summary>Registers the resolver; the bindings' static constructors call this before their first call.</summary>
    public static void EnsureResolver()
    {
        // The static constructor does the work; this method only makes the runtime run it.
    }

    /// <summary>Loads a library (once) or throws <see cref="CudaLibraryNotFoundException"/>.</summary>
    public static LoadedLibrary Load(NativeLibraryKind kind)
    {
        lock (Gate)
        {
            if (Loaded.TryGetValue(kind, out var library))
                return library;
            library = Locator.Load(NativeLibrarySpec.For(kind));
            Loaded[kind] = library;
            return library;
        }
    }

    public static bool IsLoaded(NativeLibraryKind kind)
    {
        lock (Gate)
            return Loaded.ContainsKey(kind);
    }

    public static NativeLibraryKind? KindOf(string libraryName) => libraryName switch
    {
        CudaDriver.LibraryName => NativeLibraryKind.Driver,
        CuBlas.LibraryName => NativeLibraryKind.CuBlas,
        CuDnn.LibraryName => NativeLibraryKind.CuDnn,
        _ => null,
    };

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (KindOf(libraryName) is not { } kind)
            return 0; // not ours: the runtime's default search applies
        try
        {
            return Load(kind).Handle;
        }
        catch (CudaLibraryNotFoundException)
        {
            return 0;
        }
    }
}
