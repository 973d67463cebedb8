using System.CommandLine;
using System.Globalization;
using FashionCuda.Backends.Cuda;

namespace FashionCuda.Cli.Commands;

/// <summary>
/// <c>fashioncuda devices</c>: lists the GPUs with their memory and compute capability, and the driver, cuBLAS
/// and cuDNN versions, or says why no GPU is usable and where the libraries were looked for. Exit code 1 when
/// no GPU is usable.
/// </summary>
public static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List CUDA devices and library versions, or say why none is usable.");
        command.SetAction(_ => Common.Run(Execute));
        return command;
    }

    private static int Execute()
    {
        var report = CudaProbe.Current;
        if (report.DriverSource is not null)
            Console.WriteLine($"driver  CUDA {report.DriverVersionText} ({report.DriverSource})");
        foreach (var device in report.Devices)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cuda:{device.Ordinal}  {device.Name}, compute capability {device.ComputeMajor}.{device.ComputeMinor}, " +
                $"{device.TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, {device.Multiprocessors} SMs"));
        }
        if (report.CublasVersion is not null)
            Console.WriteLine($"cuBLAS  {report.CublasVersion}");
        if (report.CudnnVersion is not null)
            Console.WriteLine($"cuDNN   {report.CudnnVersion}");
        if (report.Usable)
            return ExitCodes.Success;
        Console.WriteLine($"No usable CUDA device. {report.Reason}");
        Console.WriteLine("Training and checks still run on the CPU with --device cpu (or --device auto).");
        return ExitCodes.CheckFailed;
    }
}
