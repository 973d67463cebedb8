using System.CommandLine;
using System.Globalization;
using FashionCuda.Cli.Plots;
using FashionCuda.Data;
using FashionCuda.Inference;
using FashionCuda.Nn;
using FashionCuda.Studies;
using FashionCuda.Training;

namespace FashionCuda.Cli.Commands;

/// <summary>
/// <c>fashioncuda inspect</c>: for one image, PNGs of the first conv layer's filters, the feature maps of each
/// block and any CBAM spatial attention map over the image, and the top-5 predictions.
/// </summary>
public static class InspectCommand
{
    /// <summary>Feature maps drawn per block; wider layers show their first channels only.</summary>
    private const int MaxChannels = 32;

    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "model.safetensors written by 'train' or 'study'.",
            Required = true,
        };
        var image = new Option<string>("--image")
        {
            Description = "Index of an image of the checkpoint's test set (0-based), or an image file " +
                          "(JPEG, PNG, BMP, GIF, WebP).",
            Required = true,
        };
        var data = Common.DataOption();
        var device = Common.DeviceOption();
        var output = new Option<string?>("--out")
        {
            Description = "Folder for the PNGs; default inspect-<image> beside the checkpoint.",
        };
        var command = new Command("inspect", "Draw a model's filters, feature maps and attention for one image.")
        {
            checkpoint, image, data, device, output,
        };
        command.SetAction(parsed => Common.Run(() => Execute(parsed.GetValue(checkpoint)!, parsed.GetValue(image)!,
            parsed.GetValue(data), parsed.GetValue(device)!, parsed.GetValue(output))));
        return command;
    }

    private static int Execute(string checkpointPath, string imageArgument, string? dataDirectory, string device,
        string? output)
    {
        var backend = Common.CreateBackend(device);
        var loaded = Checkpoint.Load(checkpointPath, backend);
        var transform = Predictor.TransformOf(loaded.Config);
        var (pixels, label, description) = LoadImage(imageArgument, dataDirectory, loaded, transform);
        string stem = IsIndex(imageArgument) ? imageArgument : Path.GetFileNameWithoutExtension(imageArgument);
        string directory = Common.PrepareOutputDirectory(output ?? Path.Combine(
            Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!, $"inspect-{stem}"));

        var inspection = ModelInspection.Inspect(loaded.Model, loaded.Normalization, pixels, transform.Size,
            transform.Size);
        var grey = ErrorsCommand.ToGrey(pixels, transform.Channels);
        var written = new List<string>();
        if (ModelInspection.FirstConvFilters(loaded.Model) is { } filters)
            written.Add(WriteFilters(directory, filters));
        for (int i = 0; i < inspection.Features.Count; i++)
            written.Add(WriteFeatures(directory, i, inspection.Features[i]));
        if (inspection.Attention.Count > 0)
            written.Add(WriteAttention(directory, grey, transform.Size, inspection.Attention));

        string ClassName(int index) =>
            index < loaded.ClassNames.Length ? loaded.ClassNames[index] : index.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine($"image      {description}{(label is { } l ? $", true class {ClassName(l)}" : "")}");
        Console.WriteLine("top-5 predictions:");
        foreach (var prediction in inspection.Top)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {prediction.Probability,7:P2}  {ClassName(prediction.Class)}"));
        if (inspection.Attention.Count == 0)
            Console.WriteLine(loaded.Model.NamedModules().Any(entry => entry.Module is Cbam)
                ? "The model's CBAM blocks have channel attention only, so there is no spatial attention map."
                : "The model has no CBAM blocks, so there is no spatial attention map.");
        Console.WriteLine($"Wrote {string.Join(", ", written)} to {directory}");
        return ExitCodes.Success;
    }

    /// <summary>Whether <c>--image</c> is a test-set index: digits only, however many.</summary>
    private static bool IsIndex(string argument) => argument.Length > 0 && argument.All(char.IsAsciiDigit);

    /// <summary>
    /// Returns test image <paramref name="argument"/> of the checkpoint's own data (Fashion-MNIST or its photo
    /// folder, as <c>eval</c> reads it), or the image file decoded with the checkpoint's preprocessing.
    /// </summary>
    private static (byte[] Pixels, int? Label, string Description) LoadImage(string argument, string? dataDirectory,
        Checkpoint.Loaded loaded, ImageTransform transform)
    {
        if (IsIndex(argument))
        {
            var data = DataSource.Load(loaded.Config with { TrainLimit = 0, TestLimit = 0 }, dataDirectory);
            var test = data.Test;
            if (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out int index) ||
                index >= test.Count)
                throw new UserException(
                    $"--image {argument}: the test set in {data.Description} has {test.Count} images; use an " +
                    $"index from 0 to {test.Count - 1}.");
            return (test.Image(index).ToArray(), test.Labels[index], $"test image {index} of {data.Description}");
        }
        if (Directory.Exists(argument))
            throw new UserException($"--image {argument} is a folder; pass one image file or a test-set index.");
        if (!File.Exists(argument) &&
            int.TryParse(argument, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int negative) &&
            negative < 0)
            throw new UserException(
                $"--image {argument}: test-set indices start at 0; pass an index of 0 or more, or an image file.");
        if (!File.Exists(argument))
            throw new UserException($"--image {argument}: file not found; pass a test-set index or an image file.");
        var pixels = new byte[transform.Channels * transform.Size * transform.Size];
        try
        {
            ImageFolderDecoder.Decode(argument, transform, pixels);
        }
        catch (ImageDecodeException e)
        {
            throw new UserException(
                $"--image {argument}: {e.Message}; pass a JPEG, PNG, BMP, GIF or WebP image or a test-set index.");
        }
        bool inverted = Predictor.PreparePhoto(loaded.Config, pixels, transform.Size);
        return (pixels, null, $"{Path.GetFullPath(argument)}{(inverted ? " (inverted to a light object on dark)" : "")}");
    }

    private static string WriteFilters(string directory, ConvFilters filters)
    {
        int size = filters.Kernel * filters.Kernel;
        var tiles = new List<GridTile>();
        for (int k = 0; k < filters.Filters && tiles.Count < 64; k++)
        {
            for (int c = 0; c < filters.Channels && tiles.Count < 64; c++)
            {
                var weights = filters.Weights.AsSpan((k * filters.Channels + c) * size, size);
                string caption = filters.Channels == 1 ? $"{k}" : $"{k}.{c}";
                tiles.Add(new GridTile(ImageGrid.Stretch(weights), filters.Kernel, filters.Kernel, [caption]));
            }
        }
        const string file = "filters.png";
        ImageGrid.Write(Path.Combine(directory, file),
            $"{filters.Layer}: {filters.Filters} filters of {filters.Channels}×{filters.Kernel}×{filters.Kernel} " +
            "(each stretched to black = min, white = max)", tiles, columns: 8, scale: Math.Max(4, 60 / filters.Kernel));
        return file;
    }

    private static string WriteFeatures(string directory, int index, FeatureMap map)
    {
        int area = map.Height * map.Width;
        var tiles = new List<GridTile>();
        for (int c = 0; c < Math.Min(map.Channels, MaxChannels); c++)
            tiles.Add(new GridTile(ImageGrid.Stretch(map.Values.AsSpan(c * area, area)), map.Height, map.Width, [$"{c}"]));
        string file = $"features-{index + 1}-{map.Layer}.png";
        string shown = map.Channels > MaxChannels ? $", first {MaxChannels} shown" : "";
        ImageGrid.Write(Path.Combine(directory, file),
            $"{map.Layer}: {map.Channels} maps of {map.Height}×{map.Width}{shown}", tiles, columns: 8,
            scale: Math.Max(2, 84 / map.Height));
        return file;
    }

    private static string WriteAttention(string directory, byte[] grey, int size, IReadOnlyList<AttentionMap> maps)
    {
        var image = ImageGrid.FromBytes(grey);
        var tiles = maps.Select(m => new GridTile(image, size, size, [m.Module])
        {
            Overlay = m.Values,
            OverlayHeight = m.Height,
            OverlayWidth = m.Width,
        }).ToList();
        const string file = "attention.png";
        ImageGrid.Write(Path.Combine(directory, file), "CBAM spatial attention over the image (red = gate near 1)",
            tiles, columns: 4, scale: 6);
        return file;
    }
}
