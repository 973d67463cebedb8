using FashionCuda.Data;

namespace FashionCuda.Tests.Data;

public sealed class FashionMnistTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private static string RepositoryRoot =>
        FashionMnist.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"No {FashionMnist.SolutionFileName} above {AppContext.BaseDirectory}.");

    /// <summary>Makes a fake repository root (with the solution file) and a build folder below it.</summary>
    private (string Root, string BaseDirectory) MakeRepository()
    {
        string root = temp.Combine("repo");
        string baseDirectory = Path.Combine(root, "src", "App", "bin", "Debug");
        Directory.CreateDirectory(baseDirectory);
        File.WriteAllText(Path.Combine(root, FashionMnist.SolutionFileName), "");
        return (root, baseDirectory);
    }

    [Fact]
    public void SearchDirectoriesFollowTheDocumentedOrder()
    {
        (string root, string baseDirectory) = MakeRepository();
        string current = temp.Combine("elsewhere");
        string system = temp.Combine("system");

        IReadOnlyList<string> candidates = FashionMnist.SearchDirectories(null, current, baseDirectory, system);

        Assert.Equal(
            [Path.Combine(current, "data", "fashion-mnist"), Path.Combine(root, "data", "fashion-mnist"), system],
            candidates);
    }

    [Fact]
    public void SearchDirectoriesWithDataUseOnlyIt()
    {
        (_, string baseDirectory) = MakeRepository();
        string current = temp.Combine("cwd");

        IReadOnlyList<string> candidates = FashionMnist.SearchDirectories("mine", current, baseDirectory, "/sys");

        Assert.Equal([Path.Combine(current, "mine")], candidates);
    }

    [Fact]
    public void SearchDirectoriesDropDuplicateRoot()
    {
        (string root, string baseDirectory) = MakeRepository();

        IReadOnlyList<string> candidates = FashionMnist.SearchDirectories(null, root, baseDirectory, "/sys/fm");

        Assert.Equal([Path.Combine(root, "data", "fashion-mnist"), "/sys/fm"], candidates);
    }

    [Fact]
    public void LoadPrefersCurrentDirectory()
    {
        (string root, string baseDirectory) = MakeRepository();
        string current = temp.Combine("cwd");
        string system = temp.Combine("system");
        IdxTestFiles.WriteDataset(Path.Combine(current, "data", "fashion-mnist"), 20, 10, gzip: false);
        IdxTestFiles.WriteDataset(Path.Combine(root, "data", "fashion-mnist"), 30, 10, gzip: true);
        IdxTestFiles.WriteDataset(system, 40, 10, gzip: true);

        FashionMnist data = FashionMnist.Load(null, current, baseDirectory, system);

        Assert.Equal(Path.Combine(current, "data", "fashion-mnist"), data.SourceDirectory);
        Assert.Equal(20, data.Train.Count);
    }

    [Fact]
    public void LoadFallsBackToRepositoryThenSystem()
    {
        (string root, string baseDirectory) = MakeRepository();
        string current = temp.Combine("cwd");
        string system = temp.Combine("system");
        IdxTestFiles.WriteDataset(system, 40, 10, gzip: true);

        FashionMnist fromSystem = FashionMnist.Load(null, current, baseDirectory, system);
        IdxTestFiles.WriteDataset(Path.Combine(root, "data", "fashion-mnist"), 30, 10, gzip: true);
        FashionMnist fromRepository = FashionMnist.Load(null, current, baseDirectory, system);

        Assert.Equal(system, fromSystem.SourceDirectory);
        Assert.Equal(40, fromSystem.Train.Count);
        Assert.Equal(Path.Combine(root, "data", "fashion-mnist"), fromRepository.SourceDirectory);
        Assert.Equal(30, fromRepository.Train.Count);
    }

    [Fact]
    public void LoadSkipsIncompleteFolder()
    {
        (_, string baseDirectory) = MakeRepository();
        string current = temp.Combine("cwd");
        string incomplete = Path.Combine(current, "data", "fashion-mnist");
        string system = temp.Combine("system");
        IdxTestFiles.WriteDataset(incomplete, 20, 10, gzip: false);
        File.Delete(Path.Combine(incomplete, FashionMnist.TestLabelsFile));
        IdxTestFiles.WriteDataset(system, 40, 10, gzip: true);

        FashionMnist data = FashionMnist.Load(null, current, baseDirectory, system);

        Assert.Equal(system, data.SourceDirectory);
    }

    [Fact]
    public void LoadWithDataFileSaysItIsAFile()
    {
        (_, string baseDirectory) = MakeRepository();
        string given = temp.Combine("config.json");
        File.WriteAllText(given, "{}");

        var error = Assert.Throws<DataFileException>(() => FashionMnist.Load(given, temp.Path, baseDirectory, null));

        Assert.Contains($"{given}: it is a file, not a folder", error.Message);
    }

    [Fact]
    public void LoadWithDataDoesNotFallBack()
    {
        (_, string baseDirectory) = MakeRepository();
        string system = temp.Combine("system");
        IdxTestFiles.WriteDataset(system, 40, 10, gzip: true);
        string given = temp.Combine("typo");

        var error = Assert.Throws<DataFileException>(() => FashionMnist.Load(given, temp.Path, baseDirectory, system));

        Assert.Equal(given, error.Path);
        Assert.Contains("--data", error.Message);
        Assert.Contains($"{given}: the folder does not exist", error.Message);
        Assert.DoesNotContain(system, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void LoadNotFoundListsEveryPlace()
    {
        (string root, string baseDirectory) = MakeRepository();
        string current = temp.Combine("cwd");
        string system = temp.Combine("system");
        Directory.CreateDirectory(system);
        File.WriteAllBytes(Path.Combine(system, FashionMnist.TrainImagesFile + ".gz"), []);

        var error = Assert.Throws<DataFileException>(() => FashionMnist.Load(null, current, baseDirectory, system));

        Assert.Contains("Fashion-MNIST was not found", error.Message);
        Assert.Contains($"{Path.Combine(current, "data", "fashion-mnist")}: the folder does not exist", error.Message);
        Assert.Contains($"{Path.Combine(root, "data", "fashion-mnist")}: the folder does not exist", error.Message);
        Assert.Contains($"{system}: missing train-labels-idx1-ubyte[.gz], t10k-images", error.Message);
        Assert.DoesNotContain($"missing {FashionMnist.TrainImagesFile}", error.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", error.Message);
        Assert.Contains("--data DIR", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void LoadFromPrefersPlainFiles()
    {
        string directory = temp.Combine("both");
        IdxTestFiles.WriteDataset(directory, 20, 10, gzip: false);
        IdxTestFiles.WriteDataset(directory, 30, 10, gzip: true);

        FashionMnist data = FashionMnist.LoadFrom(directory);

        Assert.Equal(20, data.Train.Count);
        Assert.Equal(10, data.Test.Count);
    }

    [Fact]
    public void LoadFromReportsBadFile()
    {
        string directory = temp.Combine("bad");
        IdxTestFiles.WriteDataset(directory, 20, 10, gzip: true);
        string labels = Path.Combine(directory, FashionMnist.TrainLabelsFile + ".gz");
        IdxTestFiles.Write(labels, IdxTestFiles.EncodeLabels(IdxTestFiles.CyclicLabels(19)), gzip: true);

        var error = Assert.Throws<DataFileException>(() => FashionMnist.LoadFrom(directory));

        Assert.Equal(labels, error.Path);
        Assert.Contains("holds 20 images", error.Message);
        Assert.Contains("holds 19 labels", error.Message);
    }

    [Fact]
    public void EmbeddedSubsetIsBalanced()
    {
        FashionMnist data = FashionMnist.LoadFrom(Path.Combine(RepositoryRoot, "data", "fashion-mnist"));

        Assert.Equal(2000, data.Train.Count);
        Assert.Equal(1000, data.Test.Count);
        Assert.Equal(28, data.Train.Height);
        Assert.Equal(28, data.Train.Width);
        Assert.All(data.Train.CountPerClass(), count => Assert.Equal(200, count));
        Assert.All(data.Test.CountPerClass(), count => Assert.Equal(100, count));
        Assert.Equal(10, FashionMnist.ClassNames.Count);
        Assert.Equal("Ankle boot", FashionMnist.ClassNames[9]);
        Assert.Contains(data.Train.Pixels, pixel => pixel > 200); // real images, not a blank file
    }

    [Fact]
    public void SplitValidationIsReproducibleAndDisjoint()
    {
        // 1×1 images whose only pixel is the image's index, so each image can be traced through the split.
        byte[] pixels = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var dataset = new ImageDataset(pixels, pixels.Select(p => (byte)(p % 10)).ToArray(), 1, 1);

        (ImageDataset train, ImageDataset validation) = dataset.SplitValidation(25, seed: 7);
        (ImageDataset train2, ImageDataset validation2) = dataset.SplitValidation(25, seed: 7);
        (_, ImageDataset validationOther) = dataset.SplitValidation(25, seed: 8);

        Assert.Equal(75, train.Count);
        Assert.Equal(25, validation.Count);
        Assert.Equal(validation.Pixels, validation2.Pixels);
        Assert.Equal(train.Pixels, train2.Pixels);
        Assert.NotEqual(validation.Pixels, validationOther.Pixels);
        Assert.Equal(pixels, train.Pixels.Concat(validation.Pixels).Order().ToArray());
        Assert.Equal(train.Pixels.Order().ToArray(), train.Pixels); // original order kept
        Assert.Equal(validation.Pixels.Order().ToArray(), validation.Pixels);
        Assert.Equal(validation.Pixels.Select(p => (byte)(p % 10)).ToArray(), validation.Labels);
    }

    [Fact]
    public void TakeBalancedKeepsFileOrder()
    {
        byte[] labels = [3, 1, 3, 3, 1, 0, 1, 2, 0, 2];
        var dataset = new ImageDataset(Enumerable.Range(0, 10).Select(i => (byte)i).ToArray(), labels, 1, 1, 4);

        ImageDataset subset = dataset.TakeBalanced(2);

        Assert.Equal(new byte[] { 0, 1, 2, 4, 5, 7, 8, 9 }, subset.Pixels);
        Assert.Equal(new byte[] { 3, 1, 3, 1, 0, 2, 0, 2 }, subset.Labels);
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.TakeBalanced(3)); // class 0 has two images
    }

    [Fact]
    public void TakeAndSubsetCopyTheChosenImages()
    {
        var dataset = new ImageDataset([10, 11, 20, 21, 30, 31], [0, 1, 2], 1, 2);

        ImageDataset first = dataset.Take(2);
        ImageDataset picked = dataset.Subset([2, 0]);

        Assert.Equal(new byte[] { 10, 11, 20, 21 }, first.Pixels);
        Assert.Equal(new byte[] { 0, 1 }, first.Labels);
        Assert.Equal(new byte[] { 30, 31, 10, 11 }, picked.Pixels);
        Assert.Equal(new byte[] { 2, 0 }, picked.Labels);
        Assert.Same(dataset, dataset.Take(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => dataset.Subset([3]));
    }
}
