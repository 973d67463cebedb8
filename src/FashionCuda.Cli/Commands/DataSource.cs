using FashionCuda.Data;
using FashionCuda.Training;

namespace FashionCuda.Cli.Commands;

/// <summary>Loads the dataset a config's <c>data</c> section names, for train and eval.</summary>
public static class DataSource
{
    /// <param name="Description">Where the images came from, for the run header.</param>
    /// <param name="Skipped">Files skipped because they could not be decoded.</param>
    public sealed record Loaded(
        ImageDataset Train, ImageDataset Test, IReadOnlyList<string> ClassNames, string Description, int Skipped);

    /// <summary>
    /// Loads Fashion-MNIST or a photo folder, trimmed to the config's limits. <paramref name="dataOverride"/> (the
    /// <c>--data</c> option) replaces <c>data.path</c>. Each skipped photo is printed to stderr as one warning line.
    /// </summary>
    public static Loaded Load(TrainConfig config, string? dataOverride)
    {
        string? path = dataOverride ?? config.Data.Path;
        if (!config.Data.IsFolder)
        {
            var (train, test, source) = Common.LoadData(path, config.TrainLimit, config.TestLimit);
            return new Loaded(train, test, FashionMnist.ClassNames, source, 0);
        }

        if (dataOverride is null && !File.Exists(path) && !Directory.Exists(path))
            throw new DataFileException(path!,
                $"Image folder {path} (data.path of the config) not found; if the photos moved, pass " +
                "--data with their new folder or list file.");
        var options = new ImageFolderOptions
        {
            Transform = config.Data.ToTransform(),
            TestFraction = config.Data.TestFraction,
            SplitSeed = config.Seed,
            UseCache = config.Data.Cache,
        };
        var data = ImageFolder.Load(path!, options, line => Console.Error.WriteLine($"warning: {line}"));
        var trainSet = Limit(data.Train.Dataset, config.TrainLimit);
        var testSet = Limit(data.Test.Dataset, config.TestLimit);
        string cached = data.Train.FromCache && data.Test.FromCache ? ", decoded images read from the cache" : "";
        string skipped = data.SkippedCount switch
        {
            0 => "",
            1 => ", 1 unreadable file skipped",
            _ => $", {data.SkippedCount} unreadable files skipped",
        };
        string description =
            $"{data.Source} ({data.Layout}, {data.ClassNames.Count} classes, " +
            $"{config.Data.Channels}×{config.Data.Size}×{config.Data.Size}{cached}{skipped})";
        return new Loaded(trainSet, testSet, data.ClassNames, description, data.SkippedCount);
    }

    // NOTE: photo datasets are ordered by class, so a limit keeps the first classes only.
    private static ImageDataset Limit(ImageDataset dataset, int limit) =>
        limit > 0 && limit < dataset.Count ? dataset.Take(limit) : dataset;
}
