namespace FashionCuda.Data;

/// <summary>
/// The Fashion-MNIST training set (60,000 images in the full release) and test set (10,000), 28×28 grey-scale,
/// ten classes, found on disk by <see cref="Load"/>.
/// </summary>
public sealed class FashionMnist
{
    /// <summary>Folder of Debian's <c>dataset-fashion-mnist</c> package, which ships the four files gzipped.</summary>
    public const string SystemDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Folder searched relative to the current directory and to the repository root.</summary>
    public static readonly string RelativeDirectory = Path.Combine("data", "fashion-mnist");

    /// <summary>File that marks the repository root.</summary>
    public const string SolutionFileName = "FashionCuda.sln";

    public const string TrainImagesFile = "train-images-idx3-ubyte";
    public const string TrainLabelsFile = "train-labels-idx1-ubyte";
    public const string TestImagesFile = "t10k-images-idx3-ubyte";
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";

    private static readonly string[] FileNames = [TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile];

    private FashionMnist(ImageDataset train, ImageDataset test, string sourceDirectory)
    {
        Train = train;
        Test = test;
        SourceDirectory = sourceDirectory;
    }

    /// <summary>Class names by label, as in the dataset's documentation.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
    [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ];

    public ImageDataset Train { get; }

    public ImageDataset Test { get; }

    /// <summary>Absolute path of the folder the files were read from.</summary>
    public string SourceDirectory { get; }

    /// <summary>
    /// Finds and reads the dataset. With <paramref name="dataDirectory"/> (the CLI's <c>--data DIR</c>) only that
    /// folder is used, because falling back to another copy would hide a typing error. Without it the first folder
    /// that holds all four files wins, in this order: <c>data/fashion-mnist</c> under the current directory, the
    /// same under the repository root (the first folder above <see cref="AppContext.BaseDirectory"/> that contains
    /// <c>FashionCuda.sln</c>), then <see cref="SystemDirectory"/>.
    /// </summary>
    /// <param name="dataDirectory">Folder given by the user, or null to search.</param>
    /// <param name="currentDirectory">Replaces the current directory, for tests.</param>
    /// <param name="baseDirectory">Replaces <see cref="AppContext.BaseDirectory"/>, for tests.</param>
    /// <param name="systemDirectory">Replaces <see cref="SystemDirectory"/>, for tests.</param>
    /// <exception cref="DataFileException">No folder holds the files, or a file is invalid.</exception>
    public static FashionMnist Load(string? dataDirectory, string? currentDirectory = null,
        string? baseDirectory = null, string? systemDirectory = null)
    {
        IReadOnlyList<string> candidates = SearchDirectories(dataDirectory,
            currentDirectory ?? Environment.CurrentDirectory, baseDirectory ?? AppContext.BaseDirectory,
            systemDirectory ?? SystemDirectory);
        var problems = new List<string>(candidates.Count);
        foreach (string directory in candidates)
        {
            string? problem = FindProblem(directory);
            if (problem is null)
                return LoadFrom(directory);
            problems.Add($"{directory}: {problem}");
        }

        throw NotFound(dataDirectory, candidates[0], problems);
    }

    /// <summary>Reads the four files from <paramref name="directory"/>, preferring plain files to <c>.gz</c>.</summary>
    public static FashionMnist LoadFrom(string directory)
    {
        string fullPath = Path.GetFullPath(directory);
        string? problem = FindProblem(fullPath);
        if (problem is not null)
            throw new DataFileException(fullPath, $"{fullPath}: {problem}. {HowToGetTheData}");
        int classCount = ClassNames.Count;
        ImageDataset train = IdxReader.ReadDataset(FindFile(fullPath, TrainImagesFile)!,
            FindFile(fullPath, TrainLabelsFile)!, classCount);
        string testImages = FindFile(fullPath, TestImagesFile)!;
        ImageDataset test = IdxReader.ReadDataset(testImages, FindFile(fullPath, TestLabelsFile)!, classCount);
        if (test.Height != train.Height || test.Width != train.Width)
            throw new DataFileException(testImages,
                $"{testImages} holds {test.Height}×{test.Width} images, but the training images are " +
                $"{train.Height}×{train.Width}. Use the train and t10k files of the same dataset.");
        return new FashionMnist(train, test, fullPath);
    }

    /// <summary>Lists the folders <see cref="Load"/> tries, in order, as absolute paths without duplicates.</summary>
    public static IReadOnlyList<string> SearchDirectories(string? dataDirectory, string currentDirectory,
        string baseDirectory, string systemDirectory)
    {
        if (dataDirectory is not null)
            return [Path.GetFullPath(dataDirectory, currentDirectory)];
        var candidates = new List<string> { Path.GetFullPath(RelativeDirectory, currentDirectory) };
        string? root = FindRepositoryRoot(baseDirectory);
        if (root is not null)
            candidates.Add(Path.Combine(root, RelativeDirectory));
        candidates.Add(Path.GetFullPath(systemDirectory));
        return candidates.Select(Path.TrimEndingDirectorySeparator).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Walks up from <paramref name="startDirectory"/> to the first folder containing FashionCuda.sln.</summary>
    public static string? FindRepositoryRoot(string startDirectory)
    {
        for (var directory = new DirectoryInfo(Path.GetFullPath(startDirectory)); directory is not null;
             directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
                return directory.FullName;
        }

        return null;
    }

    /// <summary>Returns <c>name</c> or else <c>name.gz</c> inside the folder, or null if neither exists.</summary>
    private static string? FindFile(string directory, string name)
    {
        string plain = Path.Combine(directory, name);
        if (File.Exists(plain))
            return plain;
        string gzip = plain + ".gz";
        return File.Exists(gzip) ? gzip : null;
    }

    /// <summary>Describes why a folder cannot be used, or returns null if it holds all four files.</summary>
    private static string? FindProblem(string directory)
    {
        if (File.Exists(directory))
            return "it is a file, not a folder";
        if (!Directory.Exists(directory))
            return "the folder does not exist";
        string[] missing = FileNames.Where(name => FindFile(directory, name) is null).Select(n => n + "[.gz]").ToArray();
        return missing.Length == 0 ? null : "missing " + string.Join(", ", missing);
    }

    private const string HowToGetTheData =
        "Install the dataset with 'sudo apt-get install dataset-fashion-mnist', or pass --data DIR with a folder " +
        "that holds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and " +
        "t10k-labels-idx1-ubyte (each plain or .gz).";

    private static DataFileException NotFound(string? dataDirectory, string firstCandidate, List<string> problems)
    {
        // The message is one line, so the CLI prints one error line. Semicolons separate the folders.
        string what = dataDirectory is null
            ? "Fashion-MNIST was not found. Looked in"
            : "The folder given by --data cannot be used";
        string message = $"{what}: {string.Join("; ", problems)}. {HowToGetTheData}";
        return new DataFileException(firstCandidate, message);
    }
}
