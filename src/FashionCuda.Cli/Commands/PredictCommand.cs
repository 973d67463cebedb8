using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FashionCuda.Data;
using FashionCuda.Inference;
using FashionCuda.Training;
using Spectre.Console;

namespace FashionCuda.Cli.Commands;

/// <summary>
/// <c>fashioncuda predict</c>: the most probable classes of photos (files, or folders read recursively) under a
/// checkpoint, preprocessed as its training data was.
/// </summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "model.safetensors written by 'train'.",
            Required = true,
        };
        var top = new Option<int?>("--top")
        {
            Description = "Number of classes to show per image, most probable first; default 3 (or the class count).",
        };
        var json = new Option<bool>("--json") { Description = "Print a JSON list instead of a table." };
        var device = Common.DeviceOption();
        var images = new Argument<string[]>("images")
        {
            Description = "Image files or folders of images (JPEG, PNG, BMP, GIF, WebP).",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("predict", "Classify photos with a trained checkpoint.")
        {
            checkpoint, top, json, device, images,
        };
        command.SetAction(parsed => Common.Run(() => Execute(parsed.GetValue(checkpoint)!, parsed.GetValue(top),
            parsed.GetValue(json), parsed.GetValue(device)!, parsed.GetValue(images)!)));
        return command;
    }

    private static int Execute(string checkpointPath, int? requestedTop, bool json, string device, string[] inputs)
    {
        var files = ExpandInputs(inputs);
        var backend = Common.CreateBackend(device);
        var loaded = Checkpoint.Load(checkpointPath, backend);
        int classes = loaded.Config.Model.Classes;
        int top = requestedTop ?? Math.Min(3, classes);
        if (top < 1 || top > classes)
            throw new UserException($"--top {top}: the model has {classes} classes; pass a value from 1 to {classes}.");
        var predictor = new Predictor(loaded);
        var transform = predictor.Transform;

        var decoded = new List<(string Path, byte[] Pixels, bool Inverted)>();
        foreach (string file in files)
        {
            var pixels = new byte[transform.Channels * transform.Size * transform.Size];
            try
            {
                ImageFolderDecoder.Decode(file, transform, pixels);
                decoded.Add((file, pixels, Predictor.PreparePhoto(loaded.Config, pixels, transform.Size)));
            }
            catch (ImageDecodeException e)
            {
                Console.Error.WriteLine($"warning: skipped {file}: {e.Message}");
            }
        }
        if (decoded.Count == 0)
            throw new UserException(
                $"None of the {files.Count} images could be decoded; see the warnings above and pass JPEG, PNG, " +
                "BMP, GIF or WebP files.");

        var predictions = predictor.Predict(decoded.Select(d => d.Pixels).ToList(), top);
        if (json)
        {
            Console.WriteLine(ToJson(decoded.Select(d => (d.Path, d.Inverted)).ToList(), predictions));
        }
        else
        {
            // The table marks inverted photos after the path, as inspect does.
            PrintTable(decoded.Select(d => d.Inverted ? $"{d.Path} (inverted to a light object on dark)" : d.Path)
                .ToList(), predictions, top);
        }
        return ExitCodes.Success;
    }

    /// <summary>Returns the files named, with folders replaced by their images in path order.</summary>
    private static List<string> ExpandInputs(string[] inputs)
    {
        var files = new List<string>();
        foreach (string input in inputs)
        {
            if (File.Exists(input))
            {
                files.Add(Path.GetFullPath(input));
                continue;
            }
            if (!Directory.Exists(input))
                throw new UserException($"Image {input} not found; pass image files or folders that exist.");
            var images = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                .Where(ImageFolderDecoder.HasImageExtension)
                .Where(path => !Path.GetRelativePath(input, path).Split(Path.DirectorySeparatorChar)
                    .Any(part => part.StartsWith('.')))
                .Select(Path.GetFullPath)
                .Order(StringComparer.Ordinal)
                .ToList();
            if (images.Count == 0)
                throw new UserException(
                    $"Folder {input} contains no images with the extensions " +
                    $"{string.Join(", ", ImageFolderDecoder.Extensions)}; pass another folder or the files.");
            files.AddRange(images);
        }
        return files;
    }

    private static void PrintTable(List<string> paths, List<ClassProbability[]> predictions, int top)
    {
        var table = new Table().AddColumn("image");
        for (int rank = 1; rank <= top; rank++)
            table.AddColumn(rank == 1 ? "prediction" : $"#{rank}");
        for (int i = 0; i < paths.Count; i++)
        {
            var cells = new List<string> { Markup.Escape(paths[i]) };
            cells.AddRange(predictions[i].Select(p => Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{p.Label} {p.Probability:P1}"))));
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
    }

    private static string ToJson(List<(string Path, bool Inverted)> images, List<ClassProbability[]> predictions)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            for (int i = 0; i < images.Count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("path", images[i].Path);
                writer.WriteBoolean("inverted", images[i].Inverted);
                writer.WriteStartArray("predictions");
                foreach (var p in predictions[i])
                {
                    writer.WriteStartObject();
                    writer.WriteString("label", p.Label);
                    writer.WriteNumber("index", p.Index);
                    writer.WriteNumber("probability", Math.Round(p.Probability, 6));
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
