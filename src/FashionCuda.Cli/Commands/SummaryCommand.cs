using System.CommandLine;
using System.Globalization;
using FashionCuda.Data;
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
        var (config, dataNote) = ForData(TrainConfig.Load(configPath));
        TrainCommand.WarnAboutReplacedModelKeys(configPath, config.Model.InputChannels, config.Model.InputSize,
            config.Model.Classes);
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
        Console.WriteLine(dataNote);
        AnsiConsole.Write(table);
        Console.WriteLine("FLOPs are per image for one forward pass; a multiply-add counts as 2. A row of a block " +
            "with layers inside (CBAM, BasicBlock) counts only its own pooling, gating or residual addition.");
        return ExitCodes.Success;
    }

    /// <summary>
    /// Returns the config with the model's input shape and class count set as <c>train</c> sets them from the data,
    /// and a line naming their source. A photo folder's class count is read from its layout. When the folder
    /// cannot be read, the config's own count is kept and the line states that.
    /// </summary>
    internal static (TrainConfig Config, string Note) ForData(TrainConfig config)
    {
        var data = config.Data;
        if (!data.IsFolder)
        {
            var mnist = config with { Model = config.Model with { InputChannels = 1, InputSize = 28, Classes = 10 } };
            return (mnist, "input      1×28×28 Fashion-MNIST images, 10 classes");
        }
        string shape = $"{data.Channels}×{data.Size}×{data.Size}";
        var model = config.Model with { InputChannels = data.Channels, InputSize = data.Size };
        try
        {
            var options = new ImageFolderOptions
            {
                Transform = data.ToTransform(), TestFraction = data.TestFraction, SplitSeed = config.Seed,
            };
            int classes = ImageFolder.ReadClassNames(data.Path!, options).Count;
            return (config with { Model = model with { Classes = classes } },
                $"input      {shape} images from {data.Path}, {classes} classes");
        }
        catch (DataFileException e)
        {
            return (config with { Model = model },
                $"input      {shape} images; {model.Classes} classes from the config, because the data cannot be " +
                $"read ({e.Message.TrimEnd('.')})");
        }
    }
}
