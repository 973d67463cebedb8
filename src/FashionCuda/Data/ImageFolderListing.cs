using System.Globalization;

namespace FashionCuda.Data;

/// <summary>
/// The files of an image dataset and their labels, found without decoding anything: the first step of
/// <see cref="ImageFolder.Load"/>, where every layout problem is reported.
/// </summary>
/// <param name="Source">The folder or list file, as a full path.</param>
/// <param name="BaseDirectory">The folder the cache goes under by default: the root, or the list file's folder.</param>
internal sealed record ImageFolderListing(
    string Source, string BaseDirectory, string Layout, IReadOnlyList<string> ClassNames,
    IReadOnlyList<ImageFolderCache.Entry> Train, IReadOnlyList<ImageFolderCache.Entry> Test)
{
    private const int MaxClasses = 256; // labels are stored as bytes

    private const string LayoutHint =
        "Put each class's images in a subfolder named after the class (ROOT/<class>/<image>), optionally under " +
        "ROOT/train and ROOT/test, or pass a CSV list of path,label lines.";

    public static ImageFolderListing Read(string fullPath, ImageFolderOptions options)
    {
        if (File.Exists(fullPath))
        {
            if (!fullPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
                throw new DataFileException(fullPath,
                    $"{fullPath} is a file but not a .csv list of path,label lines. {LayoutHint}");
            return ReadList(fullPath, options);
        }
        if (!Directory.Exists(fullPath))
            throw new DataFileException(fullPath, $"Image folder {fullPath} not found. {LayoutHint}");

        string trainRoot = Path.Combine(fullPath, "train");
        string testRoot = Path.Combine(fullPath, "test");
        if (Directory.Exists(trainRoot) && Directory.Exists(testRoot))
            return ReadTrainTest(fullPath, trainRoot, testRoot);
        RequireBothSplitFolders(trainRoot, testRoot);

        var scan = Scan(fullPath);
        var classNames = CheckClasses(fullPath, scan);
        var entries = ToEntries(scan, classNames);
        var (train, test) = ImageFolder.Split(entries, options.TestFraction, options.SplitSeed);
        RequireTest(fullPath, test.Count, "set data.test_fraction above 0 or add more images per class");
        return new ImageFolderListing(fullPath, fullPath, "class folders", classNames, train, test);
    }

    /// <summary>
    /// Rejects a root with only one of train/ and test/ when that folder has subfolders, because it is then meant
    /// as the train/test layout with the other half missing, not as a class named "train" or "test".
    /// </summary>
    private static void RequireBothSplitFolders(string trainRoot, string testRoot)
    {
        foreach (var (present, missing) in new[] { (trainRoot, testRoot), (testRoot, trainRoot) })
        {
            if (!Directory.Exists(present))
                continue;
            bool hasSubfolders;
            try
            {
                hasSubfolders = Directory.EnumerateDirectories(present)
                    .Any(folder => !Path.GetFileName(folder).StartsWith('.'));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DataFileException(present, $"Image folder {present} could not be read: {e.Message}", e);
            }
            if (hasSubfolders)
                throw new DataFileException(missing,
                    $"{present} has class folders but {missing} is missing; add {missing}/<class>/<image> for the " +
                    "test images, or move the class folders up one level to split them by data.test_fraction.");
        }
    }

    private static ImageFolderListing ReadTrainTest(string root, string trainRoot, string testRoot)
    {
        var trainScan = Scan(trainRoot);
        var classNames = CheckClasses(trainRoot, trainScan);
        var testScan = Scan(testRoot);
        var unknown = testScan.Files.Keys.Where(name => !classNames.Contains(name)).ToList();
        if (unknown.Count > 0)
            throw new DataFileException(testRoot,
                $"{testRoot} has class folders that {trainRoot} does not have: {string.Join(", ", unknown)}. " +
                "Use the same class folder names in train and test.");
        var test = ToEntries(testScan, classNames);
        RequireTest(testRoot, test.Count, "add images to its class folders");
        return new ImageFolderListing(root, root, "train/test folders", classNames, ToEntries(trainScan, classNames),
            test);
    }

    private static ImageFolderListing ReadList(string listPath, ImageFolderOptions options)
    {
        string directory = Path.GetDirectoryName(listPath)!;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(listPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFileException(listPath, $"{listPath} could not be read: {e.Message}", e);
        }
        var rows = ReadListRows(listPath, directory, lines);
        if (rows.Count == 0)
            throw new DataFileException(listPath, $"{listPath} lists no images. {LayoutHint}");
        CheckLabelCase(listPath, rows);
        var classNames = rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        CheckClassCount(listPath, classNames, "labels");
        var labelOf = classNames.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => (byte)p.index);
        var entries = rows.Select(r => new ImageFolderCache.Entry(r.Path, labelOf[r.Label])).ToList();
        var (train, test) = ImageFolder.Split(entries, options.TestFraction, options.SplitSeed);
        RequireTest(listPath, test.Count, "set data.test_fraction above 0 or list more images per class");
        return new ImageFolderListing(listPath, directory, "list file", classNames, train, test);
    }

    /// <summary>One image of a list file: its full path, its label and the 1-based line it came from.</summary>
    private sealed record ListRow(string Path, string Label, int Line);

    /// <summary>
    /// Parses the lines of a list file. A first line whose path field has no image extension (such as
    /// <c>path,label</c> or <c>file,class</c>) is a header and skipped. Every other line must have exactly two
    /// fields, name an existing file and name it only once.
    /// </summary>
    private static List<ListRow> ReadListRows(string listPath, string directory, string[] lines)
    {
        var rows = new List<ListRow>();
        var firstLineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        bool firstRecord = true;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            int lineNumber = i + 1;
            var fields = SplitCsvLine(line);
            bool header = firstRecord && fields is { Count: 2 } && !ImageFolderDecoder.HasImageExtension(fields[0]);
            firstRecord = false;
            if (header)
                continue;
            if (fields is null || fields.Count != 2 || fields[0].Length == 0 || fields[1].Length == 0)
            {
                string found = fields is null ? "an unclosed quote" : ImageFolder.Describe(fields.Count, "field");
                throw new DataFileException(listPath,
                    $"{listPath} line {lineNumber}: expected 'path,label' but got '{lines[i]}' ({found}). Write " +
                    "one image per line as its path (relative to the list file) and its class name, separated by " +
                    "a comma, and put a path that contains a comma in double quotes.");
            }
            string path = Path.GetFullPath(Path.Combine(directory, fields[0]));
            if (firstLineOf.TryGetValue(path, out int firstLine))
                throw new DataFileException(listPath,
                    $"{listPath} line {lineNumber}: {path} is already listed on line {firstLine}; remove the " +
                    "duplicate line, because a repeated image can land in both the training and the test split.");
            if (!File.Exists(path))
                throw new DataFileException(listPath,
                    $"{listPath} line {lineNumber}: image {path} not found; fix the path (it is relative to the " +
                    "list file's folder) or remove the line.");
            firstLineOf[path] = lineNumber;
            rows.Add(new ListRow(path, fields[1], lineNumber));
        }
        return rows;
    }

    /// <summary>
    /// Splits one CSV line into trimmed fields. A field may be in double quotes, with "" for a quote inside;
    /// returns null when a quote is not closed.
    /// </summary>
    internal static List<string>? SplitCsvLine(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        int i = 0;
        while (true)
        {
            while (i < line.Length && line[i] == ' ')
                i++;
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                        return null;
                    if (line[i] == '"' && i + 1 < line.Length && line[i + 1] == '"')
                    {
                        field.Append('"');
                        i += 2;
                    }
                    else if (line[i] == '"')
                    {
                        i++;
                        break;
                    }
                    else
                    {
                        field.Append(line[i++]);
                    }
                }
                while (i < line.Length && line[i] != ',')
                    field.Append(line[i++]);
            }
            else
            {
                while (i < line.Length && line[i] != ',')
                    field.Append(line[i++]);
            }
            fields.Add(field.ToString().Trim());
            field.Clear();
            if (i >= line.Length)
                return fields;
            i++; // the comma
        }
    }

    /// <summary>Rejects labels that differ only in case, such as 'Bag' and 'bag', which would make two classes.</summary>
    private static void CheckLabelCase(string listPath, List<ListRow> rows)
    {
        var firstOf = new Dictionary<string, ListRow>(StringComparer.OrdinalIgnoreCase);
        foreach (var row in rows)
        {
            if (!firstOf.TryGetValue(row.Label, out var first))
            {
                firstOf[row.Label] = row;
                continue;
            }
            if (first.Label != row.Label)
                throw new DataFileException(listPath,
                    $"{listPath}: the labels '{first.Label}' (line {first.Line}) and '{row.Label}' (line {row.Line}) " +
                    "differ only in case, so they would be two classes; spell each class the same way.");
        }
    }

    /// <summary>The image files of each class folder, and what else the folder contains, for messages.</summary>
    private sealed record FolderScan(
        SortedDictionary<string, List<string>> Files, Dictionary<string, int> UnknownExtensions, int LooseImages);

    private static FolderScan Scan(string root)
    {
        var files = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var unknown = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        int loose;
        try
        {
            loose = Directory.EnumerateFiles(root).Count(ImageFolderDecoder.HasImageExtension);
            foreach (string classDirectory in Directory.EnumerateDirectories(root))
            {
                string name = Path.GetFileName(classDirectory);
                if (name.StartsWith('.'))
                    continue;
                var images = new List<string>();
                foreach (string file in EnumerateVisibleFiles(classDirectory))
                {
                    if (ImageFolderDecoder.HasImageExtension(file))
                    {
                        images.Add(file);
                        continue;
                    }
                    string extension = Path.GetExtension(file);
                    if (extension.Length == 0)
                        extension = "(none)";
                    unknown[extension] = unknown.GetValueOrDefault(extension) + 1;
                }
                images.Sort(StringComparer.Ordinal);
                files[name] = images;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFileException(root, $"Image folder {root} could not be read: {e.Message}", e);
        }
        return new FolderScan(files, unknown, loose);
    }

    private static IEnumerable<string> EnumerateVisibleFiles(string directory)
    {
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            if (!Path.GetFileName(file).StartsWith('.'))
                yield return file;
        }
        foreach (string subdirectory in Directory.EnumerateDirectories(directory))
        {
            if (Path.GetFileName(subdirectory).StartsWith('.'))
                continue;
            foreach (string file in EnumerateVisibleFiles(subdirectory))
                yield return file;
        }
    }

    /// <summary>Returns the class names (folders with at least one image), or raises the layout error.</summary>
    private static List<string> CheckClasses(string root, FolderScan scan)
    {
        if (scan.Files.Count == 0)
        {
            string found = scan.LooseImages > 0
                ? $"it contains {ImageFolder.Describe(scan.LooseImages, "image")} but no class subfolders"
                : "it has no class subfolders";
            throw new DataFileException(root, $"{root} cannot be read as an image dataset: {found}. {LayoutHint}");
        }
        var classNames = scan.Files.Where(pair => pair.Value.Count > 0).Select(pair => pair.Key).ToList();
        if (classNames.Count == 0)
        {
            string others = scan.UnknownExtensions.Count == 0
                ? "they are empty"
                : "they contain only files with other extensions (" + string.Join(", ",
                    scan.UnknownExtensions.OrderByDescending(p => p.Value).Select(p =>
                        $"{p.Key} ×{p.Value.ToString(CultureInfo.InvariantCulture)}")) + ")";
            throw new DataFileException(root,
                $"The class folders of {root} contain no images: {others}. Supported extensions are " +
                $"{string.Join(", ", ImageFolderDecoder.Extensions)}.");
        }
        CheckClassCount(root, classNames, "class folders with images");
        return classNames;
    }

    private static void CheckClassCount(string source, List<string> classNames, string sourceKind)
    {
        if (classNames.Count == 1)
            throw new DataFileException(source,
                $"{source} has only one class, '{classNames[0]}', among its {sourceKind}; a classifier needs at least " +
                "two. Add a folder (or labels) for another class.");
        if (classNames.Count > MaxClasses)
            throw new DataFileException(source,
                $"{source} has {classNames.Count} classes; at most {MaxClasses} are supported.");
    }

    private static List<ImageFolderCache.Entry> ToEntries(FolderScan scan, List<string> classNames)
    {
        var entries = new List<ImageFolderCache.Entry>();
        for (int label = 0; label < classNames.Count; label++)
        {
            if (!scan.Files.TryGetValue(classNames[label], out var files))
                continue;
            foreach (string file in files)
                entries.Add(new ImageFolderCache.Entry(file, (byte)label));
        }
        return entries;
    }

    private static void RequireTest(string source, int count, string fix)
    {
        if (count == 0)
            throw new DataFileException(source, $"{source} gives no test images; {fix}.");
    }
}
