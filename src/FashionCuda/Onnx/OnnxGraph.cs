using System.Runtime.InteropServices;

namespace FashionCuda.Onnx;

/// <summary>An ONNX node attribute: one int, float, list of ints or list of floats.</summary>
public sealed record OnnxAttribute(string Name, long? Int = null, float? Float = null, long[]? Ints = null)
{
    public static OnnxAttribute Of(string name, long value) => new(name, Int: value);

    public static OnnxAttribute Of(string name, float value) => new(name, Float: value);

    /// <summary>A list of ints (INTS), even of one element such as <c>axes</c>.</summary>
    public static OnnxAttribute List(string name, params long[] values) => new(name, Ints: values);
}

/// <summary>One operator of the graph: its type (for example <c>Conv</c>), input and output value names.</summary>
public sealed record OnnxNode(string OpType, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes);

/// <summary>A constant tensor of the graph (a weight, or the shape of a Reshape): float32 or int64.</summary>
public sealed record OnnxInitializer(string Name, long[] Dims, float[]? Floats = null, long[]? Int64s = null);

/// <summary>
/// An ONNX model being built: nodes in execution order, initializers, and one float32 input and output whose
/// first dimension is the symbolic batch size <c>N</c>. <see cref="ToBytes"/> serializes it as a ModelProto.
/// </summary>
/// <remarks>
/// Field numbers are those of onnx.proto. ModelProto: ir_version 1, producer_name 2, producer_version 3,
/// graph 7, opset_import 8, metadata_props 14. GraphProto: node 1, name 2, initializer 5, input 11, output 12.
/// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. TensorProto: dims 1, data_type 2, name 8,
/// raw_data 9.
/// </remarks>
public sealed class OnnxGraph
{
    /// <summary>Default-domain operator set the exported nodes follow (ONNX 1.8, 2020).</summary>
    public const int OpsetVersion = 13;

    /// <summary>IR version 7 is the one that came with opset 13.</summary>
    public const int IrVersion = 7;

    private const int FloatType = 1; // TensorProto.DataType.FLOAT
    private const int Int64Type = 7; // TensorProto.DataType.INT64

    public List<OnnxNode> Nodes { get; } = new();

    public List<OnnxInitializer> Initializers { get; } = new();

    public required string InputName { get; init; }

    /// <summary>Input shape without the batch dimension, for example (1, 28, 28).</summary>
    public required int[] InputShape { get; init; }

    public string OutputName { get; set; } = "";

    public int[] OutputShape { get; set; } = [];

    public byte[] ToBytes(string producerVersion, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var model = new ProtobufWriter();
        model.WriteInt64(1, IrVersion);
        model.WriteString(2, "fashioncuda");
        model.WriteString(3, producerVersion);
        model.WriteMessage(7, WriteGraph);
        model.WriteMessage(8, opset =>
        {
            opset.WriteString(1, "");
            opset.WriteInt64(2, OpsetVersion);
        });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            model.WriteMessage(14, entry =>
            {
                entry.WriteString(1, key);
                entry.WriteString(2, value);
            });
        }
        return model.ToArray();
    }

    private void WriteGraph(ProtobufWriter graph)
    {
        for (int i = 0; i < Nodes.Count; i++)
        {
            var node = Nodes[i];
            graph.WriteMessage(1, writer => WriteNode(writer, node, $"{node.OpType}_{i}"));
        }
        graph.WriteString(2, "fashioncuda");
        foreach (var initializer in Initializers)
            graph.WriteMessage(5, writer => WriteInitializer(writer, initializer));
        graph.WriteMessage(11, writer => WriteValueInfo(writer, InputName, InputShape));
        graph.WriteMessage(12, writer => WriteValueInfo(writer, OutputName, OutputShape));
    }

    private static void WriteNode(ProtobufWriter writer, OnnxNode node, string name)
    {
        foreach (string input in node.Inputs)
            writer.WriteString(1, input);
        foreach (string output in node.Outputs)
            writer.WriteString(2, output);
        writer.WriteString(3, name);
        writer.WriteString(4, node.OpType);
        foreach (var attribute in node.Attributes)
            writer.WriteMessage(5, w => WriteAttribute(w, attribute));
    }

    /// <summary>AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7).</summary>
    private static void WriteAttribute(ProtobufWriter writer, OnnxAttribute attribute)
    {
        writer.WriteString(1, attribute.Name);
        if (attribute.Float is { } f)
        {
            writer.WriteFloat(2, f);
            writer.WriteInt64(20, 1);
        }
        else if (attribute.Int is { } i)
        {
            writer.WriteInt64(3, i);
            writer.WriteInt64(20, 2);
        }
        else
        {
            foreach (long value in attribute.Ints ?? [])
                writer.WriteInt64(8, value);
            writer.WriteInt64(20, 7);
        }
    }

    private static void WriteInitializer(ProtobufWriter writer, OnnxInitializer initializer)
    {
        foreach (long dim in initializer.Dims)
            writer.WriteInt64(1, dim);
        writer.WriteInt64(2, initializer.Floats is not null ? FloatType : Int64Type);
        writer.WriteString(8, initializer.Name);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX export writes raw little-endian data.");
        // raw_data stores the elements as fixed-width little-endian values.
        if (initializer.Floats is { } floats)
            writer.WriteBytes(9, MemoryMarshal.AsBytes(floats.AsSpan()));
        else
            writer.WriteBytes(9, MemoryMarshal.AsBytes((initializer.Int64s ?? []).AsSpan()));
    }

    /// <summary>ValueInfoProto name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1.</summary>
    private static void WriteValueInfo(ProtobufWriter writer, string name, int[] shape)
    {
        writer.WriteString(1, name);
        writer.WriteMessage(2, type => type.WriteMessage(1, tensor =>
        {
            tensor.WriteInt64(1, FloatType);
            tensor.WriteMessage(2, shapeWriter =>
            {
                shapeWriter.WriteMessage(1, dim => dim.WriteString(2, "N"));
                foreach (int size in shape)
                    shapeWriter.WriteMessage(1, dim => dim.WriteInt64(1, size));
            });
        }));
    }
}
