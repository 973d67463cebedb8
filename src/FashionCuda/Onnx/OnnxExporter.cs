using FashionCuda.Autograd;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Onnx;

/// <summary>
/// Exports a model to ONNX (opset <see cref="OnnxGraph.OpsetVersion"/>) by recording one evaluation-mode forward
/// pass of a zero image. Every parameter and buffer becomes an initializer under its state-dict name, and the
/// graph maps <c>input</c> of shape (N, C, S, S) to <c>logits</c> of shape (N, classes).
/// </summary>
/// <remarks>
/// Dropout is the identity in evaluation mode, so it adds no node. The graph is traced, so control flow that
/// depends on input values would be frozen to the traced path; the engine's models have none.
/// </remarks>
public static class OnnxExporter
{
    public const string InputName = "input";

    public const string OutputName = "logits";

    /// <summary>Records the graph of <paramref name="model"/> for C×S×S inputs, then restores its mode.</summary>
    public static OnnxGraph Trace(Module model, int channels, int size)
    {
        ArgumentNullException.ThrowIfNull(model);
        var backend = model.Parameters().First().Backend;
        var graph = new OnnxGraph { InputName = InputName, InputShape = [channels, size, size] };
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            using var scope = new TensorScope();
            var input = Tensor.Zeros(backend, [1, channels, size, size]);
            using var recorder = new OnnxRecorder(graph, input, model.StateDict());
            var output = model.Call(input);
            Rename(graph, recorder.NameOf(output), OutputName);
            graph.OutputName = OutputName;
            graph.OutputShape = output.Dimensions[1..];
        }
        finally
        {
            model.Train(wasTraining);
        }
        return graph;
    }

    private static void Rename(OnnxGraph graph, string from, string to)
    {
        if (from == graph.InputName)
            throw new NotSupportedException("ONNX export: the model returns its input unchanged.");
        foreach (var node in graph.Nodes)
        {
            for (int i = 0; i < node.Inputs.Length; i++)
            {
                if (node.Inputs[i] == from)
                    node.Inputs[i] = to;
            }
            for (int i = 0; i < node.Outputs.Length; i++)
            {
                if (node.Outputs[i] == from)
                    node.Outputs[i] = to;
            }
        }
    }

    /// <summary>Traces <paramref name="model"/>, writes the ONNX file atomically and returns the graph.</summary>
    /// <param name="metadata">Key-value pairs for the model's metadata_props (class names, normalization).</param>
    public static OnnxGraph Export(Module model, int channels, int size, string path,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var graph = Trace(model, channels, size);
        string version = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        byte[] bytes = graph.ToBytes(version, metadata);
        Training.AtomicFile.Write(path, stream => stream.Write(bytes));
        return graph;
    }
}
