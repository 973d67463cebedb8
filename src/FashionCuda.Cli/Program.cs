using System.CommandLine;
using System.Text.RegularExpressions;
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
                Console.Error.WriteLine($"error: {Reword(error.Message)}");
            Console.Error.WriteLine("Run 'fashioncuda --help' or 'fashioncuda COMMAND --help' for usage.");
            return ExitCodes.UsageError;
        }
        return parsed.Invoke();
    }

    private static readonly Regex TypeError = new(
        @"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'\.$");

    /// <summary>
    /// Returns the parser's message with a .NET type name, such as System.Nullable`1[System.Int32], replaced by
    /// what the option takes. Other messages are returned unchanged.
    /// </summary>
    internal static string Reword(string message)
    {
        var match = TypeError.Match(message);
        if (!match.Success)
            return message;
        string type = match.Groups["type"].Value;
        string expected = type.Contains("UInt64", StringComparison.Ordinal) ? "a whole number from 0 to " + ulong.MaxValue
            : type.Contains("Int64", StringComparison.Ordinal) ? "a whole number up to " + long.MaxValue
            : type.Contains("Int32", StringComparison.Ordinal) ? "a whole number up to " + int.MaxValue
            : type.Contains("Double", StringComparison.Ordinal) || type.Contains("Single", StringComparison.Ordinal)
                ? "a number"
                : "a value of another kind";
        string option = match.Groups["option"].Value;
        return $"{option} {match.Groups["value"].Value}: {option} takes {expected}.";
    }
}
