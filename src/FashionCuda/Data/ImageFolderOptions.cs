namespace FashionCuda.Data;

/// <summary>How an image whose aspect ratio differs from the square input is fitted to it.</summary>
public enum ResizeMode
{
    /// <summary>Scale so the short side fits, then cut the centre square: nothing is added, edges are lost.</summary>
    Crop,

    /// <summary>Scale so the long side fits, then centre the image on black: nothing is lost.</summary>
    Pad,
}

/// <summary>
/// How a photo becomes a model input: decode, apply the EXIF orientation, composite transparency over white,
/// convert to <see cref="Channels"/> channels, resize to <see cref="Size"/>×<see cref="Size"/> keeping the
/// aspect ratio, then crop or pad. Training and prediction use the same settings, stored in the checkpoint.
/// </summary>
public sealed record ImageTransform
{
    /// <summary>1 (grey, ITU-R BT.601 luma) or 3 (RGB).</summary>
    public int Channels { get; init; } = 3;

    /// <summary>Side of the square input in pixels.</summary>
    public int Size { get; init; } = 32;

    public ResizeMode Resize { get; init; } = ResizeMode.Crop;

    /// <summary>Text that identifies the settings in cache keys.</summary>
    internal string Key => $"channels={Channels};size={Size};resize={Resize}";
}

/// <summary>Settings of <see cref="ImageFolder.Load"/>.</summary>
public sealed record ImageFolderOptions
{
    public ImageTransform Transform { get; init; } = new();

    /// <summary>
    /// Share of each class held out as the test set when the folder has no train/ and test/ subfolders (and for
    /// list files). The split is stratified and seeded by <see cref="SplitSeed"/>.
    /// </summary>
    public double TestFraction { get; init; } = 0.2;

    public ulong SplitSeed { get; init; } = 1;

    /// <summary>Whether decoded images are cached on disk, so later runs do not decode them again.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Folder for the cache files; null puts them in <c>.fashioncuda-cache</c> beside the images.</summary>
    public string? CacheDirectory { get; init; }
}

/// <summary>A file that was listed as an image but could not be used, and why.</summary>
public sealed record SkippedImage(string Path, string Reason)
{
    public override string ToString() => $"skipped {Path}: {Reason}";
}

/// <summary>One split of an image folder: the decoded images, the file of each, and the files skipped.</summary>
/// <param name="Paths">Full path of each image of <see cref="Dataset"/>, in dataset order.</param>
/// <param name="FromCache">Whether the images were read from the cache instead of decoded.</param>
public sealed record ImageFolderSplit(
    ImageDataset Dataset, IReadOnlyList<string> Paths, IReadOnlyList<SkippedImage> Skipped, bool FromCache);

/// <summary>A loaded image folder: train and test splits and the class names, index = label.</summary>
/// <param name="Layout">
/// How the folder was read, for messages: "train/test folders", "class folders" or "list file".
/// </param>
public sealed record ImageFolderData(
    ImageFolderSplit Train, ImageFolderSplit Test, IReadOnlyList<string> ClassNames, string Layout, string Source)
{
    public int SkippedCount => Train.Skipped.Count + Test.Skipped.Count;
}
