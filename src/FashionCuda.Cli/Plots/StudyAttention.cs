using FashionCuda.Backends;
using FashionCuda.Data;
using FashionCuda.Nn;
using FashionCuda.Studies;
using FashionCuda.Training;

namespace FashionCuda.Cli.Plots;

/// <summary>
/// The <c>attention.png</c> of a study with CBAM spatial attention: the spatial gates of every CBAM block of one
/// trained run, drawn over the first test image of each class.
/// </summary>
public static class StudyAttention
{
    public const string FileName = "attention.png";

    /// <summary>Maximum number of classes drawn, so that a photo folder with many classes still gives a readable grid.</summary>
    public const int MaxClasses = 12;

    /// <summary>
    /// A finished run to draw and the checkpoint of its selected epoch. <paramref name="SkippedArms"/> names the arms
    /// with spatial attention and a higher mean test accuracy that were passed over because no run of theirs kept
    /// its checkpoint.
    /// </summary>
    public sealed record Pick(StudyRun Run, string Checkpoint, int Epoch, IReadOnlyList<string>? SkippedArms = null);

    /// <summary>
    /// Returns the run to draw: of the arm that has spatial attention and the highest mean test accuracy, the
    /// lowest seed whose checkpoint of the selected epoch exists (<c>best.safetensors</c>, or
    /// <c>model.safetensors</c> for a run selected without a validation split). When no run of that arm kept its
    /// checkpoint, the next arm in accuracy order is tried. Returns null when no finished arm has spatial attention
    /// or no such run kept its checkpoint (studies/results in git keeps none).
    /// </summary>
    public static Pick? PickRun(string directory, IReadOnlyList<StudyRun> plan, IReadOnlyList<ArmSummary> arms)
    {
        var candidates = arms
            .Where(arm => plan.Any(run => run.Arm.Name == arm.Arm.Name && HasSpatialAttention(run.Config)))
            .OrderByDescending(arm => arm.MeanAccuracy);
        var skipped = new List<string>();
        foreach (var arm in candidates)
        {
            foreach (var result in arm.Runs.OrderBy(result => result.Seed))
            {
                var run = plan.FirstOrDefault(run => run.Arm.Name == arm.Arm.Name && run.Seed == result.Seed);
                if (run is null)
                    continue;
                string file = result.SelectedByValidation ? StudyRunner.BestCheckpointFileName : Checkpoint.FileName;
                string checkpoint = Path.Combine(directory, run.RelativeDirectory, file);
                if (File.Exists(checkpoint))
                    return new Pick(run, checkpoint, result.SelectedEpoch, skipped);
            }
            skipped.Add(arm.Arm.Name);
        }
        return null;
    }

    /// <summary>Whether the config's model has CBAM with a spatial attention part.</summary>
    public static bool HasSpatialAttention(TrainConfig config) =>
        config.Model.Cbam is { Mode: CbamMode.Both or CbamMode.Spatial };

    /// <summary>
    /// Draws the gates of the picked checkpoint over the first image of each class in <paramref name="test"/> (of
    /// the first <see cref="MaxClasses"/> classes) and writes <see cref="FileName"/> into
    /// <paramref name="directory"/>. Each row contains whole images: one when the model has five or more CBAM blocks,
    /// otherwise as many as fit in five columns.
    /// </summary>
    /// <returns>The file name and the caption for the report.</returns>
    public static (string File, string Caption) Write(string directory, Pick pick, ImageDataset test,
        IBackend backend)
    {
        var loaded = Checkpoint.Load(pick.Checkpoint, backend);
        var transform = Inference.Predictor.TransformOf(loaded.Config);
        var tiles = new List<GridTile>();
        int blocks = 0;
        int images = 0;
        for (int label = 0; label < Math.Min(loaded.ClassNames.Length, MaxClasses); label++)
        {
            int index = Array.IndexOf(test.Labels, (byte)label);
            if (index < 0)
                continue;
            var pixels = test.Image(index).ToArray();
            var inspection = ModelInspection.Inspect(loaded.Model, loaded.Normalization, pixels, transform.Size,
                transform.Size, featureMaps: false);
            var grey = ImageGrid.FromBytes(Commands.ErrorsCommand.ToGrey(pixels, transform.Channels));
            blocks = inspection.Attention.Count;
            foreach (var map in inspection.Attention)
            {
                tiles.Add(new GridTile(grey, transform.Size, transform.Size,
                    [$"{loaded.ClassNames[label]} (test {index})", map.Module])
                {
                    Overlay = map.Values,
                    OverlayHeight = map.Height,
                    OverlayWidth = map.Width,
                });
            }
            images++;
        }
        if (tiles.Count == 0)
        {
            throw new InvalidOperationException(
                $"{pick.Checkpoint} produced no spatial attention map, though its config has CBAM spatial attention.");
        }
        var run = pick.Run;
        int columns = blocks * Math.Max(1, 5 / blocks);
        string title = $"CBAM spatial attention of {run.Arm.Name}, seed {run.Seed}, epoch {pick.Epoch} " +
                       "(red = gate near 1)";
        ImageGrid.Write(Path.Combine(directory, FileName), title, tiles, columns, scale: 4);
        string layout = blocks == 1
            ? "one tile per image"
            : $"the {blocks} CBAM blocks of an image side by side, from input to output";
        string classes = loaded.ClassNames.Length > MaxClasses
            ? $"{images} of the first {MaxClasses} classes"
            : $"{images} classes";
        string choice = "the arm with spatial attention and the highest mean test accuracy";
        if (pick.SkippedArms is { Count: > 0 } skipped)
            choice += $" that kept a checkpoint, since no run of {string.Join(" or ", skipped)} kept one";
        string caption = $"CBAM spatial attention of {run.Arm.Name} ({choice}), seed {run.Seed} at epoch {pick.Epoch}, " +
                         $"over the first test image of each of {classes}, {layout}. Red marks pixels whose gate is " +
                         "near 1.";
        return (FileName, caption);
    }
}
