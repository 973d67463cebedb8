using System.CommandLine;
using System.Globalization;
using FashionCuda.Nn;
using FashionCuda.Tensors;
using Spectre.Console;

namespace FashionCuda.Cli.Commands;

/// <summary><c>bench --layers</c>: a table of each layer's mean forward and backward time per training step.</summary>
public static class BenchLayers
{
    public static Option<bool> Option() => new("--layers")
    {
        Description = "Print each layer's forward and backward milliseconds per step instead of images per second.",
    };

    public static int Print(Module model, float[] images, float[] labels, int[] inputShape, int warmup, int steps,
        bool json, string title)
    {
        if (json)
            throw new UserException("--layers and --json: per-layer timing prints a table only; drop --json.");
        var times = LayerTiming.Measure(model, images, labels, inputShape, warmup, steps);
        double total = (times.TotalForward + times.TotalBackward).TotalMilliseconds;
        string measured = Common.Plural(steps, "step");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{title}, {Environment.ProcessorCount} threads: mean of {measured} after {warmup} warm-up"));
        var table = new Table().AddColumn("layer").AddColumn("type").AddColumn("output shape")
            .AddColumn(new TableColumn("forward ms").RightAligned())
            .AddColumn(new TableColumn("backward ms").RightAligned())
            .AddColumn(new TableColumn("share").RightAligned());
        foreach (var layer in times.Layers)
            AddRow(table, layer.Name, layer.Type, Shape.Format(layer.OutputShape), layer.Forward, layer.Backward, total);
        AddRow(table, "other", "", "loss, flatten, tape", times.OtherForward, times.OtherBackward, total);
        AddRow(table, "total", "", "", times.TotalForward, times.TotalBackward, total);
        AnsiConsole.Write(table);
        Console.WriteLine("Backward per layer sums the tape entries its forward call recorded; the optimizer step " +
                          "is not included.");
        return ExitCodes.Success;
    }

    private static void AddRow(Table table, string name, string type, string shape, TimeSpan forward,
        TimeSpan backward, double totalMilliseconds)
    {
        double share = (forward + backward).TotalMilliseconds / totalMilliseconds;
        table.AddRow(Markup.Escape(name), type, shape,
            forward.TotalMilliseconds.ToString("F2", CultureInfo.InvariantCulture),
            backward.TotalMilliseconds.ToString("F2", CultureInfo.InvariantCulture),
            share.ToString("P1", CultureInfo.InvariantCulture));
    }
}
