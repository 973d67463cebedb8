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
        Assert.Contains("1 unreadable image file was skipped", train.Output);
        Assert.Contains("class folders, 2 classes, 3×16×16, 1 unreadable file skipped", train.Output);
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

    /// <summary>Trains one epoch on the photo folder and returns the checkpoint.</summary>
    private string TrainPhotoModel(string config)
    {
        string run = Path.Combine(directory, "run");
        var train = CliRunner.Run(directory, "train", "--config", config, "--out", run, "--epochs", "1");
        Assert.True(train.ExitCode == 0, train.Error);
        return Path.Combine(run, Checkpoint.FileName);
    }

    [Fact]
    public void InspectAndErrors_UseThePhotoData()
    {
        string checkpoint = TrainPhotoModel(WritePhotoDataset());
        string photos = Path.Combine(directory, "photos");

        var byIndex = CliRunner.Run(directory, "inspect", "--checkpoint", checkpoint, "--image", "0", "--out",
            Path.Combine(directory, "inspect-0"));
        Assert.True(byIndex.ExitCode == 0, byIndex.Error);
        Assert.Contains($"test image 0 of {photos}", byIndex.Output);
        Assert.Contains("filters.png", byIndex.Output);

        var byFile = CliRunner.Run(directory, "inspect", "--checkpoint", checkpoint, "--image",
            Path.Combine(photos, "red", "3.png"), "--out", Path.Combine(directory, "inspect-file"));
        Assert.True(byFile.ExitCode == 0, byFile.Error);
        Assert.DoesNotContain("inverted", byFile.Output);

        string grid = Path.Combine(directory, "e.png");
        var errors = CliRunner.Run(directory, "errors", "--checkpoint", checkpoint, "--out", grid);
        Assert.True(errors.ExitCode == 0, errors.Error);
        Assert.Contains(photos, errors.Output);
    }

    [Fact]
    public void Inspect_BadImageArgumentsAreUsageErrors()
    {
        string checkpoint = TrainPhotoModel(WritePhotoDataset());

        AssertUserError(CliRunner.Run(directory, "inspect", "--checkpoint", checkpoint, "--image", "99999999999"),
            "--image 99999999999", "use an index from 0 to");
        string folder = Path.Combine(directory, "photos", "red");
        AssertUserError(CliRunner.Run(directory, "inspect", "--checkpoint", checkpoint, "--image", folder),
            "is a folder");
        string empty = Path.Combine(directory, "empty.png");
        File.WriteAllBytes(empty, []);
        AssertUserError(CliRunner.Run(directory, "inspect", "--checkpoint", checkpoint, "--image", empty),
            "the file is empty");
    }

    [Fact]
    public void Errors_OutputMustBePngFile()
    {
        string checkpoint = TrainPhotoModel(WritePhotoDataset());

        AssertUserError(CliRunner.Run(directory, "errors", "--checkpoint", checkpoint, "--out",
            Path.Combine(directory, "e.jpg")), "e.jpg", ".png");
        Assert.False(File.Exists(Path.Combine(directory, "e.jpg")));
        AssertUserError(CliRunner.Run(directory, "errors", "--checkpoint", checkpoint, "--out", directory),
            "is a folder");
    }

    [Fact]
    public void Summary_UsesThePhotoShape()
    {
        string config = WritePhotoDataset();

        var result = CliRunner.Run(directory, "summary", "--config", config);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("3×16×16 images", result.Output);
        Assert.Contains("2 classes", result.Output);
        Assert.Contains("(1, 2)", result.Output);
        Assert.DoesNotContain("(1, 10)", result.Output);
    }

    [Fact]
    public void Eval_MovedPhotosAskForData()
    {
        string checkpoint = TrainPhotoModel(WritePhotoDataset());
        string moved = Path.Combine(directory, "moved");
        Directory.Move(Path.Combine(directory, "photos"), moved);

        AssertUserError(CliRunner.Run(directory, "eval", "--checkpoint", checkpoint), "not found", "--data");
        var again = CliRunner.Run(directory, "eval", "--checkpoint", checkpoint, "--data", moved);
        Assert.True(again.ExitCode == 0, again.Error);
    }

    [Fact]
    public void Eval_ClassWithoutTestImagesIsNamed()
    {
        string config = WritePhotoDataset();
        // One image: the split keeps it for training, so the class has no test images.
        Directory.CreateDirectory(Path.Combine(directory, "photos", "green"));
        File.Copy(Path.Combine(directory, "photos", "red", "0.png"), Path.Combine(directory, "photos", "green", "0.png"));
        string checkpoint = TrainPhotoModel(config);

        var eval = CliRunner.Run(directory, "eval", "--checkpoint", checkpoint);

        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Contains("no test images", eval.Output);
        Assert.DoesNotContain("NaN", eval.Output);
    }

    [Fact]
    public void Train_ResumeMessagesNameTheFix()
    {
        string checkpoint = TrainPhotoModel(WritePhotoDataset());
        string run = Path.GetDirectoryName(checkpoint)!;

        var neither = CliRunner.Run(directory, "train");
        AssertUserError(neither, "--config FILE");
        Assert.DoesNotContain("not both", neither.Error);
        AssertUserError(CliRunner.Run(directory, "train", "--resume", checkpoint), "is a file", run);
        AssertUserError(CliRunner.Run(directory, "train", "--resume", run),
            "already completed all 1 epoch;", "--epochs 2");
        var fewer = CliRunner.Run(directory, "train", "--resume", run, "--epochs", "1");
        AssertUserError(fewer, "--epochs 1:", "already completed 1 epoch;");
        Assert.DoesNotContain("of 1 epochs", fewer.Error);
    }

    [Fact]
    public void Train_WarnsAboutReplacedModelKeys()
    {
        WritePhotoDataset();
        string config = Path.Combine(directory, "classes.json");
        File.WriteAllText(config, """
            { "data": { "kind": "folder", "path": "photos", "size": 16 },
              "model": { "width": 2, "hidden": 16, "classes": 5, "input_channels": 1 }, "epochs": 1 }
            """);

        var result = CliRunner.Run(directory, "train", "--config", config, "--out", Path.Combine(directory, "c"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("warning: ", result.Error);
        Assert.Contains("model.classes is 5 but the data has 2 classes", result.Error);
        Assert.Contains("model.input_channels is 1 but the data has 3 channels", result.Error);
    }

    [Fact]
    public void Export_GreyModelSaysOneChannel()
    {
        WritePhotoDataset();
        string config = Path.Combine(directory, "grey.json");
        File.WriteAllText(config, """
            { "data": { "kind": "folder", "path": "photos", "channels": 1, "size": 16 },
              "model": { "width": 2, "hidden": 16 }, "epochs": 1 }
            """);
        string checkpoint = TrainPhotoModel(config);
        string onnx = Path.Combine(directory, "grey.onnx");

        var result = CliRunner.Run(directory, "export", "--checkpoint", checkpoint, "--onnx", onnx);

        Assert.True(result.ExitCode == 0, result.Error);
        string bytes = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(onnx));
        Assert.Contains("to 1 channel (grey)", bytes);
        Assert.DoesNotContain("1 channels", bytes);
    }

    [Theory]
    [InlineData("""{ "width": 4, "hidden": 16, "cbam": { "mode": "channel", "placement": "after-conv2" } }""",
        "channel attention only")]
    [InlineData("""{ "width": 4, "hidden": 16 }""", "has no CBAM blocks")]
    public void Inspect_SaysWhyNoAttentionMap(string model, string expected)
    {
        // An untrained checkpoint is enough: the message depends on the architecture only.
        var config = TrainConfig.Parse($$"""{ "model": {{model}} }""");
        using var backend = new FashionCuda.Backends.Cpu.CpuBackend();
        var network = FashionCuda.Models.ModelFactory.Create(config, backend, new FashionCuda.Tensors.Rng(1));
        string checkpoint = Path.Combine(directory, "untrained.safetensors");
        Checkpoint.Save(checkpoint, network, config, FashionCuda.Data.FashionMnist.ClassNames, 0.3f, 0.35f);

        var result = CliRunner.Run(directory, "inspect", "--checkpoint", checkpoint, "--image", "0", "--data",
            CliRunner.EmbeddedData(), "--out", Path.Combine(directory, "inspect"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains(expected, result.Output);
    }

    [Fact]
    public void Predict_InvertsLightFashionPhoto()
    {
        string config = Path.Combine(directory, "fashion.json");
        File.WriteAllText(config, """
            { "model": { "width": 2, "hidden": 8 }, "epochs": 1, "batch_size": 16, "train_limit": 64,
              "test_limit": 32 }
            """);
        string run = Path.Combine(directory, "fashion-run");
        var train = CliRunner.Run(directory, "train", "--config", config, "--out", run, "--data",
            Path.Combine(CliRunner.RepositoryRoot(), "data", "fashion-mnist"));
        Assert.True(train.ExitCode == 0, train.Error);
        // A dark square on white, like a product photo, and the same square light on black.
        foreach (var (name, background, square) in new[] { ("light", (byte)250, (byte)30), ("dark", (byte)5, (byte)220) })
        {
            using var image = new Image<Rgb24>(40, 30, new Rgb24(background, background, background));
            for (int y = 8; y < 22; y++)
            {
                for (int x = 12; x < 28; x++)
                    image[x, y] = new Rgb24(square, square, square);
            }
            image.SaveAsPng(Path.Combine(directory, $"{name}.png"));
        }

        var predict = CliRunner.Run(directory, "predict", "--checkpoint", Path.Combine(run, Checkpoint.FileName),
            "--json", Path.Combine(directory, "light.png"), Path.Combine(directory, "dark.png"));
        Assert.True(predict.ExitCode == 0, predict.Error);
        using var document = JsonDocument.Parse(predict.Output);
        var inverted = document.RootElement.EnumerateArray()
            .ToDictionary(e => Path.GetFileName(e.GetProperty("path").GetString()!), e => e.GetProperty("inverted").GetBoolean());
        Assert.True(inverted["light.png"]);
        Assert.False(inverted["dark.png"]);
    }
}
