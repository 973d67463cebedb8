using System.Security.Cryptography;
using System.Text;
using FashionCuda.Training;

namespace FashionCuda.Data;

/// <summary>
/// One binary file per split holding its decoded images, named by a SHA-256 key over the transform settings,
/// the class names and each listed file's full path, label, size and modification time. A changed, added or
/// removed photo changes the key, so a stale cache is never read; it is rebuilt and the old file removed.
/// </summary>
/// <remarks>
/// Layout, little-endian: magic "FCIMGC01" and the 32-byte key; int32 channels, size, class count, listed count
/// and kept count; the kept entries' indices (int32 each), labels (one byte each) and pixels; the skipped
/// entries (int32 index and a length-prefixed UTF-8 reason each); then the magic again. Files are written
/// atomically.
/// </remarks>
internal static class ImageFolderCache
{
    private static readonly byte[] Magic = "FCIMGC01"u8.ToArray();

    public sealed record Entry(string Path, byte Label);

    public sealed record Content(int[] KeptIndices, byte[] Labels, byte[] Pixels, (int Index, string Reason)[] Skipped);

    /// <summary>Computes the key of a split; it reads only file sizes and times, never the images.</summary>
    public static byte[] Key(string split, IReadOnlyList<Entry> entries, IReadOnlyList<string> classNames,
        ImageTransform transform)
    {
        var text = new StringBuilder();
        text.Append("fashioncuda-image-cache-1\n").Append(split).Append('\n').Append(transform.Key).Append('\n');
        text.Append(string.Join("\u001f", classNames)).Append('\n');
        foreach (var entry in entries)
        {
            var info = new FileInfo(entry.Path);
            long length = info.Exists ? info.Length : -1;
            long modified = info.Exists ? info.LastWriteTimeUtc.Ticks : -1;
            text.Append(entry.Path).Append('\u001f').Append(entry.Label).Append('\u001f').Append(length)
                .Append('\u001f').Append(modified).Append('\n');
        }
        return SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>
    /// Returns the cache file of a split: <c>{split}-{source hash}-{key hash}.bin</c>, where the source hash
    /// (of the folder or list file) keeps datasets that share a cache folder apart.
    /// </summary>
    public static string FilePath(string directory, string source, string split, byte[] key)
    {
        string sourceHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)).AsSpan(0, 4));
        return Path.Combine(directory, $"{split}-{sourceHash}-{Convert.ToHexStringLower(key.AsSpan(0, 8))}.bin");
    }

    /// <summary>Reads a cache file, or returns null when it is missing, of another key or damaged.</summary>
    public static Content? TryRead(string path, byte[] key, int listed, ImageTransform transform, int classCount)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic) ||
                !reader.ReadBytes(key.Length).AsSpan().SequenceEqual(key))
                return null;
            if (reader.ReadInt32() != transform.Channels || reader.ReadInt32() != transform.Size ||
                reader.ReadInt32() != classCount || reader.ReadInt32() != listed)
                return null;
            int kept = reader.ReadInt32();
            if (kept < 0 || kept > listed)
                return null;
            var indices = new int[kept];
            for (int i = 0; i < kept; i++)
                indices[i] = reader.ReadInt32();
            var labels = reader.ReadBytes(kept);
            long pixelCount = (long)kept * transform.Channels * transform.Size * transform.Size;
            var pixels = reader.ReadBytes(checked((int)pixelCount));
            if (labels.Length != kept || pixels.Length != pixelCount)
                return null;
            int skippedCount = reader.ReadInt32();
            if (skippedCount < 0 || skippedCount + kept != listed)
                return null;
            var skipped = new (int, string)[skippedCount];
            for (int i = 0; i < skippedCount; i++)
                skipped[i] = (reader.ReadInt32(), reader.ReadString());
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                return null;
            return new Content(indices, labels, pixels, skipped);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OverflowException
                                      or FormatException)
        {
            // EndOfStreamException (truncated) is an IOException; a damaged cache is rebuilt, never an error.
            return null;
        }
    }

    /// <summary>Writes the cache file atomically and deletes older cache files of the same split.</summary>
    public static void Write(string path, byte[] key, int listed, ImageTransform transform, int classCount,
        Content content)
    {
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(key);
            writer.Write(transform.Channels);
            writer.Write(transform.Size);
            writer.Write(classCount);
            writer.Write(listed);
            writer.Write(content.KeptIndices.Length);
            foreach (int index in content.KeptIndices)
                writer.Write(index);
            writer.Write(content.Labels);
            writer.Write(content.Pixels);
            writer.Write(content.Skipped.Length);
            foreach (var (index, reason) in content.Skipped)
            {
                writer.Write(index);
                writer.Write(reason);
            }
            writer.Write(Magic);
        });
        string name = Path.GetFileName(path);
        string prefix = name[..(name.LastIndexOf('-') + 1)];
        foreach (string old in Directory.EnumerateFiles(directory, prefix + "*.bin"))
        {
            if (!string.Equals(old, path, StringComparison.Ordinal))
                File.Delete(old);
        }
    }
}
