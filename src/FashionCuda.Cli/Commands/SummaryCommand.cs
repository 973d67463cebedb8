using System.CommandLine;
using System.Globalization;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Tensors;
using FashionCuda.Training;
using Spectre.Console;

namespace FashionCuda.Cli.Commands;

/// <summary><c>fashioncuda summary</c>: per-layer output shape, parameters and FLOPs of a config's model.</summary>
public static class SummaryCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "JSON training config.", Required = true };
        var command = new Command("summary", "Print each layer's output shape, parameter count and FLOPs.") { config };
        command.SetAction(parsed => Common.Run(() => Execute(parsed.GetValue(config)!)));
        return command;
    }

    private static int Execute(string configPath)
    {
        var config = TrainConfig.Load(configPath);
        var backend = Common.CreateBackend("cpu");
        var model = ModelFactory.Create(config, backend, new Rng(config.Seed));
        var rows = ModelSummary.Trace(model, ModelFactory.ImageShape(config.Model));
        var table = new Table().AddColumn("layer").AddColumn("type").AddColumn("settings")
            .AddColumn("output shape")
            .AddColumn(new TableColumn("parameters").RightAligned())
            .AddColumn(new TableColumn("FLOPs").RightAligned());
        foreach (var row in rows)
        {
            table.AddRow(row.Name, row.Type, Markup.Escape(row.Settings), Shape.Format(row.OutputShape),
                row.Parameters.ToString("N0", CultureInfo.InvariantCulture),
                row.Flops.ToString("N0", CultureInfo.InvariantCulture));
        }
        long parameters = model.ParameterCount();
        long flops = rows.Sum(r => r.Flops);
        table.AddRow("total", "", "", "", parameters.ToString("N0", CultureInfo.InvariantCulture),
            flops.ToString("N0", CultureInfo.InvariantCulture));
        Console.WriteLine(config.Model.Describe());
        AnsiConsole.Write(table);
        Console.WriteLine("FLOPs are per image for one forward pass; a multiply-add counts as 2. A row of a block " +
            "with layers inside (CBAM, BasicBlock) counts only its own pooling, gating or residual addition.");
        return ExitCodes.Success;
    }
}
