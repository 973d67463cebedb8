using System.CommandLine;
using System.Globalization;
using FashionCuda.Cli.Plots;
using FashionCuda.Data;
using FashionCuda.Studies;
using FashionCuda.Training;

namespace FashionCuda.Cli.Commands;

/// <summary><c>fashioncuda errors</c>: a grid PNG of misclassified test images with true and predicted labels.</summary>
public static class ErrorsCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "model.safetensors written by 'train' or 'study'.",
            Required = true,
        };
        var count = new Option<string>("--count")
        {
            Description = "Maximum number of misclassified images to draw, the first ones in test-set order " +
                          "(default 48).",
            DefaultValueFactory = _ => "48",
        };
        var data = Common.DataOption();
        var device = Common.DeviceOption();
        var output = new Option<string?>("--out") { Description = "PNG file; default errors.png beside the checkpoint." };
        var command = new Command("errors", "Draw the misclassified test images of a checkpoint.")
        {
            checkpoint, count, data, device, output,
        };
        command.SetAction(parsed => Common.Run(() => Execute(parsed.GetValue(checkpoint)!, parsed.GetValue(count)!,
            parsed.GetValue(data), parsed.GetValue(device)!, parsed.GetValue(output))));
        return command;
    }

    private static int Execute(string checkpointPath, string countText, string? dataDirectory, string device,
        string? output)
    {
        if (!int.TryParse(countText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int count))
            throw new UserException($"--count {countText}: not a whole number; pass the number of images to draw, e.g. 48.");
        if (count < 1)
            throw new UserException($"--count {count}: draw at least 1 image.");
        string path = output ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!, "errors.png");
        CheckOutputPath(path, output is not null);
        var backend = Common.CreateBackend(device);
        var loaded = Checkpoint.Load(checkpointPath, backend);
        var data = DataSource.Load(loaded.Config with { TrainLimit = 0, TestLimit = 0 }, dataDirectory);
        var (test, source) = (data.Test, data.Description);
        Common.PrepareOutputDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);

        var errors = ModelInspection.FindErrors(loaded.Model, test, loaded.Normalization, loaded.Config.BatchSize,
            count);
        Console.WriteLine($"data       {source}: {test.Count} test images");
        if (errors.Count == 0)
        {
            Console.WriteLine("The model classifies every test image correctly; no errors.png written.");
            return ExitCodes.Success;
        }
        string Name(int index) =>
            index < loaded.ClassNames.Length ? loaded.ClassNames[index] : index.ToString(CultureInfo.InvariantCulture);
        var tiles = errors.Select(e => new GridTile(ImageGrid.FromBytes(ToGrey(test.Image(e.Index), test.Channels)),
            test.Height, test.Width,
        [
            $"#{e.Index}",
            $"true {Name(e.Actual)}",
            string.Create(CultureInfo.InvariantCulture, $"pred {Name(e.Predicted)} {e.Confidence:P0}"),
        ])).ToList();
        string grey = test.Channels == 3 ? ", shown in grey" : "";
        ImageGrid.Write(path,
            $"First {errors.Count} misclassified test images (true class, prediction, confidence{grey})", tiles,
            columns: 8, scale: 3);
        Console.WriteLine($"Drew {errors.Count} misclassified images to {Path.GetFullPath(path)}");
        return ExitCodes.Success;
    }

    /// <summary>Rejects an output path that is a folder or not a .png file before any work is done.</summary>
    private static void CheckOutputPath(string path, bool fromOption)
    {
        string option = fromOption ? $"--out {path}" : $"the default output {path}";
        if (Directory.Exists(path))
            throw new UserException(
                $"{option} is a folder; pass a PNG file name such as {Path.Combine(path, "errors.png")}.");
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new UserException(
                $"{option}: the grid is written as PNG, so the file name must end in .png, for example " +
                $"{Path.ChangeExtension(path, ".png")}.");
    }

    /// <summary>Returns the ITU-R BT.601 luma of a CHW RGB image, or the image itself when it is grey.</summary>
    internal static byte[] ToGrey(ReadOnlySpan<byte> image, int channels)
    {
        if (channels == 1)
            return image.ToArray();
        int plane = image.Length / channels;
        var grey = new byte[plane];
        for (int i = 0; i < plane; i++)
            grey[i] = ImageFolderDecoder.Luma(image[i], image[plane + i], image[2 * plane + i]);
        return grey;
    }
}
