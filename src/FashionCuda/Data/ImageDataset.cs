using FashionCuda.Tensors;

namespace FashionCuda.Data;

/// <summary>
/// Labelled images kept as bytes: <see cref="Pixels"/> is Count·Channels·Height·Width values, image-major, then
/// channel-major (CHW) and row-major (0 = no intensity, 255 = full), and <see cref="Labels"/> holds one class index
/// per image. Fashion-MNIST has one channel; photo folders have one or three (RGB).
/// </summary>
/// <remarks>
/// Subsets copy the images they keep, except <see cref="Take"/> of at least <see cref="Count"/> images, which returns
/// this dataset itself.
/// </remarks>
public sealed class ImageDataset
{
    public ImageDataset(byte[] pixels, byte[] labels, int height, int width, int classCount = 10, int channels = 1)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if ((long)labels.Length * channels * height * width != pixels.Length)
            throw new ArgumentException(
                $"{pixels.Length} pixels do not make {labels.Length} images of {channels}×{height}×{width}.",
                nameof(pixels));
        Pixels = pixels;
        Labels = labels;
        Height = height;
        Width = width;
        ClassCount = classCount;
        Channels = channels;
    }

    public byte[] Pixels { get; }

    public byte[] Labels { get; }

    public int Count => Labels.Length;

    public int Height { get; }

    public int Width { get; }

    public int Channels { get; }

    /// <summary>Bytes per image: Channels·Height·Width.</summary>
    public int PixelsPerImage => Channels * Height * Width;

    /// <summary>Number of classes; every label is below it.</summary>
    public int ClassCount { get; }

    /// <summary>The Channels·Height·Width pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(checked(index * PixelsPerImage), PixelsPerImage);

    /// <summary>Counts the images of each class.</summary>
    public int[] CountPerClass()
    {
        var counts = new int[ClassCount];
        foreach (byte label in Labels)
            counts[label]++;
        return counts;
    }

    /// <summary>Copies the images at <paramref name="indices"/>, in that order, into a new dataset.</summary>
    public ImageDataset Subset(ReadOnlySpan<int> indices)
    {
        var pixels = new byte[(long)indices.Length * PixelsPerImage];
        var labels = new byte[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), index,
                    $"Index {index} is outside the dataset of {Count} images.");
            Image(index).CopyTo(pixels.AsSpan(i * PixelsPerImage, PixelsPerImage));
            labels[i] = Labels[index];
        }

        return new ImageDataset(pixels, labels, Height, Width, ClassCount, Channels);
    }

    /// <summary>Returns the first <paramref name="count"/> images (all of them if there are fewer).</summary>
    public ImageDataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Count)
            return this;
        int[] indices = Enumerable.Range(0, count).ToArray();
        return Subset(indices);
    }

    /// <summary>
    /// Returns the first <paramref name="perClass"/> images of each class, kept in file order. Throws if a class has
    /// fewer images.
    /// </summary>
    public ImageDataset TakeBalanced(int perClass)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perClass);
        var taken = new int[ClassCount];
        var indices = new List<int>(perClass * ClassCount);
        for (int i = 0; i < Count; i++)
        {
            if (taken[Labels[i]] < perClass)
            {
                taken[Labels[i]]++;
                indices.Add(i);
            }
        }

        int shortClass = Array.FindIndex(taken, n => n < perClass);
        if (shortClass >= 0)
            throw new ArgumentOutOfRangeException(nameof(perClass), perClass,
                $"Class {shortClass} has only {taken[shortClass]} images, fewer than {perClass}.");
        return Subset(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(indices));
    }

    /// <summary>
    /// Splits off <paramref name="validationCount"/> images chosen at random (a Fisher–Yates shuffle of all indices
    /// by <see cref="Rng"/> seeded with <paramref name="seed"/>, whose first indices go to validation). Both parts
    /// keep the original order of their images, and the same seed always gives the same split.
    /// </summary>
    public (ImageDataset Train, ImageDataset Validation) SplitValidation(int validationCount, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(validationCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(validationCount, Count);
        int[] order = Enumerable.Range(0, Count).ToArray();
        new Rng(seed).Shuffle(order.AsSpan());
        Span<int> validation = order.AsSpan(0, validationCount);
        Span<int> train = order.AsSpan(validationCount);
        validation.Sort();
        train.Sort();
        return (Subset(train), Subset(validation));
    }
}
