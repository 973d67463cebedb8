using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FashionCuda.Data;
using FashionCuda.Optim;
using FashionCuda.Training;
using Spectre.Console;

namespace FashionCuda.Cli.Commands;

/// <summary><c>fashioncuda train</c>: trains from a JSON config and writes a run folder.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "JSON training config (or use --resume)." };
        var data = Common.DataOption();
        var output = new Option<string?>("--out")
        {
            Description = "Run folder for config.json, metrics.json, metrics.csv, model.safetensors and " +
                          "training-state.safetensors; default runs/<config name>.",
        };
        var device = Common.DeviceOption();
        var epochs = new Option<string?>("--epochs") { Description = "Override the config's epoch count (1 to 100000)." };
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue the run in this folder from its last complete epoch, with its saved config.",
        };
        var command = new Command("train", "Train a model from a JSON config.")
        {
            config, data, output, device, epochs, resume,
        };
        command.SetAction(parsed => Common.Run(() => Execute(parsed.GetValue(config), parsed.GetValue(data),
            parsed.GetValue(output), parsed.GetValue(device)!, parsed.GetValue(epochs), parsed.GetValue(resume))));
        return command;
    }

    private static int Execute(string? configPath, string? dataDirectory, string? outputDirectory, string device,
        string? epochs, string? resumeDirectory)
    {
        if (configPath is null && resumeDirectory is null)
            throw new UserException(
                "Pass --config FILE to start a run or --resume RUN_FOLDER to continue one.");
        if (configPath is not null && resumeDirectory is not null)
            throw new UserException(
                "Pass either --config FILE to start a run or --resume RUN_FOLDER to continue one, not both; a " +
                "resumed run uses the config saved in its folder.");
        if (resumeDirectory is not null && outputDirectory is not null)
            throw new UserException(
                $"--out {outputDirectory}: a resumed run writes to its own folder; leave out --out with --resume.");
        ResumeState? resumeState = resumeDirectory is null ? null : RunCheckpoint.Load(resumeDirectory);
        var config = resumeState?.Config ?? TrainConfig.Load(configPath!);
        if (epochs is not null)
        {
            if (!int.TryParse(epochs, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1 ||
                count > 100_000)
                throw new UserException($"--epochs {epochs}: use a whole number of epochs from 1 to 100000.");
            config = config.WithEpochs(count);
        }
        if (resumeState is not null && resumeState.Epoch >= config.Epochs)
        {
            string done = Plural(resumeState.Epoch, "epoch");
            throw new UserException(epochs is null
                ? $"--resume {resumeDirectory}: the run already completed all {done}; pass --epochs " +
                  $"{resumeState.Epoch + 1} or more to train longer."
                : $"--epochs {epochs}: the run in {resumeDirectory} already completed {done}; pass --epochs " +
                  $"{resumeState.Epoch + 1} or more to train longer.");
        }
        if (resumeState is not null && config.Epochs != resumeState.Config.Epochs &&
            config.Schedule.Kind == ScheduleKind.Cosine)
        {
            // The cosine is drawn over the run's epoch count, so the remaining epochs follow the new length.
            Console.WriteLine($"--epochs {config.Epochs}: the run was set up for {resumeState.Config.Epochs}; its " +
                              $"cosine schedule now ends at epoch {config.Epochs}, and config.json records the new " +
                              "count.");
        }
        var backend = Common.CreateBackend(device);
        var data = DataSource.Load(config, dataDirectory);
        var (train, test) = (data.Train, data.Test);
        if (configPath is not null)
            WarnAboutReplacedModelKeys(configPath, train);
        Trainer trainer;
        try
        {
            trainer = new Trainer(config, backend, train, test);
        }
        catch (ConfigException e) when (e.Message.StartsWith("$.", StringComparison.Ordinal))
        {
            // The trainer checks the config against the data, so its messages name only the JSON path.
            string source = configPath ?? Path.Combine(resumeDirectory!, RunCheckpoint.StateFileName);
            throw new ConfigException($"{source}: {e.Message}");
        }
        // After the trainer's checks of the config against the data, so a rejected config leaves no empty folder.
        string runDirectory = Common.PrepareOutputDirectory(resumeDirectory ?? outputDirectory ??
            Path.Combine("runs", Path.GetFileNameWithoutExtension(configPath!)));
        if (resumeDirectory is null)
            Common.RequireFreshRunFolder(runDirectory);
        else
            Common.RequireWritableRunFiles(runDirectory);
        if (resumeState is not null)
        {
            // The data check in Resume names the state's data.path, which --data replaces for this run.
            trainer.Resume(dataDirectory is null
                ? resumeState
                : resumeState with
                {
                    Config = resumeState.Config with
                    {
                        Data = resumeState.Config.Data with { Path = Path.GetFullPath(dataDirectory) },
                    },
                });
        }
        AtomicFile.WriteText(Path.Combine(runDirectory, TrainConfig.FileName), trainer.Config.ToJson() + "\n");
        PrintHeader(trainer.Config, backend.Name, data.Description, train.Count, test.Count, trainer, runDirectory);
        trainer.EpochCompleted += metrics =>
        {
            PrintEpoch(metrics);
            MetricsFiles.Write(runDirectory, trainer.History);
            RunCheckpoint.Save(runDirectory, trainer, data.ClassNames);
        };
        using var cancellation = new CancellationTokenSource();
        using var interrupt = Common.CancelOnInterrupt(cancellation);
        try
        {
            RunWithProgress(trainer, cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(trainer.History.Count > 0
                ? $"Interrupted; {runDirectory} holds the run up to its last complete epoch. Continue it with:" +
                  $"{Environment.NewLine}  fashioncuda train --resume {Common.ShellQuote(runDirectory)}"
                : "Interrupted before the first epoch finished, so there is nothing to resume.");
            return 130;
        }
        var last = trainer.History[^1];
        string skipped = data.Skipped switch
        {
            0 => "",
            1 => " 1 unreadable image file was skipped.",
            _ => $" {data.Skipped} unreadable image files were skipped.",
        };
        Console.WriteLine(
            $"Finished: test accuracy {last.TestAccuracy:F4}.{skipped} Results in {runDirectory} " +
            $"({string.Join(", ", Common.RunFiles.Reverse())}).");
        return ExitCodes.Success;
    }

    private static string Plural(int count, string noun) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? "" : "s");

    /// <summary>
    /// Warns about each of model.input_channels, model.input_size and model.classes that the config file sets
    /// to a value the data replaces, because the model is always built for the data's shape and class count.
    /// </summary>
    private static void WarnAboutReplacedModelKeys(string configPath, ImageDataset train) =>
        WarnAboutReplacedModelKeys(configPath, train.Channels, train.Height, train.ClassCount);

    /// <summary>
    /// Prints a warning for each of model.input_channels, input_size and classes that the config sets to a value
    /// other than the data's, because the data's value replaces it.
    /// </summary>
    internal static void WarnAboutReplacedModelKeys(string configPath, int channels, int size, int classes)
    {
        JsonElement model;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(configPath),
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!document.RootElement.TryGetProperty("model", out var element) || element.ValueKind != JsonValueKind.Object)
                return;
            model = element.Clone();
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            // TrainConfig.Load parsed this file moments ago; a file changed since then gets no warning.
            return;
        }
        foreach (var (key, actual, what) in new[]
                 {
                     ("input_channels", channels, channels == 1 ? "1 channel" : $"{channels} channels"),
                     ("input_size", size, $"{size}×{size} images"),
                     ("classes", classes, classes == 1 ? "1 class" : $"{classes} classes"),
                 })
        {
            if (model.TryGetProperty(key, out var value) && value.TryGetInt32(out int requested) &&
                requested != actual)
                Console.Error.WriteLine(
                    $"warning: {configPath}: model.{key} is {requested} but the data has {what}, so the model is " +
                    $"built for {actual}; remove model.{key} from the config.");
        }
    }

    private static void RunWithProgress(Trainer trainer, CancellationToken cancellation)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            trainer.Run(cancellation);
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("epoch 1");
                trainer.StepCompleted += step =>
                {
                    task.MaxValue = step.StepsPerEpoch;
                    task.Value = step.Step;
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"epoch {step.Epoch + 1}  loss {step.Loss:F4}  {step.ImagesPerSecond,7:F0} img/s");
                };
                trainer.EpochCompleted += _ => task.Value = 0;
                trainer.Run(cancellation);
            });
    }

    private static void PrintHeader(TrainConfig config, string device, string source, int trainCount,
        int testCount, Trainer trainer, string runDirectory)
    {
        var o = config.Optimizer;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model      {config.Model.Describe()}, {trainer.Model.ParameterCount():N0} parameters"));
        Console.WriteLine($"data       {source}: {trainCount} train, {testCount} test images");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training   {config.Epochs} epoch{(config.Epochs == 1 ? "" : "s")}, batch {config.BatchSize}, {o.Name} lr {o.LearningRate}, " +
            $"schedule {config.Schedule.Kind.ToString().ToLowerInvariant()}, seed {config.Seed}, device {device}"));
        Console.WriteLine($"run folder {runDirectory}");
        if (trainer.Validation is { } validation)
            Console.WriteLine($"validation {validation.Count} images held out of the training set by seed {config.Seed}");
        if (trainer.StartEpoch > 0)
            Console.WriteLine($"resuming   after epoch {trainer.StartEpoch} of {config.Epochs}");
        Console.WriteLine("epoch  train_loss  train_acc  test_loss  test_acc         lr   img/s  seconds" +
                          (trainer.Validation is null ? "" : "  val_loss  val_acc"));
    }

    // AnsiConsole, not Console: during a live progress bar Spectre.Console prints these lines above the bar.
    private static void PrintEpoch(EpochMetrics m) =>
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{m.Epoch,5}  {m.TrainLoss,10:F4}  {m.TrainAccuracy,9:F4}  {m.TestLoss,9:F4}  {m.TestAccuracy,8:F4}  " +
            $"{m.LearningRate,9:0.000000}  {m.ImagesPerSecond,6:F0}  {m.Seconds,7:F1}") +
            (m.ValidationLoss is { } loss && m.ValidationAccuracy is { } accuracy
                ? string.Create(CultureInfo.InvariantCulture, $"  {loss,8:F4}  {accuracy,7:F4}")
                : ""));
}
