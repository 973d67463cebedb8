using System.Text.Json;
using FashionCuda.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace FashionCuda.Tests.Cli;

public sealed class CliPhotoTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-photo-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>
    /// Writes a photo folder of two classes that differ in colour (reddish and bluish, with noise and varied
    /// sizes), plus one damaged file, and a config that trains on it.
    /// </summary>
    private string WritePhotoDataset()
    {
        var random = new Random(4);
        foreach (var (name, red, blue) in new[] { ("red", 200, 40), ("blue", 40, 200) })
        {
            string folder = Path.Combine(directory, "photos", name);
            Directory.CreateDirectory(folder);
            for (int i = 0; i < 12; i++)
            {
                using var image = new Image<Rgb24>(20 + i, 16);
                for (int y = 0; y < image.Height; y++)
                {
                    for (int x = 0; x < image.Width; x++)
                        image[x, y] = new Rgb24((byte)(red + random.Next(-30, 30)), (byte)random.Next(0, 255),
                            (byte)(blue + random.Next(-30, 30)));
                }
                image.SaveAsPng(Path.Combine(folder, $"{i}.png"));
            }
        }
        File.WriteAllBytes(Path.Combine(directory, "photos", "red", "broken.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 1, 2]);
        string config = Path.Combine(directory, "photos.json");
        File.WriteAllText(config, """
            { "data": { "kind": "folder", "path": "photos", "channels": 3, "size": 16, "resize": "crop",
                        "test_fraction": 0.25 },
              "model": { "width": 2, "hidden": 16, "dropout": 0 }, "epochs": 3, "batch_size": 8, "seed": 2,
              "optimizer": { "name": "adam", "lr": 0.003 } }
            """);
        return config;
    }

    private static void AssertUserError(CliRunner.Result result, params string[] fragments)
    {
        Assert.Equal(2, result.ExitCode);
        // Warnings about skipped files may come first; the error is the last line.
        Assert.StartsWith("error: ", result.Error.TrimEnd().Split('\n')[^1]);
        foreach (var fragment in fragments)
            Assert.Contains(fragment, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public void PhotoFolder_TrainsEvaluatesAndPredicts()
    {
        string config = WritePhotoDataset();
        string run = Path.Combine(directory, "run");

        var train = CliRunner.Run(directory, "train", "--config", config, "--out", run);
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Single(train.Error.Split('\n'),
            line => line.StartsWith("warning: skipped") && line.Contains("broken.jpg"));
        Assert.Contains("1 unreadable image files were skipped", train.Output);
        Assert.Contains("class folders, 2 classes, 3×16×16", train.Output);
        string checkpoint = Path.Combine(run, Checkpoint.FileName);
        var (_, metadata) = SafeTensors.Read(checkpoint);
        Assert.Equal("blue\nred", metadata["class_names"]);
        Assert.Equal(3, metadata["normalization_mean"].Split(',').Length);

        var eval = CliRunner.Run(directory, "eval", "--checkpoint", checkpoint);
        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Contains("accuracy", eval.Output);

        var predict = CliRunner.Run(directory, "predict", "--checkpoint", checkpoint, "--json", "--top", "2",
            Path.Combine(directory, "photos", "red"), Path.Combine(directory, "photos", "blue", "0.png"));
        Assert.True(predict.ExitCode == 0, predict.Error);
        Assert.Contains("broken.jpg", predict.Error);
        using var document = JsonDocument.Parse(predict.Output);
        var entries = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(13, entries.Count);
        int correct = 0;
        foreach (var entry in entries)
        {
            var predictions = entry.GetProperty("predictions").EnumerateArray().ToList();
            Assert.Equal(2, predictions.Count);
            double first = predictions[0].GetProperty("probability").GetDouble();
            double second = predictions[1].GetProperty("probability").GetDouble();
            Assert.True(first >= second, $"{first} < {second}");
            Assert.Equal(1.0, first + second, 1e-5);
            string expected = entry.GetProperty("path").GetString()!.Contains("/red/") ? "red" : "blue";
            if (predictions[0].GetProperty("label").GetString() == expected)
                correct++;
        }
        // Colour separates the classes, so three epochs learn it; 10 of 13 leaves room for a slow start.
        Assert.True(correct >= 10, $"only {correct} of 13 photos predicted correctly");

        var table = CliRunner.Run(directory, "predict", "--checkpoint", checkpoint,
            Path.Combine(directory, "photos", "blue", "1.png"));
        Assert.True(table.ExitCode == 0, table.Error);
        Assert.Contains("1.png", table.Output);
        Assert.Contains("%", table.Output);
    }

    [Fact]
    public void Predict_BadInputsAreUsageErrors()
    {
        string config = WritePhotoDataset();
        string run = Path.Combine(directory, "run");
        var train = CliRunner.Run(directory, "train", "--config", config, "--out", run, "--epochs", "1");
        Assert.True(train.ExitCode == 0, train.Error);
        string checkpoint = Path.Combine(run, Checkpoint.FileName);

        string missing = Path.Combine(directory, "missing.png");
        AssertUserError(CliRunner.Run(directory, "predict", "--checkpoint", checkpoint, missing), missing,
            "not found");
        string image = Path.Combine(directory, "photos", "red", "0.png");
        AssertUserError(CliRunner.Run(directory, "predict", "--checkpoint", checkpoint, "--top", "5", image),
            "--top 5", "2 classes");
        string broken = Path.Combine(directory, "photos", "red", "broken.jpg");
        AssertUserError(CliRunner.Run(directory, "predict", "--checkpoint", checkpoint, broken), "could be decoded");
        string empty = Path.Combine(directory, "empty");
        Directory.CreateDirectory(empty);
        AssertUserError(CliRunner.Run(directory, "predict", "--checkpoint", checkpoint, empty), empty, "no images");
        string badCheckpoint = Path.Combine(directory, "bad.safetensors");
        File.WriteAllBytes(badCheckpoint, [9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
        AssertUserError(CliRunner.Run(directory, "predict", "--checkpoint", badCheckpoint, image), badCheckpoint);
    }

    [Fact]
    public void Train_PhotoFolderErrorsAreUsageErrors()
    {
        Directory.CreateDirectory(Path.Combine(directory, "one", "shoes"));
        File.WriteAllBytes(Path.Combine(directory, "one", "shoes", "a.png"), [1]);
        string config = Path.Combine(directory, "one.json");
        File.WriteAllText(config, """{ "data": { "kind": "folder", "path": "one" }, "epochs": 1 }""");
        AssertUserError(CliRunner.Run(directory, "train", "--config", config), "only one class, 'shoes'");

        File.WriteAllText(config, """{ "data": { "kind": "folder" }, "epochs": 1 }""");
        AssertUserError(CliRunner.Run(directory, "train", "--config", config), "$.data.path");

        File.WriteAllText(config, """{ "data": { "kind": "fashion-mnist", "size": 32 }, "epochs": 1 }""");
        AssertUserError(CliRunner.Run(directory, "train", "--config", config), "$.data", "\"kind\": \"folder\"");

        File.WriteAllText(config, """{ "data": { "kind": "folder", "path": "one", "channels": 2 } }""");
        AssertUserError(CliRunner.Run(directory, "train", "--config", config), "$.data.channels");
    }
}
