using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Cuda;
using FashionCuda.Backends.Cuda.Interop;
using FashionCuda.Backends.Reference;
using FashionCuda.Data;
using FashionCuda.Studies;
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
                      FashionMnist.SystemDirectory + ". With a config whose data.kind is folder, the photo " +
                      "folder or CSV list that replaces data.path.",
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
                $"--device cuda: the CUDA backend is not usable here: {FirstLine(e.Message)} Run " +
                "'fashioncuda devices' for details, or use --device cpu.");
        }
    }

    /// <summary>
    /// Returns the first line of a message that lists details on the lines below it, without a trailing
    /// "Looked in:", ending in a full stop.
    /// </summary>
    private static string FirstLine(string message)
    {
        string line = message.Split('\n', 2)[0].Trim();
        const string listIntro = "Looked in:";
        if (line.EndsWith(listIntro, StringComparison.Ordinal))
            line = line[..^listIntro.Length].TrimEnd();
        return line.EndsWith('.') ? line : line + ".";
    }

    /// <summary>
    /// Joins the lines of a multi-line message into one, so every error is a single "error:" line: after a
    /// colon or a full stop with a space, before a capital letter with a full stop, otherwise with a semicolon.
    /// </summary>
    public static string OneLine(string message)
    {
        var lines = message.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0).ToList();
        if (lines.Count == 0)
            return message.Trim();
        var joined = new System.Text.StringBuilder(lines[0]);
        foreach (string line in lines.Skip(1))
        {
            char last = joined[^1];
            if (last is ':' or '.' or ';' or '!' or '?')
                joined.Append(' ');
            else if (char.IsUpper(line[0]))
                joined.Append(". ");
            else
                joined.Append("; ");
            joined.Append(line);
        }
        return joined.ToString();
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
                                      or PtxNotFoundException or StudyFolderException
                                      or OutputPathException)
        {
            Console.Error.WriteLine($"error: {OneLine(e.Message)}");
            return ExitCodes.UsageError;
        }
        catch (CudaLibraryNotFoundException e)
        {
            Console.Error.WriteLine(
                $"error: {FirstLine(e.Message)} Run 'fashioncuda devices' for the places searched, or use " +
                "--device cpu.");
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
                $"error: {OneLine(e.Message).TrimEnd('.')}. Check that the output folder is writable and that " +
                "the disk has space; files written before are intact.");
            return ExitCodes.UsageError;
        }
        catch (Exception e) when (e is OverflowException or OutOfMemoryException)
        {
            Console.Error.WriteLine(
                "error: the model or batch is too large for this machine's memory or for 2^31-element tensors; " +
                "lower model.width or batch_size (--width or --batch for bench).");
            return ExitCodes.UsageError;
        }
    }

    /// <summary>
    /// Returns <paramref name="argument"/> as a POSIX shell reads it back: unchanged when it has only letters,
    /// digits and <c>_ . / : = , @ + -</c>, else in single quotes, with a quote inside written as <c>'\''</c>.
    /// Single quotes also keep <c>!</c> from history expansion in an interactive bash. Commands printed for the
    /// user to paste go through it, so a folder with a space stays one argument.
    /// </summary>
    public static string ShellQuote(string argument)
    {
        if (argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "_./:=,@+-".Contains(c)))
            return argument;
        return "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>
    /// Splits a command line that <see cref="ShellQuote"/> wrote back into its arguments: blanks separate them,
    /// single quotes keep everything up to the next one, and a backslash outside quotes keeps the next character.
    /// </summary>
    public static List<string> ShellSplit(string commandLine)
    {
        var arguments = new List<string>();
        var current = new System.Text.StringBuilder();
        bool inArgument = false;
        for (int i = 0; i < commandLine.Length; i++)
        {
            char c = commandLine[i];
            if (c == '\'')
            {
                int end = commandLine.IndexOf('\'', i + 1);
                if (end < 0)
                    end = commandLine.Length;
                current.Append(commandLine, i + 1, end - i - 1);
                i = end;
                inArgument = true;
            }
            else if (c == '\\' && i + 1 < commandLine.Length)
            {
                current.Append(commandLine[++i]);
                inArgument = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inArgument)
                    arguments.Add(current.ToString());
                current.Clear();
                inArgument = false;
            }
            else
            {
                current.Append(c);
                inArgument = true;
            }
        }
        if (inArgument)
            arguments.Add(current.ToString());
        return arguments;
    }

    /// <summary>
    /// Cancels <paramref name="cancellation"/> on Ctrl+C (SIGINT) and on SIGTERM, the default signal of kill and
    /// timeout, so that both stop a run and leave its folder at the last complete epoch. Dispose the result when the
    /// run ends.
    /// </summary>
    public static IDisposable CancelOnInterrupt(CancellationTokenSource cancellation)
    {
        // A second signal, after the first has asked the run to stop, keeps its default action and ends the process.
        // One that comes within DuplicateSignalMilliseconds of the first counts as the same request, because
        // timeout sends its signal to the process and then to its whole process group.
        long firstSignal = 0;
        bool Absorb()
        {
            long now = Environment.TickCount64;
            if (Interlocked.CompareExchange(ref firstSignal, now, 0) == 0)
            {
                cancellation.Cancel();
                return true;
            }
            return now - Interlocked.Read(ref firstSignal) < DuplicateSignalMilliseconds;
        }
        ConsoleCancelEventHandler onCancelKey = (_, e) => e.Cancel = Absorb();
        Console.CancelKeyPress += onCancelKey;
        PosixSignalRegistration? terminate = null;
        try
        {
            terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => context.Cancel = Absorb());
        }
        catch (PlatformNotSupportedException)
        {
            // NOTE: where SIGTERM cannot be handled, it ends the process at once; the run folder keeps its last
            // complete epoch either way.
        }
        return new Registration(() =>
        {
            // After a signal the handlers stay registered, so a duplicate that arrives while the command writes its
            // report is still absorbed. Without one, -1 makes a signal that races this release take its default action.
            if (Interlocked.CompareExchange(ref firstSignal, -1, 0) != 0)
                return;
            Console.CancelKeyPress -= onCancelKey;
            terminate?.Dispose();
        });
    }

    /// <summary>How soon after the first stop signal a second one counts as a duplicate of it.</summary>
    private const long DuplicateSignalMilliseconds = 1000;

    private sealed class Registration(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    /// <summary>Returns the count with the noun, plural unless the count is 1: "1 epoch", "2 epochs".</summary>
    public static string Plural(int count, string noun) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? "" : "s");

    /// <summary>Creates <paramref name="directory"/> and proves it writable, or raises a <see cref="UserException"/>.</summary>
    public static string PrepareOutputDirectory(string directory)
    {
        if (string.IsNullOrWhiteSpace(directory))
            throw new UserException("--out is empty; pass a folder for the results, e.g. --out runs/mine.");
        if (File.Exists(directory))
            throw new UserException($"--out {directory} is a file, not a folder; pass a folder for the results, e.g. " +
                                    "--out runs/mine.");
        for (var parent = Directory.GetParent(Path.GetFullPath(directory)); parent is not null; parent = parent.Parent)
        {
            if (File.Exists(parent.FullName))
                throw new UserException($"--out {directory}: {parent.FullName} is a file, so no folder can be made " +
                                        "below it; pass a folder for the results, e.g. --out runs/mine.");
        }
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

    /// <summary>Files that <c>train</c> writes into a run folder, the resumable state first.</summary>
    public static readonly IReadOnlyList<string> RunFiles =
        [RunCheckpoint.StateFileName, Checkpoint.FileName, MetricsFiles.JsonFileName, MetricsFiles.CsvFileName,
            TrainConfig.FileName];

    /// <summary>Raises an <see cref="OutputPathException"/> when the path of a run file is a folder.</summary>
    public static void RequireWritableRunFiles(string directory) => AtomicFile.RequireWritable(directory, RunFiles);

    /// <summary>
    /// Raises a <see cref="UserException"/> when <paramref name="directory"/> contains a file of an earlier run, so
    /// a new run cannot overwrite a finished or partial one. A folder at a run file's path raises an
    /// <see cref="OutputPathException"/>.
    /// </summary>
    public static void RequireFreshRunFolder(string directory)
    {
        RequireWritableRunFiles(directory);
        string? found = RunFiles.FirstOrDefault(name => File.Exists(Path.Combine(directory, name)));
        if (found is null)
            return;
        string resume = File.Exists(Path.Combine(directory, RunCheckpoint.StateFileName))
            ? $"continue it with fashioncuda train --resume {ShellQuote(directory)} or "
            : "";
        throw new UserException(
            $"--out {directory}: the folder already contains a run ({found}); {resume}pass another --out to start " +
            "a new one.");
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
