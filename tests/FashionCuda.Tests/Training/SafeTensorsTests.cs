using System.Buffers.Binary;
using System.Text;
using FashionCuda.Training;

namespace FashionCuda.Tests.Training;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-st-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void WriteRead_RoundTripsTensorsAndMetadata()
    {
        string path = Path.Combine(directory, "a.safetensors");
        SafeTensors.Write(path,
            [("features.0.weight", [2, 3], [1, 2, 3, 4, 5, 6]), ("bias", [2], [-0.5f, 7.25f])],
            new Dictionary<string, string> { ["config"] = "{\"epochs\": 1}" });
        var (tensors, metadata) = SafeTensors.Read(path);
        Assert.Equal([2, 3], tensors["features.0.weight"].Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], tensors["features.0.weight"].Values);
        Assert.Equal([-0.5f, 7.25f], tensors["bias"].Values);
        Assert.Equal("{\"epochs\": 1}", metadata["config"]);
    }

    [Fact]
    public void Write_AlignsDataAndFollowsTheLayout()
    {
        string path = Path.Combine(directory, "b.safetensors");
        SafeTensors.Write(path, [("x", [1], [3.5f])]);
        var bytes = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Contains("\"dtype\":\"F32\"", header);
        Assert.Contains("\"data_offsets\":[0,4]", header);
        Assert.Equal(3.5f, BitConverter.ToSingle(bytes, 8 + (int)headerLength));
        Assert.Equal(8 + (int)headerLength + 4, bytes.Length);
    }

    [Fact]
    public void Read_ReportsTruncatedFileWithPath()
    {
        string path = Path.Combine(directory, "c.safetensors");
        SafeTensors.Write(path, [("w", [4, 4], new float[16])]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Read_ReportsNegativeDimension()
    {
        string path = Path.Combine(directory, "n.safetensors");
        byte[] header = """{"w":{"dtype":"F32","shape":[-2,2],"data_offsets":[0,16]}}"""u8.ToArray();
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[16]]);
        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(path));
        Assert.StartsWith($"Checkpoint {path} has an invalid header (", error.Message);
    }

    [Fact]
    public void Read_ReportsGarbageHeader()
    {
        string path = Path.Combine(directory, "d.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(4UL), .. "{{{{"u8.ToArray()]);
        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(path));
        Assert.Contains("invalid header", error.Message);
    }

    [Fact]
    public void Read_GarbageHeaderHidesParserText()
    {
        string path = Path.Combine(directory, "g.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(8UL), .. "{\"a\": }"u8.ToArray()]);
        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(path));
        Assert.DoesNotContain("LineNumber", error.Message);
        Assert.Contains("restore the file", error.Message);
    }

    [Fact]
    public void Read_FlippedDataByteIsCorrupt()
    {
        string path = Path.Combine(directory, "f.safetensors");
        SafeTensors.Write(path, [("w", [4], [1f, 2f, 3f, 4f])]);
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void Read_ChangedMetadataValueIsCorrupt()
    {
        string path = Path.Combine(directory, "m.safetensors");
        SafeTensors.Write(path, [("w", [1], [1f])], new Dictionary<string, string> { ["epoch"] = "3" });
        var bytes = File.ReadAllBytes(path);
        int digit = Encoding.UTF8.GetString(bytes).IndexOf("\"epoch\":\"3\"", StringComparison.Ordinal) + 9;
        Assert.Equal((byte)'3', bytes[digit]);
        bytes[digit] = (byte)'4';
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(path));

        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void Read_FileWithoutChecksumIsAccepted()
    {
        // Files written by PyTorch's safetensors have no checksum and are read as they are.
        string path = Path.Combine(directory, "p.safetensors");
        string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        File.WriteAllBytes(path,
            [.. BitConverter.GetBytes((ulong)header.Length), .. Encoding.UTF8.GetBytes(header), .. BitConverter.GetBytes(2.5f)]);

        var (tensors, metadata) = SafeTensors.Read(path);

        Assert.Equal([2.5f], tensors["w"].Values);
        Assert.Empty(metadata);
    }

    [Fact]
    public void Write_ReplacesAtomicallyAndLeavesNoTemporary()
    {
        string path = Path.Combine(directory, "e.safetensors");
        File.WriteAllText(path, "old");
        SafeTensors.Write(path, [("x", [1], [1f])]);
        Assert.Single(Directory.GetFiles(directory));
        Assert.Equal(1f, SafeTensors.Read(path).Tensors["x"].Values[0]);
    }

    [Fact]
    public void AtomicWrite_KeepsOldFileWhenWriterFails()
    {
        string path = Path.Combine(directory, "f.txt");
        File.WriteAllText(path, "complete");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.WriteByte(1);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal("complete", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(directory));
    }
}
