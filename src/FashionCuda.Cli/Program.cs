using System.CommandLine;
using FashionCuda.Cli.Commands;

namespace FashionCuda.Cli;

/// <summary>Entry point of the <c>fashioncuda</c> command.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Spectre.Console assumes 80 columns without a terminal, which wraps the tables in logs and pipes.
        if (Console.IsOutputRedirected)
            Spectre.Console.AnsiConsole.Profile.Width = 160;
        var root = new RootCommand(
            "FashionCuda: a from-scratch CNN training engine for studying how CNNs work, on Fashion-MNIST.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(SummaryCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(StudyCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ErrorsCommand.Create());
        root.Subcommands.Add(DevicesCommand.Create());
        root.Subcommands.Add(KernelsCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
                Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run 'fashioncuda --help' or 'fashioncuda COMMAND --help' for usage.");
            return ExitCodes.UsageError;
        }
        return parsed.Invoke();
    }
}
