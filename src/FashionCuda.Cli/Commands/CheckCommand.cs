using System.CommandLine;
using System.Globalization;
using FashionCuda.Backends.Reference;
using FashionCuda.Checks;
using Spectre.Console;

namespace FashionCuda.Cli.Commands;

/// <summary>
/// <c>fashioncuda check</c>: finite-difference gradient checks of the reference ops, then each op of the chosen
/// backend against the reference, as one table; exit code 1 when any row fails.
/// </summary>
public static class CheckCommand
{
    public static Command Create()
    {
        var op = new Option<string?>("--op") { Description = "Check only this op (see the table for names)." };
        var device = Common.DeviceOption();
        var seed = new Option<ulong>("--seed")
        {
            Description = "Seed for the random inputs.",
            DefaultValueFactory = _ => 1UL,
        };
        var command = new Command("check", "Verify gradients and kernels against the reference implementation.")
        {
            op, device, seed,
        };
        command.SetAction(parsed => Common.Run(() =>
            Execute(parsed.GetValue(op), parsed.GetValue(device)!, parsed.GetValue(seed))));
        return command;
    }

    private static int Execute(string? op, string device, ulong seed)
    {
        var known = GradientChecks.OpNames.Concat(BackendComparisons.OpNames).Distinct().Order().ToList();
        if (op is not null && !known.Contains(op))
            throw new UserException($"--op {op}: unknown op; use one of {string.Join(", ", known)}.");
        var backend = Common.CreateBackend(device);
        var results = new List<(string Kind, CheckResult Result)>();
        if (op is null || GradientChecks.OpNames.Contains(op))
            results.AddRange(GradientChecks.Run(op, seed).Select(r => ("gradient (reference)", r)));
        if (backend is not ReferenceBackend && (op is null || BackendComparisons.OpNames.Contains(op)))
            results.AddRange(BackendComparisons.Run(backend, op, seed).Select(r => ($"{backend.Name} vs reference", r)));
        var table = new Table()
            .AddColumn("check").AddColumn("op").AddColumn("quantity")
            .AddColumn(new TableColumn("max abs error").RightAligned())
            .AddColumn(new TableColumn("max rel error").RightAligned())
            .AddColumn(new TableColumn("tolerance").RightAligned())
            .AddColumn("result");
        foreach (var (kind, r) in results)
        {
            table.AddRow(kind, Markup.Escape(r.Op), Markup.Escape(r.Quantity), Format(r.MaxAbsError),
                Format(r.MaxRelError), Format(r.Tolerance), r.Passed ? "[green]pass[/]" : "[red]FAIL[/]");
        }
        AnsiConsole.Write(table);
        int failed = results.Count(r => !r.Result.Passed);
        Console.WriteLine($"{results.Count - failed} passed, {failed} failed");
        return failed == 0 ? ExitCodes.Success : ExitCodes.CheckFailed;
    }

    private static string Format(double value) => value.ToString("0.00E+00", CultureInfo.InvariantCulture);
}
