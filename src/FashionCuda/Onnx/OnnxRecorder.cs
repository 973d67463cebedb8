using System.Globalization;
using FashionCuda.Tensors;

namespace FashionCuda.Onnx;

/// <summary>
/// Records the autograd ops of one forward pass as ONNX nodes while it is open (<see cref="Current"/>): each
/// <c>F.*</c> op reports its inputs, output and settings here. Tensors are matched by reference, so a model's
/// own code (residual adds, attention products) exports without any export code of its own.
/// </summary>
/// <remarks>
/// An op input the recorder has not seen (the result of an op that does not report, or a tensor made inside a
/// forward pass) raises <see cref="NotSupportedException"/>, so a graph is never exported with a gap.
/// </remarks>
public sealed class OnnxRecorder : IDisposable
{
    [ThreadStatic] private static OnnxRecorder? current;

    private readonly OnnxRecorder? parent;
    private readonly Dictionary<Tensor, string> names = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, string> parameters = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> initialized = new(StringComparer.Ordinal);
    private int valueCount;

    /// <param name="parameters">Parameters and buffers by state-dict name, exported as initializers.</param>
    public OnnxRecorder(OnnxGraph graph, Tensor input, IEnumerable<(string Name, Tensor Tensor)> parameters)
    {
        Graph = graph;
        foreach (var (name, tensor) in parameters)
            this.parameters.TryAdd(tensor, name);
        names[input] = graph.InputName;
        parent = current;
        current = this;
    }

    /// <summary>The recorder of this thread, or null when no export runs (the usual case: one read per op).</summary>
    public static OnnxRecorder? Current => current;

    public OnnxGraph Graph { get; }

    public void Dispose() => current = parent;

    /// <summary>Returns the value name of a tensor the graph already has, adding parameters as initializers.</summary>
    public string NameOf(Tensor tensor)
    {
        if (names.TryGetValue(tensor, out var name))
            return name;
        if (parameters.TryGetValue(tensor, out var parameterName))
        {
            if (initialized.Add(parameterName))
                Graph.Initializers.Add(new OnnxInitializer(parameterName, ToLongs(tensor.Dimensions),
                    Floats: tensor.ToArray()));
            return parameterName;
        }
        throw new NotSupportedException(
            $"ONNX export: a {Shape.Format(tensor.Dimensions)} tensor reaches an op without coming from the input, " +
            "a parameter or a recorded op. The model uses an op the exporter does not record.");
    }

    /// <summary>Adds a node and names its output; returns the output name.</summary>
    public string Add(string opType, Tensor output, Tensor?[] inputs, params OnnxAttribute[] attributes)
    {
        var inputNames = inputs.Select(input => input is null ? "" : NameOf(input)).ToArray();
        // Trailing optional inputs that are absent (a conv without bias) are left out.
        int count = inputNames.Length;
        while (count > 0 && inputNames[count - 1].Length == 0)
            count--;
        string name = "t" + (valueCount++).ToString(CultureInfo.InvariantCulture);
        names[output] = name;
        Graph.Nodes.Add(new OnnxNode(opType, inputNames[..count], [name], attributes));
        return name;
    }

    public void Conv2d(Tensor input, Tensor weight, Tensor? bias, int stride, int padding, Tensor output) =>
        Add("Conv", output, [input, weight, bias],
            OnnxAttribute.List("kernel_shape", weight[2], weight[3]),
            OnnxAttribute.List("strides", stride, stride),
            OnnxAttribute.List("pads", padding, padding, padding, padding));

    /// <summary>y = x·Wᵀ + b, as ONNX Gemm with transB = 1.</summary>
    public void Linear(Tensor input, Tensor weight, Tensor? bias, Tensor output) =>
        Add("Gemm", output, [input, weight, bias], OnnxAttribute.Of("transB", 1L));

    /// <summary>An op of one input and no attributes: Relu, Sigmoid, GlobalAveragePool, GlobalMaxPool.</summary>
    public void Unary(string opType, Tensor input, Tensor output) => Add(opType, output, [input]);

    /// <summary>Elementwise Add or Mul; ONNX broadcasts (N, C, 1, 1) and (N, 1, H, W) as the engine does.</summary>
    public void Binary(string opType, Tensor a, Tensor b, Tensor output) => Add(opType, output, [a, b]);

    /// <summary>MaxPool, or AveragePool with the padding counted in the divisor as the engine counts it.</summary>
    public void Pool(string opType, Tensor input, int kernel, int stride, int padding, Tensor output)
    {
        var attributes = new List<OnnxAttribute>
        {
            OnnxAttribute.List("kernel_shape", kernel, kernel),
            OnnxAttribute.List("strides", stride, stride),
            OnnxAttribute.List("pads", padding, padding, padding, padding),
        };
        if (opType == "AveragePool")
            attributes.Add(OnnxAttribute.Of("count_include_pad", 1L));
        Add(opType, output, [input], attributes.ToArray());
    }

    /// <summary>Batch norm with the running statistics; exporting a training-mode batch norm is an error.</summary>
    public void BatchNorm2d(Tensor input, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar,
        bool training, float epsilon, Tensor output)
    {
        if (training)
            throw new NotSupportedException("ONNX export needs the model in evaluation mode; call model.Eval() first.");
        Add("BatchNormalization", output, [input, weight, bias, runningMean, runningVar],
            OnnxAttribute.Of("epsilon", epsilon));
    }

    public void LocalResponseNorm(Tensor input, int size, float alpha, float beta, float k, Tensor output)
    {
        // ONNX centres an even window one channel higher than PyTorch and the engine do.
        if (size % 2 == 0)
            throw new NotSupportedException(
                $"ONNX export: local response norm of even size {size} has a different window in ONNX; use an " +
                "odd size.");
        Add("LRN", output, [input], OnnxAttribute.Of("size", (long)size), OnnxAttribute.Of("alpha", alpha),
            OnnxAttribute.Of("beta", beta), OnnxAttribute.Of("bias", k));
    }

    /// <summary>ReduceMean or ReduceMax over the channels with keepdims: (N, C, H, W) → (N, 1, H, W).</summary>
    public void ReduceChannels(string opType, Tensor input, Tensor output) =>
        Add(opType, output, [input], OnnxAttribute.List("axes", 1L), OnnxAttribute.Of("keepdims", 1L));

    public void ConcatChannels(Tensor[] inputs, Tensor output) =>
        Add("Concat", output, inputs.Cast<Tensor?>().ToArray(), OnnxAttribute.Of("axis", 1L));

    /// <summary>
    /// A reshape that keeps the batch dimension: Flatten(axis 1) when it makes (N, rest), else Reshape with the
    /// batch dimension written as 0 (copy from the input), so the exported graph accepts any batch size.
    /// </summary>
    public void Reshape(Tensor input, Tensor output)
    {
        if (output.Rank == 2 && output[0] == input[0])
        {
            Add("Flatten", output, [input], OnnxAttribute.Of("axis", 1L));
            return;
        }
        var shape = ToLongs(output.Dimensions);
        if (shape.Length > 0 && output[0] == input[0])
            shape[0] = 0;
        string shapeName = "shape" + Graph.Initializers.Count.ToString(CultureInfo.InvariantCulture);
        Graph.Initializers.Add(new OnnxInitializer(shapeName, [shape.Length], Int64s: shape));
        string inputName = NameOf(input);
        string name = "t" + (valueCount++).ToString(CultureInfo.InvariantCulture);
        names[output] = name;
        Graph.Nodes.Add(new OnnxNode("Reshape", [inputName, shapeName], [name], []));
    }

    private static long[] ToLongs(int[] values) => values.Select(v => (long)v).ToArray();
}
