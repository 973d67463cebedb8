using System.CommandLine;
using System.Globalization;
using FashionCuda.Cli.Plots;
using FashionCuda.Data;
using FashionCuda.Studies;
using FashionCuda.Training;
using SkiaSharp;

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
            Description = "Index of a test-set image (0-based), or a PNG or JPEG file.",
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
        var (pixels, label, description) = LoadImage(imageArgument, dataDirectory);
        string stem = int.TryParse(imageArgument, out _) ? imageArgument : Path.GetFileNameWithoutExtension(imageArgument);
        string directory = Common.PrepareOutputDirectory(output ?? Path.Combine(
            Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!, $"inspect-{stem}"));

        var inspection = ModelInspection.Inspect(loaded.Model, new Normalization(loaded.Mean, loaded.Std), pixels,
            ImageSize, ImageSize);
        var written = new List<string>();
        if (ModelInspection.FirstConvFilters(loaded.Model) is { } filters)
            written.Add(WriteFilters(directory, filters));
        for (int i = 0; i < inspection.Features.Count; i++)
            written.Add(WriteFeatures(directory, i, inspection.Features[i]));
        if (inspection.Attention.Count > 0)
            written.Add(WriteAttention(directory, pixels, inspection.Attention));

        string ClassName(int index) =>
            index < loaded.ClassNames.Length ? loaded.ClassNames[index] : index.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine($"image      {description}{(label is { } l ? $", true class {ClassName(l)}" : "")}");
        Console.WriteLine("top-5 predictions:");
        foreach (var prediction in inspection.Top)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {prediction.Probability,7:P2}  {ClassName(prediction.Class)}"));
        if (inspection.Attention.Count == 0)
            Console.WriteLine("The model has no spatial attention (CBAM), so there is no attention map.");
        Console.WriteLine($"Wrote {string.Join(", ", written)} to {directory}");
        return ExitCodes.Success;
    }

    // NOTE: inspect feeds 1×28×28 grey images only; models built for other input sizes or colour need this
    // to come from the checkpoint's config.
    private const int ImageSize = 28;

    private static (byte[] Pixels, int? Label, string Description) LoadImage(string argument, string? dataDirectory)
    {
        if (int.TryParse(argument, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index))
        {
            var (_, test, source) = Common.LoadData(dataDirectory);
            if (index < 0 || index >= test.Count)
                throw new UserException(
                    $"--image {index}: the test set in {source} has {test.Count} images; use an index from 0 to " +
                    $"{test.Count - 1}.");
            return (test.Image(index).ToArray(), test.Labels[index], $"test image {index} of {source}");
        }
        if (!File.Exists(argument))
            throw new UserException($"--image {argument}: no such file; pass a test-set index or a PNG or JPEG file.");
        var (pixels, inverted) = DecodeFile(argument);
        return (pixels, null, $"{Path.GetFullPath(argument)}{(inverted ? " (inverted to a light object on dark)" : "")}");
    }

    /// <summary>
    /// Decodes a PNG or JPEG with SkiaSharp into 28×28 grey bytes like Fashion-MNIST. The centre square is
    /// scaled down and transparent pixels count as white. The picture is inverted when its border is mostly
    /// light, because Fashion-MNIST shows light objects on black.
    /// </summary>
    public static (byte[] Pixels, bool Inverted) DecodeFile(string path)
    {
        using var decoded = SKBitmap.Decode(path) ?? throw new UserException(
            $"--image {path}: the file is not a PNG or JPEG image that SkiaSharp can decode.");
        int side = Math.Min(decoded.Width, decoded.Height);
        var square = new SKRectI((decoded.Width - side) / 2, (decoded.Height - side) / 2,
            (decoded.Width - side) / 2 + side, (decoded.Height - side) / 2 + side);
        using var small = new SKBitmap(ImageSize, ImageSize, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using (var canvas = new SKCanvas(small))
        {
            canvas.Clear(SKColors.White);
            using var image = SKImage.FromBitmap(decoded);
            canvas.DrawImage(image, square, new SKRect(0, 0, ImageSize, ImageSize),
                new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        }
        var pixels = new byte[ImageSize * ImageSize];
        double border = 0;
        int borderCount = 0;
        for (int row = 0; row < ImageSize; row++)
        {
            for (int column = 0; column < ImageSize; column++)
            {
                var color = small.GetPixel(column, row);
                byte grey = (byte)Math.Round(0.299 * color.Red + 0.587 * color.Green + 0.114 * color.Blue);
                pixels[row * ImageSize + column] = grey;
                if (row == 0 || column == 0 || row == ImageSize - 1 || column == ImageSize - 1)
                {
                    border += grey;
                    borderCount++;
                }
            }
        }
        bool invert = border / borderCount > 127;
        if (invert)
        {
            for (int i = 0; i < pixels.Length; i++)
                pixels[i] = (byte)(255 - pixels[i]);
        }
        return (pixels, invert);
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

    private static string WriteAttention(string directory, byte[] pixels, IReadOnlyList<AttentionMap> maps)
    {
        var image = ImageGrid.FromBytes(pixels);
        var tiles = maps.Select(m => new GridTile(image, ImageSize, ImageSize, [m.Module])
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
