using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace FashionCuda.Tests.Cli;

/// <summary>Runs the built <c>fashioncuda</c> CLI as a child process, so exit codes and output are the real ones.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(string workingDirectory, params string[] args)
    {
        using var process = Process.Start(StartInfo(workingDirectory, args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"fashioncuda {string.Join(' ', args)} did not finish in 5 minutes.");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>How a run started by <see cref="RunUntilFileExists"/> is stopped.</summary>
    public enum Stop
    {
        /// <summary>SIGINT, what Ctrl+C sends; .NET raises Console.CancelKeyPress for it.</summary>
        Interrupt,

        /// <summary>SIGKILL, which the process cannot handle.</summary>
        Kill,

        /// <summary>SIGTERM, the default signal of kill and timeout.</summary>
        Terminate,

        /// <summary>
        /// SIGINT twice in a row, as timeout sends it: to the process, then to its process group.
        /// </summary>
        InterruptTwice,
    }

    /// <summary>
    /// Starts the CLI, stops it as soon as <paramref name="file"/> exists and returns its exit code and output.
    /// The caller's test fails when the CLI exits before the file appears.
    /// </summary>
    /// <remarks>NOTE: every stop but <see cref="Stop.Kill"/> sends its signal through the kill command, so it needs a
    /// Unix.</remarks>
    public static Result RunUntilFileExists(string workingDirectory, string file, Stop stop, params string[] args)
    {
        using var process = Process.Start(StartInfo(workingDirectory, args))!;
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, line) => Append(output, line.Data);
        process.ErrorDataReceived += (_, line) => Append(error, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var timeout = Stopwatch.StartNew();
        while (!File.Exists(file) && !process.HasExited && timeout.Elapsed < TimeSpan.FromMinutes(3))
            Thread.Sleep(5);
        Assert.False(process.HasExited, $"fashioncuda {string.Join(' ', args)} finished before it could be stopped.");

        if (stop == Stop.Kill)
        {
            process.Kill(entireProcessTree: true);
        }
        else
        {
            string signal = stop == Stop.Terminate ? "-TERM" : "-INT";
            for (int sent = 0; sent < (stop == Stop.InterruptTwice ? 2 : 1); sent++)
            {
                using var kill = Process.Start("kill", [signal, process.Id.ToString(CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
            }
        }
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"fashioncuda did not stop after {stop}.");
        process.WaitForExit(); // flushes the redirected output
        lock (output)
        lock (error)
            return new Result(process.ExitCode, output.ToString(), error.ToString());
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
            return;
        lock (text)
            text.AppendLine(line);
    }

    private static ProcessStartInfo StartInfo(string workingDirectory, string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fashioncuda.dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return start;
    }

    /// <summary>The Fashion-MNIST subset shipped in data/fashion-mnist.</summary>
    public static string EmbeddedData() => Path.Combine(RepositoryRoot(), "data", "fashion-mnist");

    /// <summary>The repository root, found from the test binaries' folder.</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "FashionCuda.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("FashionCuda.sln not found above the tests.");
    }
}
