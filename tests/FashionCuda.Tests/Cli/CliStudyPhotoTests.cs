using System.Text.Json.Nodes;
using FashionCuda.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace FashionCuda.Tests.Cli;

/// <summary>A study whose base config trains on a photo folder named relative to the study file.</summary>
public sealed class CliStudyPhotoTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-photo-study-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Writes studies/photos/{blue,red} with 10 noisy 3-channel PNGs each and studies/photo.json.</summary>
    private string WriteStudy()
    {
        string studies = Path.Combine(directory, "studies");
        var random = new Random(7);
        foreach (var (name, red, blue) in new[] { ("red", 200, 40), ("blue", 40, 200) })
        {
            string folder = Path.Combine(studies, "photos", name);
            Directory.CreateDirectory(folder);
            for (int i = 0; i < 10; i++)
            {
                using var image = new Image<Rgb24>(18, 18);
                for (int y = 0; y < image.Height; y++)
                {
                    for (int x = 0; x < image.Width; x++)
                        image[x, y] = new Rgb24((byte)(red + random.Next(-30, 30)), (byte)random.Next(0, 255),
                            (byte)(blue + random.Next(-30, 30)));
                }
                image.SaveAsPng(Path.Combine(folder, $"{i}.png"));
            }
        }
        string file = Path.Combine(studies, "photo.json");
        File.WriteAllText(file, """
            { "name": "photo",
              "base": { "data": { "kind": "folder", "path": "photos", "channels": 3, "size": 16,
                                  "test_fraction": 0.25 },
                        "model": { "width": 2, "hidden": 8, "classifier": "linear" }, "epochs": 1,
                        "batch_size": 8, "validation_count": 4 },
              "seeds": [1],
              "arms": [ { "name": "a" }, { "name": "b", "overrides": { "augmentation": { "flip": true } } } ] }
            """);
        return file;
    }

    [Fact]
    public void Study_TrainsOnPhotoFolderOfStudyFile()
    {
        string study = WriteStudy();
        string output = Path.Combine(directory, "out");
        string photos = Path.Combine(directory, "studies", "photos");
        // The working directory is not the study's folder, so "photos" resolves only against the study file.
        var result = CliRunner.Run(directory, "study", study, "--out", output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"data       {photos} (class folders, 2 classes, 3×16×16", result.Output);

        string run = Path.Combine(output, "a", "seed-1");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.Equal(photos, (string?)config["data"]!["path"]);
        Assert.Equal(3, (int)config["model"]!["input_channels"]!);
        Assert.Equal(2, (int)config["model"]!["classes"]!);
        var (_, metadata) = SafeTensors.Read(Path.Combine(run, "best.safetensors"));
        Assert.Equal("blue\nred", metadata["class_names"]);

        var eval = CliRunner.Run(directory, "eval", "--checkpoint", Path.Combine(run, "best.safetensors"));
        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Contains("red", eval.Output);
        Assert.Contains($"- data: {photos} (class folders",
            File.ReadAllText(Path.Combine(output, "report.md")));
    }

    [Fact]
    public void StudyArms_ReportKeepsFinishedArms()
    {
        string study = WriteStudy();
        string output = Path.Combine(directory, "out");
        var full = CliRunner.Run(directory, "study", study, "--out", output);
        Assert.True(full.ExitCode == 0, full.Error);
        Assert.Contains("study      photo: 2 arms × 1 seed = 2 runs", full.Output);
        Assert.Contains("images, 1 epoch, folder", full.Output);

        var one = CliRunner.Run(directory, "study", study, "--out", output, "--arms", "b");
        Assert.True(one.ExitCode == 0, one.Error);
        Assert.Contains("study      photo: 1 arm × 1 seed = 1 run", one.Output);
        Assert.Contains("The report also covers the finished runs of a found in", one.Output);
        string report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.Contains("| a | 1 | ", report);
        Assert.Contains("| b | 1 | ", report);
    }
}
