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
        var fullStudy = StudyDefinition.Load(file);
        var study = armList is null ? fullStudy : SelectArms(fullStudy, armList);
        var backend = Common.CreateBackend(device);
        var data = new RunDataLoader(dataDirectory);
        string directory = Common.PrepareOutputDirectory(
            output ?? Path.Combine("runs", "studies", study.Name + (quick ? "-quick" : "")));
        var runner = new StudyRunner(study, quick, directory, backend, config => data.Load(config).Data);
        var seeds = quick ? study.QuickSeeds : study.Seeds;
        Console.WriteLine($"study      {study.Name}{(quick ? " (--quick)" : "")}: " +
                          $"{Common.Plural(study.Arms.Count, "arm")} × {Common.Plural(seeds.Count, "seed")} = " +
                          $"{Common.Plural(runner.Runs.Count, "run")}");
        var sources = DescribeData(runner.Runs, data);
        Console.WriteLine($"device     {backend.Name}");
        Console.WriteLine($"study folder {directory}");
        FollowProgress(runner);

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        var results = runner.Run(cancellation.Token).ToList();
        var earlier = armList is null ? [] : FinishedRunsOfOtherArms(fullStudy, study, quick, directory);
        results.AddRange(earlier);

        var arms = StudyReport.Summarize(fullStudy, results);
        var best = StudyReport.Best(arms);
        var classNames = best.Runs[0].ClassNames ?? FashionMnist.ClassNames;
        var plots = StudyPlots.WriteAll(directory, arms, classNames);
        var context = new ReportContext
        {
            Command = CommandLine(file, quick, dataDirectory, device, output, armList),
            DataSource = string.Join("; ", sources),
            Hardware = Hardware(),
            Quick = quick,
            Plots = plots,
        };
        StudyReport.Write(directory, fullStudy, arms, context);
        Console.WriteLine($"Best arm: {best.Arm.Name}, test accuracy {StudyReport.FormatMeanStd(best)}.");
        if (earlier.Count > 0)
        {
            var names = earlier.Select(r => r.Arm).Distinct();
            Console.WriteLine($"The report also covers the finished runs of {string.Join(", ", names)} found in " +
                              $"{directory}.");
        }
        Console.WriteLine($"Report in {Path.Combine(directory, StudyReport.FileName)}, plots " +
                          $"{string.Join(", ", plots.Select(p => p.File))} beside it.");
        return ExitCodes.Success;
    }

    private static StudyDefinition SelectArms(StudyDefinition study, string armList)
    {
        var names = armList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        try
        {
            return study.SelectArms(names);
        }
        catch (ArgumentException e)
        {
            string shown = string.IsNullOrWhiteSpace(armList) ? "\"\"" : armList;
            throw new UserException($"--arms {shown}: {e.Message}");
        }
    }

    /// <summary>
    /// Prints one line per distinct data section of the runs and returns their descriptions for the report,
    /// with the image counts before each run's limits.
    /// </summary>
    private static List<string> DescribeData(IReadOnlyList<StudyRun> runs, RunDataLoader data)
    {
        var sources = new List<string>();
        var groups = runs.GroupBy(run => run.Config.Data).ToList();
        foreach (var group in groups)
        {
            var loaded = data.Load(group.First().Config);
            var (train, test) = (loaded.Data.Train, loaded.Data.Test);
            string arms = groups.Count == 1
                ? ""
                : $" (arms {string.Join(", ", group.Select(run => run.Arm.Name).Distinct())})";
            Console.WriteLine($"data       {loaded.Description}{arms}: {train.Count} train, {test.Count} test images");
            sources.Add(string.Create(CultureInfo.InvariantCulture,
                $"{loaded.Description}{arms} ({train.Count:N0} training and {test.Count:N0} test images before limits)"));
        }
        return sources;
    }

    /// <summary>
    /// Reads the finished runs of the arms that <c>--arms</c> left out, so report.md keeps covering every arm
    /// with results in the study folder.
    /// </summary>
    private static List<RunResult> FinishedRunsOfOtherArms(StudyDefinition fullStudy, StudyDefinition selected,
        bool quick, string directory)
    {
        var results = new List<RunResult>();
        foreach (var run in fullStudy.Plan(quick))
        {
            if (selected.Arms.Any(arm => arm.Name == run.Arm.Name))
                continue;
            if (RunResult.TryReadFinished(Path.Combine(directory, run.RelativeDirectory), run.Config) is { } result)
                results.Add(result);
        }
        return results;
    }

    /// <summary>
    /// Loads run data through <see cref="DataSource"/>, as <c>train</c> does, without the run's limits. It keeps
    /// the latest set, so consecutive runs with the same data section (and, for a photo folder, the same split
    /// seed) load it once, and only one dataset is in memory at a time.
    /// </summary>
    private sealed class RunDataLoader(string? dataOverride)
    {
        private readonly HashSet<DataConfig> warned = [];
        private (DataConfig Data, ulong SplitSeed)? key;
        private (StudyData Data, string Description)? latest;

        public (StudyData Data, string Description) Load(TrainConfig config)
        {
            var wanted = (config.Data, config.Data.IsFolder ? config.Seed : 0UL);
            if (latest is { } cached && key == wanted)
                return cached;
            var loaded = warned.Add(config.Data)
                ? LoadWithoutLimits(config)
                : WithoutWarnings(() => LoadWithoutLimits(config));
            key = wanted;
            latest = (new StudyData(loaded.Train, loaded.Test, loaded.ClassNames), loaded.Description);
            return latest.Value;
        }

        private DataSource.Loaded LoadWithoutLimits(TrainConfig config) =>
            DataSource.Load(config with { TrainLimit = 0, TestLimit = 0 }, dataOverride);

        /// <summary>
        /// Runs a reload of a data section with stderr muted: the files it skips are the same whatever the split
        /// seed, and the first load printed a warning for each.
        /// </summary>
        private static DataSource.Loaded WithoutWarnings(Func<DataSource.Loaded> load)
        {
            var error = Console.Error;
            Console.SetError(TextWriter.Null);
            try
            {
                return load();
            }
            finally
            {
                Console.SetError(error);
            }
        }
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
                $"{trainer.TrainCount} train{validation} images, {Common.Plural(run.Config.Epochs, "epoch")}, folder " +
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
