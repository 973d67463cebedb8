using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FashionCuda.Training;

/// <summary>A checkpoint file that is missing, truncated or not valid safetensors.</summary>
public sealed class CheckpointException(string message) : Exception(message);

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a UTF-8 JSON header mapping
/// each tensor name to its dtype, shape and byte range, then the raw little-endian data. Only F32 is used.
/// String metadata goes in the header's <c>__metadata__</c> object, with a SHA-256 checksum under
/// <see cref="ChecksumKey"/> that <see cref="Read"/> verifies.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>
    /// Metadata key of the checksum <see cref="Checksum"/> computes. Files without it (written by other tools or
    /// by older versions) are read unchecked.
    /// </summary>
    public const string ChecksumKey = "fashioncuda_sha256";

    /// <summary>Fix appended to read errors when the caller names none.</summary>
    private const string DefaultFix = "restore the file from a copy, or train the model again";

    /// <summary>
    /// Writes <paramref name="tensors"/> atomically: to a temporary file in the same folder, flushed to disk,
    /// then renamed over <paramref name="path"/>, so a crash never leaves a half-written checkpoint.
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, float[] Values)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var withChecksum = metadata?.Where(entry => entry.Key != ChecksumKey)
            .ToDictionary(entry => entry.Key, entry => entry.Value) ?? new Dictionary<string, string>();
        withChecksum[ChecksumKey] = Checksum(list, withChecksum);
        byte[] header = BuildHeader(list, withChecksum);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var (_, _, values) in list)
            {
                var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
                if (!BitConverter.IsLittleEndian)
                    throw new PlatformNotSupportedException("safetensors writing needs a little-endian machine.");
                stream.Write(bytes);
            }
        });
    }

    /// <summary>
    /// Returns the lowercase hex SHA-256 of the tensors (sorted by name: name, shape and little-endian values) and
    /// the metadata other than <see cref="ChecksumKey"/> (sorted by key), so it does not depend on the byte layout
    /// of the header.
    /// </summary>
    public static string Checksum(IEnumerable<(string Name, int[] Shape, float[] Values)> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void AppendText(string text)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(text));
            hash.AppendData([0]);
        }
        foreach (var (key, value) in metadata.Where(e => e.Key != ChecksumKey).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            AppendText(key);
            AppendText(value);
        }
        foreach (var (name, shape, values) in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            AppendText(name);
            AppendText(string.Join(",", shape));
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("safetensors checksums need a little-endian machine.");
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// Reads every tensor and the metadata, and verifies the checksum when the file has one; any inconsistency is
    /// a <see cref="CheckpointException"/> that names the file and ends with <paramref name="fix"/>.
    /// </summary>
    /// <param name="fix">What the user should do about a damaged file, as a clause.</param>
    public static (Dictionary<string, (int[] Shape, float[] Values)> Tensors, Dictionary<string, string> Metadata)
        Read(string path, string fix = DefaultFix)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"Cannot read checkpoint {path}: {e.Message}");
        }
        if (file.Length == 0)
            throw new CheckpointException($"Checkpoint {path} is empty; {fix}.");
        if (file.Length < 8)
            throw new CheckpointException(
                $"Checkpoint {path} is truncated: {file.Length} bytes, not even a header; {fix}.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderBytes || (long)headerLength > file.Length - 8)
            throw new CheckpointException(
                $"Checkpoint {path} is truncated or not safetensors: the header claims {headerLength} bytes but " +
                $"the file has {file.Length}; {fix}.");
        var data = file.AsMemory(8 + (int)headerLength);
        var tensors = new Dictionary<string, (int[] Shape, float[] Values)>();
        var metadata = new Dictionary<string, string>();
        try
        {
            using var document = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var entry in property.Value.EnumerateObject())
                        metadata[entry.Name] = entry.Value.GetString() ?? "";
                    continue;
                }
                tensors[property.Name] = ReadTensor(path, property, data.Span, fix);
            }
        }
        catch (JsonException e)
        {
            long position = 8 + (e.BytePositionInLine ?? 0);
            throw new CheckpointException(
                $"Checkpoint {path} has an invalid header: the JSON is malformed near byte {position}; {fix}.");
        }
        // ArgumentException comes from a negative dimension in a tensor's shape.
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException
                                      or ArgumentException)
        {
            throw new CheckpointException(
                $"Checkpoint {path} has an invalid header ({FirstSentence(e.Message)}); {fix}.");
        }
        if (metadata.TryGetValue(ChecksumKey, out var expected) &&
            Checksum(tensors.Select(t => (t.Key, t.Value.Shape, t.Value.Values)), metadata) != expected)
            throw new CheckpointException(
                $"Checkpoint {path} is corrupt: its contents do not match the SHA-256 checksum written with it, " +
                $"so bytes changed after it was saved; {fix}.");
        return (tensors, metadata);
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).TrimEnd('.', ' ');
    }

    private static (int[] Shape, float[] Values) ReadTensor(string path, JsonProperty property, ReadOnlySpan<byte> data,
        string fix)
    {
        var info = property.Value;
        string dtype = info.GetProperty("dtype").GetString() ?? "";
        if (dtype != "F32")
            throw new CheckpointException($"Checkpoint {path}: tensor '{property.Name}' is {dtype}; only F32 is read.");
        var shape = info.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var offsets = info.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        long count = Tensors.Shape.Elements(shape);
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] > data.Length || offsets[1] - offsets[0] != 4 * count)
            throw new CheckpointException(
                $"Checkpoint {path} is truncated or corrupt: tensor '{property.Name}' of shape " +
                $"{Tensors.Shape.Format(shape)} claims bytes [{string.Join(", ", offsets)}] of {data.Length}; " +
                $"{fix}.");
        var values = new float[count];
        data.Slice((int)offsets[0], (int)(4 * count)).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return (shape, values);
    }

    private static byte[] BuildHeader(List<(string Name, int[] Shape, float[] Values)> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, shape, values) in tensors)
            {
                if (values.Length != Tensors.Shape.Elements(shape))
                    throw new ArgumentException($"Tensor '{name}' has {values.Length} values for shape " +
                                                $"{Tensors.Shape.Format(shape)}.");
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int dimension in shape)
                    json.WriteNumberValue(dimension);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += 4L * values.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data starts 8-byte aligned, as the format recommends.
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++)
            buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}

/// <summary>Error for an output file whose path is a folder. The message names the path and the fix.</summary>
public sealed class OutputPathException(string message) : IOException(message);

/// <summary>Writes files through a temporary sibling and a rename, so readers see the old or the new file.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Raises an <see cref="OutputPathException"/> when the path of one of <paramref name="names"/> in
    /// <paramref name="directory"/> is a folder, so a command can stop before it does work it could not save.
    /// </summary>
    public static void RequireWritable(string directory, IEnumerable<string> names)
    {
        foreach (string name in names)
            RequireNoFolder(Path.GetFullPath(Path.Combine(directory, name)));
    }

    private static void RequireNoFolder(string full)
    {
        if (Directory.Exists(full))
            throw new OutputPathException(
                $"{full} is a folder, but the file {Path.GetFileName(full)} goes there; move or delete that folder " +
                "and run the command again.");
    }

    public static void Write(string path, Action<FileStream> write)
    {
        string full = Path.GetFullPath(path);
        RequireNoFolder(full);
        string directory = Path.GetDirectoryName(full) ?? ".";
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public static void WriteText(string path, string text) =>
        Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));
}
