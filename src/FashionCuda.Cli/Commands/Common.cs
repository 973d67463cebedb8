using System.CommandLine;
using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Cuda;
using FashionCuda.Backends.Cuda.Interop;
using FashionCuda.Backends.Reference;
using FashionCuda.Data;
using FashionCuda.Training;

namespace FashionCuda.Cli.Commands;

/// <summary>Process exit codes shared by every command.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A check failed (for example a gradient check in <c>check</c>).</summary>
    public const int CheckFailed = 1;

    /// <summary>The user's input was invalid: a bad config, a missing data file, an unwritable folder.</summary>
    public const int UsageError = 2;
}

/// <summary>An error the user can fix; the CLI prints its message alone, with no stack trace.</summary>
public sealed class UserException(string message) : Exception(message);

/// <summary>Options and error handling shared by the commands.</summary>
public static class Common
{
    public static readonly string[] DeviceNames = ["cpu", "reference", "cuda", "auto"];

    public static Option<string> DeviceOption() => new("--device")
    {
        Description = "Backend to run on: cpu (fast CPU path), reference (naive loops, slow), cuda (GPU 0), " +
                      "or auto (cuda when a GPU is usable, else cpu; prints which).",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<string?> DataOption() => new("--data")
    {
        Description = "Folder with the Fashion-MNIST IDX files; default: data/fashion-mnist, then " +
                      FashionMnist.SystemDirectory + ".",
    };

    /// <summary>Creates the backend a <c>--device</c> value names.</summary>
    public static IBackend CreateBackend(string device) => device switch
    {
        "cpu" => new CpuBackend(),
        "reference" => new ReferenceBackend(),
        "cuda" => CreateCudaBackend(),
        "auto" => CreateAutoBackend(),
        _ => throw new UserException(
            $"--device {device}: unknown device; use one of {string.Join(", ", DeviceNames)}."),
    };

    private static IBackend CreateCudaBackend()
    {
        try
        {
            return new CudaBackend();
        }
        catch (Exception e) when (e is CudaLibraryNotFoundException or CudaException or DllNotFoundException)
        {
            throw new UserException(
                $"--device cuda: the CUDA backend is not usable here. {e.Message} Run 'fashioncuda devices' " +
                "for details, or use --device cpu.");
        }
    }

    /// <summary>The CUDA backend when the probe finds a usable GPU, else the CPU backend; says which on stderr.</summary>
    private static IBackend CreateAutoBackend()
    {
        var probe = CudaProbe.Current;
        if (probe.Usable)
        {
            var backend = CreateCudaBackend();
            Console.Error.WriteLine($"--device auto: using {backend.Name} ({probe.Devices[0].Name}).");
            return backend;
        }
        Console.Error.WriteLine($"--device auto: no usable GPU ({probe.Summary}); using cpu.");
        return new CpuBackend();
    }

    /// <summary>Runs a command body and turns the errors a user can cause into one line and exit code 2.</summary>
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is UserException or ConfigException or DataFileException
                                      or CheckpointException or TrainingDivergedException
                                      or PtxNotFoundException or CudaLibraryNotFoundException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.UsageError;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Interrupted.");
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Files are written through a temporary file and a rename, so what was complete before is intact.
            Console.Error.WriteLine(
                $"error: {e.Message.TrimEnd('.')}. Check that the output folder is writable, that no folder " +
                "stands where a result file goes, and that the disk has space; files written before are intact.");
            return ExitCodes.UsageError;
        }
        catch (Exception e) when (e is OverflowException or OutOfMemoryException)
        {
            Console.Error.WriteLine(
                "error: the model or batch is too large for this machine's memory or for 2^31-element tensors; " +
                "lower model.width or batch_size.");
            return ExitCodes.UsageError;
        }
    }

    /// <summary>Creates <paramref name="directory"/> and proves it writable, or raises a <see cref="UserException"/>.</summary>
    public static string PrepareOutputDirectory(string directory)
    {
        if (string.IsNullOrWhiteSpace(directory))
            throw new UserException("--out is empty; pass a folder for the results, e.g. --out runs/mine.");
        try
        {
            Directory.CreateDirectory(directory);
            string probe = Path.Combine(directory, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            // Temporary files left by a run that was killed mid-write; the finished files beside them are whole.
            foreach (var stale in Directory.EnumerateFiles(directory, ".*.tmp"))
                File.Delete(stale);
            return Path.GetFullPath(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException
                                      or NotSupportedException)
        {
            throw new UserException(
                $"Cannot write to output folder '{directory}': {e.Message} Pass --out with a writable folder.");
        }
    }

    /// <summary>Loads Fashion-MNIST from the search path, trimmed to the config's limits.</summary>
    public static (ImageDataset Train, ImageDataset Test, string Source) LoadData(string? dataDirectory,
        int trainLimit = 0, int testLimit = 0)
    {
        if (dataDirectory is not null && string.IsNullOrWhiteSpace(dataDirectory))
            throw new UserException("--data is empty; pass the folder with the Fashion-MNIST IDX files or leave it out.");
        var data = FashionMnist.Load(dataDirectory);
        var train = trainLimit > 0 && trainLimit < data.Train.Count ? data.Train.Take(trainLimit) : data.Train;
        var test = testLimit > 0 && testLimit < data.Test.Count ? data.Test.Take(testLimit) : data.Test;
        if (train.Count < 2)
            throw new UserException(
                $"{data.SourceDirectory} has {train.Count} training images; training needs at least 2. Pass --data " +
                "with the full files or raise train_limit.");
        if (test.Count == 0)
            throw new UserException(
                $"{data.SourceDirectory} has no test images; pass --data with a complete t10k-images file.");
        return (train, test, data.SourceDirectory);
    }
}
