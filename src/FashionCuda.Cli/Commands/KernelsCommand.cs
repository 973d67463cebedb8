using System.CommandLine;
using System.Globalization;
using FashionCuda.Backends.Cuda;

namespace FashionCuda.Cli.Commands;

/// <summary>
/// <c>fashioncuda kernels bench</c>: every version of the benchmarked CUDA kernels at several block sizes,
/// checked against a host reference, then timed with CUDA events; exit code 1 when a version gives wrong results.
/// </summary>
public static class KernelsCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Validate and time each CUDA kernel version at several block sizes.");
        bench.SetAction(_ => Common.Run(Bench));
        return new Command("kernels", "Hand-written CUDA kernels.") { bench };
    }

    private static int Bench()
    {
        if (Common.CreateBackend("cuda") is not CudaBackend backend)
            throw new UserException("kernels bench needs the CUDA backend.");
        using (backend)
        {
            Console.WriteLine($"{"kernel",-52} {"block",5} {"check",5} {"max error",10} {"time ms",9} {"GB/s",8}");
            var results = new CudaKernelBench(backend).Run(r => Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{r.Kernel,-52} {r.BlockSize,5} {(r.Passed ? "pass" : "FAIL"),5} {r.MaxAbsError,10:E2} " +
                $"{r.Milliseconds,9:F4} {r.GigabytesPerSecond,8:F1}")));
            int failed = results.Count(r => !r.Passed);
            Console.WriteLine($"{results.Count - failed} passed, {failed} failed");
            return failed == 0 ? ExitCodes.Success : ExitCodes.CheckFailed;
        }
    }
}
