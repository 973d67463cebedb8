using System.CommandLine;
using System.Globalization;
using FashionCuda.Training;
using Spectre.Console;

namespace FashionCuda.Cli.Commands;

/// <summary><c>fashioncuda eval</c>: accuracy, per-class accuracy and confusion matrix of a checkpoint.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "model.safetensors written by 'train'.",
            Required = true,
        };
        var data = Common.DataOption();
        var device = Common.DeviceOption();
        var command = new Command("eval", "Evaluate a checkpoint on its test set (Fashion-MNIST or its photo folder).")
        {
            checkpoint, data, device,
        };
        command.SetAction(parsed => Common.Run(() =>
            Execute(parsed.GetValue(checkpoint)!, parsed.GetValue(data), parsed.GetValue(device)!)));
        return command;
    }

    private static int Execute(string checkpointPath, string? dataDirectory, string device)
    {
        var backend = Common.CreateBackend(device);
        var loaded = Checkpoint.Load(checkpointPath, backend);
        var data = DataSource.Load(loaded.Config with { TrainLimit = 0, TestLimit = 0 }, dataDirectory);
        var (test, source) = (data.Test, data.Description);
        var evaluation = Trainer.Evaluate(loaded.Model, test, loaded.Normalization, loaded.Config.BatchSize);
        Console.WriteLine($"checkpoint {Path.GetFullPath(checkpointPath)}");
        Console.WriteLine($"data       {source}: {test.Count} test images");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"accuracy   {evaluation.Accuracy:F4}   loss {evaluation.Loss:F4}"));
        var names = loaded.ClassNames.Length == evaluation.Classes
            ? loaded.ClassNames
            : Enumerable.Range(0, evaluation.Classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var perClass = evaluation.PerClassAccuracy();
        var table = new Table().AddColumn("class").AddColumn(new TableColumn("accuracy").RightAligned());
        for (int i = 0; i < names.Length; i++)
            table.AddRow(Markup.Escape(names[i]), double.IsNaN(perClass[i])
                ? "no test images"
                : perClass[i].ToString("F4", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        var confusion = new Table().Title("confusion matrix (rows: true class, columns: predicted)");
        confusion.AddColumn("true \\ predicted");
        for (int i = 0; i < names.Length; i++)
            confusion.AddColumn(new TableColumn(i.ToString(CultureInfo.InvariantCulture)).RightAligned());
        for (int row = 0; row < names.Length; row++)
        {
            var cells = new List<string> { $"{row} {Markup.Escape(names[row])}" };
            for (int column = 0; column < names.Length; column++)
                cells.Add(evaluation.Confusion[row, column].ToString(CultureInfo.InvariantCulture));
            confusion.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(confusion);
        return ExitCodes.Success;
    }
}
