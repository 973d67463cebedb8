using System.Buffers.Binary;
using System.Security.Cryptography;

namespace FashionCuda.Data;

/// <summary>
/// A SHA-256 digest of the images and labels a run trains and tests on, stored with the training state so that
/// <c>train --resume</c> can tell when the data changed. It depends on the content only, never on paths or
/// file times, so a moved or copied dataset with the same images keeps its fingerprint.
/// </summary>
public static class DatasetFingerprint
{
    /// <summary>Returns the lowercase hex digest over the shape, class count, labels and pixels of each dataset.</summary>
    public static string Compute(params ImageDataset[] datasets)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[20];
        foreach (var dataset in datasets)
        {
            BinaryPrimitives.WriteInt32LittleEndian(header, dataset.Count);
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], dataset.Channels);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], dataset.Height);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], dataset.Width);
            BinaryPrimitives.WriteInt32LittleEndian(header[16..], dataset.ClassCount);
            hash.AppendData(header);
            hash.AppendData(dataset.Labels);
            hash.AppendData(dataset.Pixels);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
