using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using FashionCuda.Cli.Plots;
using FashionCuda.Data;
using FashionCuda.Studies;
using FashionCuda.Training;

namespace FashionCuda.Cli.Commands;

/// <summary>
/// <c>fashioncuda study</c>: runs every arm × seed of a study file, skipping finished runs, then writes
/// report.md and its plots.
/// </summary>
public static class StudyCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Study file, e.g. studies/pilot.json." };
        var quick = new Option<bool>("--quick")
        {
            Description = "Smoke test: apply the study's quick overrides (a few batches, one seed) to every arm.",
        };
        var data = Common.DataOption();
        var device = Common.DeviceOption();
        var output = new Option<string?>("--out")
        {
            Description = "Study folder for the run folders, report.md and plots; default runs/studies/<name>, " +
                          "or runs/studies/<name>-quick with --quick.",
        };
        var arms = new Option<string?>("--arms")
        {
            Description = "Comma-separated arm names to run (default: all); the report then covers these arms.",
        };
        var command = new Command("study", "Run a study (arms × seeds) and write report.md with plots.")
        {
            file, quick, data, device, output, arms,
        };
        command.SetAction(parsed => Common.Run(() => Execute(parsed.GetValue(file)!, parsed.GetValue(quick),
            parsed.GetValue(data), parsed.GetValue(device)!, parsed.GetValue(output), parsed.GetValue(arms))));
        return command;
    }

    private static int Execute(string file, bool quick, string? dataDirectory, string device, string? output,
        string? armList)
    {
        var study = StudyDefinition.Load(file);
        if (armList is not null)
        {
            var names = armList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            try
            {
                study = study.SelectArms(names);
            }
            catch (ArgumentException e)
            {
                throw new UserException($"--arms {armList}: {e.Message}");
            }
        }
        var backend = Common.CreateBackend(device);
        var (train, test, source) = Common.LoadData(dataDirectory);
        string directory = Common.PrepareOutputDirectory(
            output ?? Path.Combine("runs", "studies", study.Name + (quick ? "-quick" : "")));
        var runner = new StudyRunner(study, quick, directory, backend, train, test);
        Console.WriteLine($"study      {study.Name}{(quick ? " (--quick)" : "")}: {study.Arms.Count} arms × " +
                          $"{(quick ? study.QuickSeeds : study.Seeds).Count} seeds = {runner.Runs.Count} runs");
        Console.WriteLine($"data       {source}: {train.Count} train, {test.Count} test images; device {backend.Name}");
        Console.WriteLine($"study folder {directory}");
        FollowProgress(runner);

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        var results = runner.Run(cancellation.Token);

        var arms = StudyReport.Summarize(study, results);
        var plots = StudyPlots.WriteAll(directory, arms, FashionMnist.ClassNames);
        var context = new ReportContext
        {
            Command = CommandLine(file, quick, dataDirectory, device, output, armList),
            DataSource = $"{source} ({train.Count:N0} training and {test.Count:N0} test images before limits)",
            Hardware = Hardware(),
            Quick = quick,
            Plots = plots,
        };
        StudyReport.Write(directory, study, arms, context);
        var best = StudyReport.Best(arms);
        Console.WriteLine($"Best arm: {best.Arm.Name}, test accuracy {StudyReport.FormatMeanStd(best)}.");
        Console.WriteLine($"Report in {Path.Combine(directory, StudyReport.FileName)}, plots " +
                          $"{string.Join(", ", plots.Select(p => p.File))} beside it.");
        return ExitCodes.Success;
    }

    private static void FollowProgress(StudyRunner runner)
    {
        int total = runner.Runs.Count;
        int index = 0;
        runner.RunSkipped += (run, result) =>
        {
            index++;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{index}/{total}] {run.Arm.Name} seed {run.Seed}: finished before, skipped " +
                $"(test accuracy {result.TestAccuracy:F4})"));
        };
        runner.RunStarted += (run, trainer) =>
        {
            index++;
            string validation = trainer.Validation is { } v ? $", {v.Count} validation" : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{index}/{total}] {run.Arm.Name} seed {run.Seed}: {trainer.Model.ParameterCount():N0} parameters, " +
                $"{trainer.TrainCount} train{validation} images, {run.Config.Epochs} epochs, folder " +
                $"{runner.RunDirectory(run)}"));
            Console.WriteLine("  epoch  train_loss  train_acc  val_acc  test_acc  seconds");
        };
        runner.EpochCompleted += (_, m) =>
        {
            string validation = m.ValidationAccuracy is { } accuracy
                ? accuracy.ToString("F4", CultureInfo.InvariantCulture)
                : "     –";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {m.Epoch,5}  {m.TrainLoss,10:F4}  {m.TrainAccuracy,9:F4}  {validation,7}  {m.TestAccuracy,8:F4}  " +
                $"{m.Seconds,7:F1}"));
        };
        runner.RunFinished += (_, result) =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  selected epoch {result.SelectedEpoch}: test accuracy {result.TestAccuracy:F4}"));
    }

    private static string CommandLine(string file, bool quick, string? data, string device, string? output,
        string? arms)
    {
        var parts = new List<string> { "fashioncuda", "study", file };
        if (quick)
            parts.Add("--quick");
        if (data is not null)
            parts.AddRange(["--data", data]);
        if (device != "cpu")
            parts.AddRange(["--device", device]);
        if (output is not null)
            parts.AddRange(["--out", output]);
        if (arms is not null)
            parts.AddRange(["--arms", arms]);
        return string.Join(' ', parts);
    }

    /// <summary>Describes the machine: processor model (from /proc/cpuinfo on Linux), logical cores and OS.</summary>
    private static string Hardware()
    {
        string processor = RuntimeInformation.ProcessArchitecture.ToString();
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? model = File.ReadLines("/proc/cpuinfo")
                    .FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal));
                if (model is not null)
                    processor = model[(model.IndexOf(':') + 1)..].Trim();
            }
        }
        catch (IOException)
        {
            // Without a readable /proc/cpuinfo the report names the architecture only.
        }
        return $"{processor}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, " +
               $".NET {Environment.Version}";
    }
}
