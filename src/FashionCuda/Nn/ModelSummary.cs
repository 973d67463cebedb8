using FashionCuda.Autograd;
using FashionCuda.Tensors;

namespace FashionCuda.Nn;

/// <summary>Per-layer shapes, parameters and FLOPs found by running one input through a model.</summary>
public static class ModelSummary
{
    public sealed record Row(string Name, string Type, string Settings, int[] OutputShape, long Parameters, long Flops);

    /// <summary>Runs a zero input of <paramref name="inputShape"/> in evaluation mode and records every leaf layer.</summary>
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
            foreach (var record in trace.Records)
            {
                rows.Add(new Row(names.GetValueOrDefault(record.Module, "?"), record.Module.GetType().Name,
                    record.Module.Describe(), record.OutputShape, record.Parameters, record.Flops));
            }
        }
        model.Train(wasTraining);
        return rows;
    }
}
