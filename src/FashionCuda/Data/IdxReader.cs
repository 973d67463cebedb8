using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace FashionCuda.Data;

/// <summary>Images from an IDX file: <see cref="Pixels"/> is Count·Rows·Columns bytes, row-major, 0 = background.</summary>
public readonly record struct IdxImages(byte[] Pixels, int Count, int Rows, int Columns);

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (big-endian header, then raw unsigned bytes), plain or
/// gzip-compressed. Gzip is recognized by its magic bytes 1f 8b, so a file's name does not matter.
/// </summary>
/// <remarks>
/// Every problem with a file (missing, unreadable, bad magic number, truncated, trailing bytes, labels out of
/// range, image and label counts that differ) throws a <see cref="DataFileException"/> naming the file.
/// </remarks>
public static class IdxReader
{
    /// <summary>Magic number of an image file: unsigned bytes (0x08), three dimensions (count, rows, columns).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of a label file: unsigned bytes (0x08), one dimension (count).</summary>
    public const int LabelsMagic = 0x00000801;

    private const byte UnsignedByteType = 0x08;

    // Deflate cannot expand data by more than about 1032:1, so a gzip file whose header promises more than this
    // many bytes per compressed byte is certainly truncated, and the reader need not allocate the promised size.
    private const long MaxGzipRatio = 1100;

    private const string RedownloadHint = "Download the file again or pass --data DIR.";

    /// <summary>Reads an image file (magic 0x00000803) of any image size.</summary>
    public static IdxImages ReadImages(string path)
    {
        byte[] pixels = ReadPayload(path, ImagesMagic, out int[] dimensions);
        return new IdxImages(pixels, dimensions[0], dimensions[1], dimensions[2]);
    }

    /// <summary>Reads a label file (magic 0x00000801) and checks that every label is in [0, classCount).</summary>
    public static byte[] ReadLabels(string path, int classCount = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classCount, 256);
        byte[] labels = ReadPayload(path, LabelsMagic, out _);
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classCount)
                throw new DataFileException(path,
                    $"{path} contains label {labels[i]} at index {i}, but labels must be 0-{classCount - 1}. " +
                    "The file is damaged or belongs to another dataset; " + Lowercase(RedownloadHint));
        }

        return labels;
    }

    /// <summary>Reads an image file and its label file and checks that they hold the same number of items.</summary>
    public static ImageDataset ReadDataset(string imagesPath, string labelsPath, int classCount = 10)
    {
        IdxImages images = ReadImages(imagesPath);
        byte[] labels = ReadLabels(labelsPath, classCount);
        if (labels.Length != images.Count)
            throw new DataFileException(labelsPath,
                $"{imagesPath} holds {images.Count} images but {labelsPath} holds {labels.Length} labels. " +
                "Use the images and labels files of the same set (train or t10k).");
        return new ImageDataset(images.Pixels, labels, images.Rows, images.Columns, classCount);
    }

    private static byte[] ReadPayload(string path, int expectedMagic, out int[] dimensions)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            bool isGzip = StartsWithGzipMagic(file);
            using Stream stream = isGzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            dimensions = ReadHeader(stream, path, expectedMagic);
            long headerLength = 4 + 4L * dimensions.Length;
            long expected = ElementCount(dimensions);
            if (expected > Array.MaxLength)
                throw new DataFileException(path,
                    $"{path} is invalid: its header promises {Describe(expectedMagic, dimensions)}, " +
                    "more than one array can hold. " + RedownloadHint);
            long plausible = isGzip ? file.Length * MaxGzipRatio : file.Length - headerLength;
            if (expected > plausible)
                throw Truncated(path, expectedMagic, dimensions, CountRemaining(stream));

            var payload = GC.AllocateUninitializedArray<byte>((int)expected);
            int read = stream.ReadAtLeast(payload, payload.Length, throwOnEndOfStream: false);
            if (read < payload.Length)
                throw Truncated(path, expectedMagic, dimensions, read);
            long trailing = CountRemaining(stream);
            if (trailing > 0)
                throw new DataFileException(path,
                    $"{path} has {trailing} bytes after the {Describe(expectedMagic, dimensions)} that its header " +
                    "promises. The file is damaged or not an IDX file; " + Lowercase(RedownloadHint));
            return payload;
        }
        catch (FileNotFoundException ex)
        {
            throw new DataFileException(path, $"{path} was not found. {RedownloadHint}", ex);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new DataFileException(path, $"{path} was not found: its folder does not exist. {RedownloadHint}", ex);
        }
        catch (InvalidDataException ex)
        {
            throw new DataFileException(path,
                $"{path} is damaged: gzip decompression failed ({ex.Message}). {RedownloadHint}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DataFileException(path, $"{path} could not be read: {ex.Message}", ex);
        }
    }

    private static bool StartsWithGzipMagic(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    /// <summary>Reads and validates the magic number and the dimension sizes.</summary>
    private static int[] ReadHeader(Stream stream, string path, int expectedMagic)
    {
        Span<byte> word = stackalloc byte[4];
        int read = stream.ReadAtLeast(word, 4, throwOnEndOfStream: false);
        if (read < 4)
            throw new DataFileException(path,
                $"{path} is truncated: it ends after {read} bytes, inside the 4-byte magic number. {RedownloadHint}");
        int magic = BinaryPrimitives.ReadInt32BigEndian(word);
        if (magic != expectedMagic)
            throw new DataFileException(path, DescribeWrongMagic(path, magic, expectedMagic));

        int rank = expectedMagic & 0xFF;
        var dimensions = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            read = stream.ReadAtLeast(word, 4, throwOnEndOfStream: false);
            if (read < 4)
                throw new DataFileException(path,
                    $"{path} is truncated: it ends inside the header, at dimension {d + 1} of {rank}. " +
                    RedownloadHint);
            uint size = BinaryPrimitives.ReadUInt32BigEndian(word);
            // The item count may be 0, but an image with no rows or columns cannot be read as one.
            if (size > int.MaxValue || (d > 0 && size == 0))
                throw new DataFileException(path,
                    $"{path} is invalid: dimension {d + 1} of its header has size {size}. {RedownloadHint}");
            dimensions[d] = (int)size;
        }

        return dimensions;
    }

    private static string DescribeWrongMagic(string path, int magic, int expectedMagic)
    {
        string expectedKind = expectedMagic == ImagesMagic ? "an image" : "a label";
        string expected = $"{expectedKind} file needs 0x{expectedMagic:X8}";
        if (magic == ImagesMagic || magic == LabelsMagic)
        {
            string actualKind = magic == ImagesMagic ? "an image" : "a label";
            return $"{path} has magic number 0x{magic:X8}, which marks {actualKind} file, but {expected}. " +
                   "Check that the images and labels paths are not swapped.";
        }

        if ((magic >> 16) == 0 && ((magic >> 8) & 0xFF) != UnsignedByteType)
            return $"{path} stores IDX element type 0x{(magic >> 8) & 0xFF:X2}, but only unsigned bytes (0x08) " +
                   $"are supported: {expected}. {RedownloadHint}";
        if ((magic >> 16) == 0)
            return $"{path} has {magic & 0xFF} dimensions (magic number 0x{magic:X8}), but {expected} " +
                   $"with {expectedMagic & 0xFF}. {RedownloadHint}";
        return $"{path} is not an IDX file: its magic number is 0x{magic:X8}, but {expected}. {RedownloadHint}";
    }

    private static DataFileException Truncated(string path, int magic, int[] dimensions, long available) =>
        new(path,
            $"{path} is truncated: the header promises {Describe(magic, dimensions)} but only {available} bytes " +
            $"follow. {RedownloadHint}");

    private static string Describe(int magic, int[] dimensions)
    {
        long bytes = ElementCount(dimensions);
        return magic == ImagesMagic
            ? $"{dimensions[0]} images of {dimensions[1]}×{dimensions[2]} ({bytes} bytes)"
            : $"{dimensions[0]} labels ({bytes} bytes)";
    }

    private static long ElementCount(int[] dimensions)
    {
        // Saturates instead of overflowing, because any count above Array.MaxLength is rejected anyway.
        long count = 1;
        foreach (int size in dimensions)
            count = size != 0 && count > long.MaxValue / size ? long.MaxValue : count * size;
        return count;
    }

    /// <summary>Reads the stream to its end and returns how many bytes were left.</summary>
    private static long CountRemaining(Stream stream)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long total = 0;
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                total += read;
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string Lowercase(string sentence) => char.ToLowerInvariant(sentence[0]) + sentence[1..];
}
