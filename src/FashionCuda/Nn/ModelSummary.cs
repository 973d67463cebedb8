using FashionCuda.Autograd;
using FashionCuda.Tensors;

namespace FashionCuda.Nn;

/// <summary>Per-layer shapes, parameters and FLOPs found by running one input through a model.</summary>
public static class ModelSummary
{
    public sealed record Row(string Name, string Type, string Settings, int[] OutputShape, long Parameters, long Flops);

    /// <summary>
    /// Runs a zero input of <paramref name="inputShape"/> in evaluation mode and records every leaf layer call.
    /// A module called more than once in a forward pass, such as the MLP that CBAM shares between its average and
    /// max branches, gets one row per call, named "NAME (2nd call)" and so on. Its parameters count on the first
    /// call only, so the rows add up to the model's parameter count.
    /// </summary>
    public static List<Row> Trace(Module model, int[] inputShape)
    {
        var names = model.NamedModules().ToDictionary(entry => entry.Module, entry => entry.Name);
        var backend = model.Parameters().First().Backend;
        bool wasTraining = model.Training;
        model.Eval();
        var rows = new List<Row>();
        using (var noGrad = GradMode.NoGrad())
        using (var scope = new TensorScope())
        using (var trace = new ModuleTrace())
        {
            var input = Tensor.Zeros(backend, inputShape);
            model.Call(input);
            var calls = new Dictionary<Module, int>(ReferenceEqualityComparer.Instance);
            foreach (var record in trace.Records)
            {
                int call = calls[record.Module] = calls.GetValueOrDefault(record.Module) + 1;
                string name = names.GetValueOrDefault(record.Module, "?");
                if (call > 1)
                    name += $" ({Ordinal(call)} call)";
                rows.Add(new Row(name, record.Module.GetType().Name, record.Module.Describe(), record.OutputShape,
                    call == 1 ? record.Parameters : 0, record.Flops));
            }
        }
        model.Train(wasTraining);
        return rows;
    }

    /// <summary>"2nd", "3rd", "4th", "11th", "21st".</summary>
    private static string Ordinal(int number)
    {
        string suffix = (number % 100) is 11 or 12 or 13
            ? "th"
            : (number % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" };
        return $"{number}{suffix}";
    }
}
