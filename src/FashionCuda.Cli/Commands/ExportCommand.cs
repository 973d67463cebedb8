using System.CommandLine;
using System.Globalization;
using FashionCuda.Inference;
using FashionCuda.Onnx;
using FashionCuda.Training;

namespace FashionCuda.Cli.Commands;

/// <summary>
/// <c>fashioncuda export</c>: writes a checkpoint's model as an ONNX file, with the class names, the input
/// normalization and the image preprocessing in the model's metadata_props.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "model.safetensors written by 'train'.",
            Required = true,
        };
        var onnx = new Option<string>("--onnx") { Description = "ONNX file to write.", Required = true };
        var command = new Command("export", "Export a checkpoint to ONNX for ONNX Runtime and other runtimes.")
        {
            checkpoint, onnx,
        };
        command.SetAction(parsed => Common.Run(() => Execute(parsed.GetValue(checkpoint)!, parsed.GetValue(onnx)!)));
        return command;
    }

    private static int Execute(string checkpointPath, string onnxPath)
    {
        string fullPath = Path.GetFullPath(onnxPath);
        string? folder = Path.GetDirectoryName(fullPath);
        if (folder is null || !Directory.Exists(folder))
            throw new UserException(
                $"--onnx {onnxPath}: folder {folder} does not exist; create it or pick another path.");
        if (Directory.Exists(fullPath))
            throw new UserException($"--onnx {onnxPath} is a folder; pass a file name such as model.onnx.");
        var loaded = Checkpoint.Load(checkpointPath, Common.CreateBackend("cpu"));
        var transform = Predictor.TransformOf(loaded.Config);
        var metadata = new Dictionary<string, string>
        {
            ["class_names"] = string.Join("\n", loaded.ClassNames),
            ["normalization_mean"] = string.Join(",", loaded.Normalization.Means.Select(Format)),
            ["normalization_std"] = string.Join(",", loaded.Normalization.Stds.Select(Format)),
            ["preprocessing"] =
                $"RGB or grey to {(transform.Channels == 1 ? "1 channel (grey)" : $"{transform.Channels} channels (RGB)")}, " +
                $"resize to {transform.Size}×{transform.Size} " +
                $"keeping aspect ratio then {transform.Resize.ToString().ToLowerInvariant()}, " +
                (loaded.Config.Data.IsFolder ? "" : "255 − pixel when the mean of the border pixels is above 127, ") +
                "pixel / 255, then (x − mean) / std per channel",
            ["config"] = loaded.Config.ToJson(),
        };
        OnnxGraph graph;
        try
        {
            graph = OnnxExporter.Export(loaded.Model, transform.Channels, transform.Size, fullPath, metadata);
        }
        catch (NotSupportedException e)
        {
            throw new UserException($"Cannot export {checkpointPath} to ONNX: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserException($"Cannot write --onnx {onnxPath}: {e.Message}");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {fullPath}: opset {OnnxGraph.OpsetVersion}, {graph.Nodes.Count} nodes, " +
            $"{graph.Initializers.Count} initializers, input '{OnnxExporter.InputName}' (N, {transform.Channels}, " +
            $"{transform.Size}, {transform.Size}), output '{OnnxExporter.OutputName}' (N, {graph.OutputShape[0]})."));
        Console.WriteLine($"Normalize inputs with mean [{metadata["normalization_mean"]}] and std " +
                          $"[{metadata["normalization_std"]}]; the file's metadata repeats them.");
        return ExitCodes.Success;
    }

    private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
