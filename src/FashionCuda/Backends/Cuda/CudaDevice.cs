using System.Runtime.InteropServices;
using FashionCuda.Backends.Cuda.Interop;

namespace FashionCuda.Backends.Cuda;

/// <summary>What the driver reports about one GPU.</summary>
public sealed record CudaDeviceInfo(
    int Ordinal, string Name, int ComputeMajor, int ComputeMinor, long TotalMemoryBytes, int Multiprocessors,
    int MaxThreadsPerBlock);

/// <summary>
/// One GPU with its retained primary context and the single stream every operation of a backend runs on, so
/// launches, library calls and copies execute in program order without extra synchronization.
/// </summary>
internal sealed class CudaDevice : IDisposable
{
    private readonly CudaPrimaryContextHandle context;

    // NOTE: never run on a GPU.
    public CudaDevice(int ordinal)
    {
        CudaLibraries.Load(NativeLibraryKind.Driver);
        CudaDriver.Check(CudaDriver.cuInit(0), "cuInit");
        CudaDriver.Check(CudaDriver.cuDeviceGetCount(out int count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count)
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal,
                $"CUDA device {ordinal} does not exist; the driver reports {count} device(s).");
        CudaDriver.Check(CudaDriver.cuDeviceGet(out int device, ordinal), "cuDeviceGet");
        Info = Describe(device, ordinal);
        CudaDriver.Check(CudaDriver.cuDevicePrimaryCtxRetain(out nint raw, device), "cuDevicePrimaryCtxRetain");
        context = new CudaPrimaryContextHandle(raw, device);
        MakeCurrent();
        Stream = CudaStreamHandle.Create(CudaFlags.StreamNonBlocking);
    }

    public CudaDeviceInfo Info { get; }

    public CudaStreamHandle Stream { get; }

    /// <summary>Binds the primary context to the calling thread; driver calls act on the current context.</summary>
    public void MakeCurrent() =>
        CudaDriver.Check(CudaDriver.cuCtxSetCurrent(context.DangerousGetHandle()), "cuCtxSetCurrent");

    public void Synchronize() => CudaDriver.Check(CudaDriver.cuStreamSynchronize(Stream), "cuStreamSynchronize");

    public static unsafe CudaDeviceInfo Describe(int device, int ordinal)
    {
        byte* name = stackalloc byte[256];
        CudaDriver.Check(CudaDriver.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        CudaDriver.Check(CudaDriver.cuDeviceTotalMem(out nuint total, device), "cuDeviceTotalMem_v2");
        return new CudaDeviceInfo(ordinal, Marshal.PtrToStringUTF8((nint)name) ?? "?",
            Attribute(device, CudaDeviceAttribute.ComputeCapabilityMajor),
            Attribute(device, CudaDeviceAttribute.ComputeCapabilityMinor), (long)total,
            Attribute(device, CudaDeviceAttribute.MultiprocessorCount),
            Attribute(device, CudaDeviceAttribute.MaxThreadsPerBlock));
    }

    private static int Attribute(int device, CudaDeviceAttribute attribute)
    {
        CudaDriver.Check(CudaDriver.cuDeviceGetAttribute(out int value, attribute, device),
            $"cuDeviceGetAttribute({attribute})");
        return value;
    }

    public void Dispose()
    {
        Stream.Dispose();
        context.Dispose();
    }
}

/// <summary>
/// The PTX modules of kernels/*.cu, loaded on first use, and their functions. Launches go through
/// <see cref="Launch"/>, which validates the shape and checks the launch status at once.
/// </summary>
internal sealed class CudaKernels : IDisposable
{
    private readonly CudaDevice device;
    private readonly PtxLocator locator;
    private readonly Dictionary<string, CudaModuleHandle> modules = new();
    private readonly Dictionary<string, nint> functions = new();

    public CudaKernels(CudaDevice device, PtxLocator locator)
    {
        this.device = device;
        this.locator = locator;
    }

    /// <summary>Launches <paramref name="kernel"/> on the device's stream with the given arguments.</summary>
    // NOTE: never run on a GPU.
    public unsafe void Launch(string kernel, LaunchShape shape, KernelArguments arguments)
    {
        if (shape.BlockX * shape.BlockY * shape.BlockZ > device.Info.MaxThreadsPerBlock)
            throw new ArgumentException(
                $"{kernel}: a block of {shape.BlockX}×{shape.BlockY}×{shape.BlockZ} threads exceeds the device's " +
                $"{device.Info.MaxThreadsPerBlock}.");
        nint function = Function(kernel);
        CudaDriver.Check(CudaDriver.cuLaunchKernel(function, shape.GridX, shape.GridY, shape.GridZ, shape.BlockX,
            shape.BlockY, shape.BlockZ, shape.SharedMemoryBytes, device.Stream, arguments.Pointers, null),
            $"cuLaunchKernel({kernel})");
    }

    private unsafe nint Function(string kernel)
    {
        if (functions.TryGetValue(kernel, out nint function))
            return function;
        string moduleName = KernelCatalog.ModuleOf(kernel);
        if (!modules.TryGetValue(moduleName, out var module))
        {
            string path = locator.Locate(moduleName, device.Info.ComputeMajor, device.Info.ComputeMinor);
            module = CudaModuleHandle.Load(PtxLocator.ReadNullTerminated(path), path);
            modules[moduleName] = module;
        }
        byte[] name = System.Text.Encoding.ASCII.GetBytes(kernel + "\0");
        fixed (byte* namePointer = name)
            CudaDriver.Check(CudaDriver.cuModuleGetFunction(out function, module, namePointer),
                $"cuModuleGetFunction({kernel})");
        functions[kernel] = function;
        return function;
    }

    public void Dispose()
    {
        functions.Clear();
        foreach (var module in modules.Values)
            module.Dispose();
        modules.Clear();
    }
}
