using System.Buffers.Binary;
using System.IO.Compression;
using FashionCuda.Data;

namespace FashionCuda.Tests.Data;

/// <summary>A temporary folder, deleted with its contents on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("fashioncuda-data-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Writes small IDX files for tests, plain or gzipped, optionally damaged.</summary>
internal static class IdxTestFiles
{
    public static byte[] Encode(int magic, int[] dimensions, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int d = 0; d < dimensions.Length; d++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dimensions[d]);
        payload.CopyTo(bytes.AsSpan(4 + 4 * dimensions.Length));
        return bytes;
    }

    public static byte[] EncodeImages(int count, int rows, int columns, ReadOnlySpan<byte> pixels) =>
        Encode(IdxReader.ImagesMagic, [count, rows, columns], pixels);

    public static byte[] EncodeLabels(ReadOnlySpan<byte> labels) =>
        Encode(IdxReader.LabelsMagic, [labels.Length], labels);

    public static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(content);
        return output.ToArray();
    }

    public static string Write(string path, byte[] content, bool gzip)
    {
        File.WriteAllBytes(path, gzip ? Gzip(content) : content);
        return path;
    }

    /// <summary>Pixel values that differ between neighbouring images, rows and columns.</summary>
    public static byte[] PatternPixels(int count, int rows, int columns)
    {
        var pixels = new byte[count * rows * columns];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)(i * 7 % 256);
        return pixels;
    }

    /// <summary>Labels 0, 1, ..., 9, 0, 1, ...</summary>
    public static byte[] CyclicLabels(int count) => Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();

    /// <summary>Writes a complete set of four dataset files into <paramref name="directory"/>.</summary>
    public static void WriteDataset(string directory, int trainCount, int testCount, bool gzip)
    {
        Directory.CreateDirectory(directory);
        string suffix = gzip ? ".gz" : "";
        foreach ((string prefix, int count) in new[] { ("train", trainCount), ("t10k", testCount) })
        {
            Write(Path.Combine(directory, $"{prefix}-images-idx3-ubyte{suffix}"),
                EncodeImages(count, 28, 28, PatternPixels(count, 28, 28)), gzip);
            Write(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte{suffix}"),
                EncodeLabels(CyclicLabels(count)), gzip);
        }
    }
}
