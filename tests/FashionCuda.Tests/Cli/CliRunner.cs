using System.Diagnostics;

namespace FashionCuda.Tests.Cli;

/// <summary>Runs the built <c>fashioncuda</c> CLI as a child process, so exit codes and output are the real ones.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(string workingDirectory, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "fashioncuda.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"fashioncuda {string.Join(' ', args)} did not finish in 5 minutes.");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
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
