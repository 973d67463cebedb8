using System.Globalization;
using FashionCuda.Tensors;

namespace FashionCuda.Data;

/// <summary>
/// Reads a labelled photo dataset in one of three layouts: <c>ROOT/train/&lt;class&gt;/…</c> with
/// <c>ROOT/test/&lt;class&gt;/…</c>, or <c>ROOT/&lt;class&gt;/…</c> split by
/// <see cref="ImageFolderOptions.TestFraction"/>, or a CSV list file of <c>path,label</c> lines (paths relative
/// to the file, fields in double quotes when they contain a comma, and an optional header line such as
/// <c>path,label</c>), split the same way. Class names are sorted by ordinal comparison, and a label is the
/// index of its class. Hidden files and folders (names starting with '.') are ignored, and class folders are
/// read recursively.
/// </summary>
/// <remarks>
/// Files that cannot be decoded are skipped: each is reported once through the warning callback and listed in
/// <see cref="ImageFolderSplit.Skipped"/>. A class left with no training image after decoding is dropped, with a
/// warning, together with its test images. Folders that cannot make a classifier dataset (missing, no class
/// folders, fewer than two classes with images, no images) raise <see cref="DataFileException"/>.
/// </remarks>
public static class ImageFolder
{
    public const string CacheFolderName = ".fashioncuda-cache";

    /// <summary>Loads and decodes the dataset at <paramref name="path"/>, using the cache when it is current.</summary>
    /// <param name="warning">
    /// Receives one line per skipped file and per cache problem, because the library prints nothing.
    /// </param>
    public static ImageFolderData Load(string path, ImageFolderOptions options, Action<string>? warning = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        string fullPath = Path.GetFullPath(path);
        var listing = ImageFolderListing.Read(fullPath, options);
        string cacheDirectory = options.CacheDirectory ??
                                Path.Combine(listing.BaseDirectory, CacheFolderName);
        var train = LoadSplit("train", listing.Train, listing, options, cacheDirectory, warning);
        var test = LoadSplit("test", listing.Test, listing, options, cacheDirectory, warning);
        var splits = new[] { ("training", train, listing.Train), ("test", test, listing.Test) };
        foreach (var (name, split, listed) in splits)
        {
            if (split.Dataset.Count == 0)
                throw new DataFileException(fullPath,
                    $"None of the {listed.Count} {name} images under {fullPath} could be decoded; see the warning " +
                    "for each file, then replace or remove the damaged files.");
        }
        var data = DropEmptyClasses(new ImageFolderData(train, test, listing.ClassNames, listing.Layout, fullPath),
            warning);
        if (data.Test.Dataset.Count == 0)
            throw new DataFileException(fullPath,
                $"{fullPath} has no test images left after leaving out the classes without training images; add " +
                "test images of the other classes.");
        return data;
    }

    /// <summary>
    /// Removes the classes that have no decoded training image, and their test images, and renumbers the labels
    /// of the classes that remain. Raises <see cref="DataFileException"/> when fewer than two classes remain.
    /// </summary>
    private static ImageFolderData DropEmptyClasses(ImageFolderData data, Action<string>? warning)
    {
        int[] trainCounts = data.Train.Dataset.CountPerClass();
        var kept = Enumerable.Range(0, trainCounts.Length).Where(label => trainCounts[label] > 0).ToList();
        if (kept.Count == trainCounts.Length)
            return data;
        var dropped = Enumerable.Range(0, trainCounts.Length).Where(label => trainCounts[label] == 0)
            .Select(label => data.ClassNames[label]).ToList();
        if (kept.Count < 2)
            throw new DataFileException(data.Source,
                $"{data.Source} has readable training images for only {Describe(kept.Count, "class", "classes")}, " +
                $"because every training image of {string.Join(", ", dropped.Select(n => $"'{n}'"))} was skipped; " +
                "a classifier needs at least two. Replace the damaged files listed in the warnings.");
        foreach (string name in dropped)
            warning?.Invoke($"class '{name}' is left out: none of its training images could be decoded.");
        var newLabel = new int[trainCounts.Length];
        Array.Fill(newLabel, -1);
        for (int i = 0; i < kept.Count; i++)
            newLabel[kept[i]] = i;
        var classNames = kept.Select(label => data.ClassNames[label]).ToList();
        return data with
        {
            Train = Relabel(data.Train, newLabel, kept.Count),
            Test = Relabel(data.Test, newLabel, kept.Count),
            ClassNames = classNames,
        };
    }

    /// <summary>Keeps the images whose label maps to a new label (not −1) and rewrites their labels.</summary>
    private static ImageFolderSplit Relabel(ImageFolderSplit split, int[] newLabel, int classCount)
    {
        var dataset = split.Dataset;
        int imageBytes = dataset.PixelsPerImage;
        var indices = Enumerable.Range(0, dataset.Count).Where(i => newLabel[dataset.Labels[i]] >= 0).ToList();
        var pixels = new byte[(long)indices.Count * imageBytes];
        var labels = new byte[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            dataset.Image(indices[k]).CopyTo(pixels.AsSpan(k * imageBytes, imageBytes));
            labels[k] = (byte)newLabel[dataset.Labels[indices[k]]];
        }
        var relabelled = new ImageDataset(pixels, labels, dataset.Height, dataset.Width, classCount,
            dataset.Channels);
        return split with { Dataset = relabelled, Paths = indices.Select(i => split.Paths[i]).ToList() };
    }

    /// <summary>
    /// Returns the class names of the dataset at <paramref name="path"/> from its layout alone, without decoding:
    /// a class whose images all turn out unreadable is still listed.
    /// </summary>
    public static IReadOnlyList<string> ReadClassNames(string path, ImageFolderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        return ImageFolderListing.Read(Path.GetFullPath(path), options).ClassNames;
    }

    private static void Validate(ImageFolderOptions options)
    {
        var transform = options.Transform;
        if (transform.Channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(options), transform.Channels, "Channels must be 1 or 3.");
        if (transform.Size < 1)
            throw new ArgumentOutOfRangeException(nameof(options), transform.Size, "The size must be positive.");
        if (options.TestFraction is < 0 or >= 1 || double.IsNaN(options.TestFraction))
            throw new ArgumentOutOfRangeException(nameof(options), options.TestFraction,
                "The test fraction must be in [0, 1).");
    }

    private static ImageFolderSplit LoadSplit(string split, IReadOnlyList<ImageFolderCache.Entry> entries,
        ImageFolderListing listing, ImageFolderOptions options, string cacheDirectory, Action<string>? warning)
    {
        var transform = options.Transform;
        int classCount = listing.ClassNames.Count;
        byte[]? key = null;
        string? cachePath = null;
        ImageFolderCache.Content? content = null;
        if (options.UseCache)
        {
            key = ImageFolderCache.Key(split, entries, listing.ClassNames, transform);
            cachePath = ImageFolderCache.FilePath(cacheDirectory, listing.Source, split, key);
            content = ImageFolderCache.TryRead(cachePath, key, entries.Count, transform, classCount);
        }
        bool fromCache = content is not null;
        content ??= Decode(entries, transform);
        if (!fromCache && cachePath is not null)
        {
            try
            {
                ImageFolderCache.Write(cachePath, key!, entries.Count, transform, classCount, content);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                warning?.Invoke($"cannot write the image cache {cachePath} ({e.Message}); the images will be " +
                                "decoded again next run. Set data.cache to false or make the folder writable.");
            }
        }

        var skipped = content.Skipped.Select(s => new SkippedImage(entries[s.Index].Path, s.Reason)).ToList();
        foreach (var item in skipped)
            warning?.Invoke(item.ToString());
        var dataset = new ImageDataset(content.Pixels, content.Labels, transform.Size, transform.Size, classCount,
            transform.Channels);
        var paths = content.KeptIndices.Select(i => entries[i].Path).ToList();
        return new ImageFolderSplit(dataset, paths, skipped, fromCache);
    }

    /// <summary>Decodes every entry, in parallel, and keeps the entries' order in the result.</summary>
    private static ImageFolderCache.Content Decode(IReadOnlyList<ImageFolderCache.Entry> entries,
        ImageTransform transform)
    {
        int imageBytes = transform.Channels * transform.Size * transform.Size;
        var pixels = new byte[(long)entries.Count * imageBytes];
        var reasons = new string?[entries.Count];
        Parallel.For(0, entries.Count, i =>
        {
            try
            {
                ImageFolderDecoder.Decode(entries[i].Path, transform, pixels.AsSpan(i * imageBytes, imageBytes));
            }
            catch (ImageDecodeException e)
            {
                reasons[i] = e.Message;
            }
        });

        var kept = new List<int>(entries.Count);
        var skipped = new List<(int, string)>();
        for (int i = 0; i < entries.Count; i++)
        {
            if (reasons[i] is { } reason)
                skipped.Add((i, reason));
            else
                kept.Add(i);
        }
        var keptPixels = new byte[(long)kept.Count * imageBytes];
        var labels = new byte[kept.Count];
        for (int k = 0; k < kept.Count; k++)
        {
            pixels.AsSpan(kept[k] * imageBytes, imageBytes).CopyTo(keptPixels.AsSpan(k * imageBytes, imageBytes));
            labels[k] = entries[kept[k]].Label;
        }
        return new ImageFolderCache.Content(kept.ToArray(), labels, keptPixels, skipped.ToArray());
    }

    /// <summary>
    /// Splits entries per class into train and test: each class's entries are shuffled with a generator seeded by
    /// (seed, label), and the first round(n·fraction) go to test, keeping at least one image for training.
    /// Both parts keep the listing order.
    /// </summary>
    internal static (List<ImageFolderCache.Entry> Train, List<ImageFolderCache.Entry> Test) Split(
        IReadOnlyList<ImageFolderCache.Entry> entries, double testFraction, ulong seed)
    {
        var testIndices = new HashSet<int>();
        foreach (var group in Enumerable.Range(0, entries.Count).GroupBy(i => entries[i].Label))
        {
            int[] indices = group.ToArray();
            new Rng(CounterRandom.Hash(seed, group.Key)).Shuffle(indices.AsSpan());
            int testCount = Math.Min((int)Math.Round(indices.Length * testFraction), indices.Length - 1);
            for (int i = 0; i < testCount; i++)
                testIndices.Add(indices[i]);
        }
        var train = new List<ImageFolderCache.Entry>();
        var test = new List<ImageFolderCache.Entry>();
        for (int i = 0; i < entries.Count; i++)
            (testIndices.Contains(i) ? test : train).Add(entries[i]);
        return (train, test);
    }

    internal static string Describe(int count, string noun) => Describe(count, noun, noun + "s");

    internal static string Describe(int count, string singular, string plural) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? singular : plural);
}
