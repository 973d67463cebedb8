using System.Buffers.Binary;
using System.Text;

namespace FashionCuda.Onnx;

/// <summary>
/// Writes Protocol Buffers wire format into a growing buffer: varint (wire type 0), 32-bit (type 5) and
/// length-delimited (type 2) fields, which are all that ONNX's ModelProto needs. Field order follows the calls.
/// </summary>
internal sealed class ProtobufWriter
{
    private const int Varint = 0;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    private readonly MemoryStream buffer = new();

    public byte[] ToArray() => buffer.ToArray();

    /// <summary>An int32, int64 or enum field; negative values take 10 bytes, as protobuf encodes them.</summary>
    public void WriteInt64(int field, long value)
    {
        WriteTag(field, Varint);
        WriteVarint((ulong)value);
    }

    public void WriteFloat(int field, float value)
    {
        WriteTag(field, Fixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        buffer.Write(bytes);
    }

    public void WriteString(int field, string value) => WriteBytes(field, Encoding.UTF8.GetBytes(value));

    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        buffer.Write(value);
    }

    /// <summary>Writes a nested message: <paramref name="write"/> fills it, then it goes in with its length.</summary>
    public void WriteMessage(int field, Action<ProtobufWriter> write)
    {
        var nested = new ProtobufWriter();
        write(nested);
        WriteBytes(field, nested.buffer.GetBuffer().AsSpan(0, (int)nested.buffer.Length));
    }

    private void WriteTag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        buffer.WriteByte((byte)value);
    }
}
