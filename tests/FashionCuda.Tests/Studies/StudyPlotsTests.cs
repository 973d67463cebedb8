using System.Buffers.Binary;
using FashionCuda.Cli.Plots;
using FashionCuda.Studies;

namespace FashionCuda.Tests.Studies;

public sealed class StudyPlotsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-plots-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Checks the PNG signature and returns the width and height from the IHDR chunk.</summary>
    internal static (int Width, int Height) ReadPngSize(string path)
    {
        Assert.True(File.Exists(path), $"{path} is missing");
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000, $"{path} has only {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public void WriteAll_WritesThreePngsOfExpectedSize()
    {
        var study = StudyDefinition.Parse("""
            { "name": "p", "seeds": [1, 2], "arms": [ { "name": "base" }, { "name": "close" }, { "name": "far" } ] }
            """, "p.json");
        var plots = StudyPlots.WriteAll(directory, StudyReportTests.Arms(study), FashionCuda.Data.FashionMnist.ClassNames);
        Assert.Equal([StudyPlots.LearningCurvesFile, StudyPlots.AccuracyFile, StudyPlots.ConfusionFile],
            plots.Select(p => p.File));
        Assert.Equal((StudyPlots.LearningCurvesWidth, StudyPlots.LearningCurvesHeight),
            ReadPngSize(Path.Combine(directory, StudyPlots.LearningCurvesFile)));
        Assert.Equal((StudyPlots.AccuracyWidth, StudyPlots.AccuracyHeight),
            ReadPngSize(Path.Combine(directory, StudyPlots.AccuracyFile)));
        Assert.Equal((StudyPlots.ConfusionWidth, StudyPlots.ConfusionHeight),
            ReadPngSize(Path.Combine(directory, StudyPlots.ConfusionFile)));
        Assert.Contains("(far)", plots[2].Caption);
        Assert.Empty(Directory.GetFiles(directory, "*.tmp"));
    }

    [Fact]
    public void ImageGrid_WritesPngOfReportedSize()
    {
        var tiles = Enumerable.Range(0, 10)
            .Select(i => new GridTile(Enumerable.Range(0, 9).Select(v => v / 8f).ToArray(), 3, 3, [$"tile {i}"]))
            .ToList();
        string path = Path.Combine(directory, "grid.png");
        var (width, height) = ImageGrid.Write(path, "ten tiles", tiles, columns: 4, scale: 10);
        Assert.Equal((width, height), ReadPngSize(path));
        Assert.True(width >= 4 * 30);
        Assert.True(height >= 3 * 30);
    }

    [Fact]
    public void Stretch_MapsMinToZeroMaxToOne()
    {
        Assert.Equal([0f, 0.5f, 1f], ImageGrid.Stretch([-2f, 0f, 2f]));
        Assert.Equal([0.5f, 0.5f], ImageGrid.Stretch([3f, 3f]));
    }
}
