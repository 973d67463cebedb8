using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using FashionCuda.Backends;
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
            Description = "Comma-separated arm names to train (default: all); the report covers them and the finished " +
                          "runs of the other arms.",
        };
        var seeds = new Option<string?>("--seeds")
        {
            Description = "Comma-separated seeds of the full run to train (default: all), e.g. 1 for one seed of " +
                          "every arm first; the report covers every finished run.",
        };
        var reportOnly = new Option<bool>("--report-only")
        {
            Description = "Train nothing: write report.md and plots from the finished runs in the study folder.",
        };
        var command = new Command("study", "Run a study (arms × seeds) and write report.md with plots.")
        {
            file, quick, data, device, output, arms, seeds, reportOnly,
        };
        command.SetAction(parsed => Common.Run(() => Execute(new StudyOptions(parsed.GetValue(file)!,
            parsed.GetValue(quick), parsed.GetValue(data), parsed.GetValue(device)!, parsed.GetValue(output),
            parsed.GetValue(arms), parsed.GetValue(seeds), parsed.GetValue(reportOnly)))));
        return command;
    }

    private sealed record StudyOptions(string File, bool Quick, string? Data, string Device, string? Output,
        string? Arms, string? Seeds, bool ReportOnly);

    /// <summary>Text the report shows for the data and machine of runs whose results.json does not record them.</summary>
    private const string NotRecorded = "not recorded in results.json";

    private static int Execute(StudyOptions options)
    {
        var fullStudy = StudyDefinition.Load(options.File);
        if (options.Quick && !fullStudy.HasQuickOverrides)
        {
            throw new UserException(
                $"{options.File}: $.quick.overrides: missing or empty, so --quick would train every arm in full; add " +
                "a quick section such as \"quick\": { \"overrides\": { \"epochs\": 1, \"train_limit\": 256 } }, or run " +
                "without --quick.");
        }
        var chosen = options.Arms is null ? fullStudy : SelectArms(fullStudy, options.Arms);
        if (options.Seeds is not null)
            chosen = SelectSeeds(chosen, options.Seeds, options.Quick);
        var backend = options.ReportOnly ? null : Common.CreateBackend(options.Device);
        // A report-only run creates no backend, so it counts as on the GPU only with --device cuda.
        bool onGpu = backend?.Name.StartsWith("cuda", StringComparison.Ordinal) ?? options.Device == "cuda";
        string folder = options.Output ?? Path.Combine("runs", "studies", chosen.Name + (options.Quick ? "-quick" : ""));
        var study = backend is null || onGpu ? chosen : LeaveOutGpuArms(chosen, options, folder, backend);
        if (options.ReportOnly && !Directory.Exists(folder) && !File.Exists(folder))
        {
            throw new UserException(
                $"Study folder {folder} not found: --report-only reads the runs a study wrote there. Pass --out with " +
                "the folder of an earlier run of this study, or run the study without --report-only first.");
        }
        string directory = Common.PrepareOutputDirectory(folder);
        AtomicFile.RequireWritable(directory, [StudyReport.FileName, .. StudyPlots.Files, StudyAttention.FileName]);
        WarnAboutOtherArms(fullStudy, directory);
        bool interrupted = backend is not null && Train(study, chosen, options, directory, backend);

        var finished = new List<RunResult>();
        var missing = new List<StudyRun>();
        var setAside = new List<string>();
        var stopped = new List<string>();
        int changed = 0;
        foreach (var run in fullStudy.Plan(options.Quick))
        {
            string runDirectory = Path.Combine(directory, run.RelativeDirectory);
            var status = RunResult.Inspect(runDirectory, run);
            if (status.State == RunState.Finished)
            {
                finished.Add(status.Result!);
                continue;
            }
            missing.Add(run);
            if (status.State == RunState.Unfinished && RunCheckpoint.SavedEpoch(runDirectory) is { } epoch)
                stopped.Add($"{run.Arm.Name} seed {run.Seed} after epoch {epoch} of {run.Config.Epochs}");
            if (status.Problem is { } problem)
            {
                // A damaged run's problem starts with its file; a changed run's names only the difference.
                if (status.State == RunState.Changed)
                {
                    changed++;
                    problem = $"{Path.Combine(directory, run.RelativeDirectory)} was {problem}";
                }
                Console.Error.WriteLine($"warning: {problem}; the report leaves out arm {run.Arm.Name}, seed " +
                                        $"{run.Seed}.");
                setAside.Add($"{run.Arm.Name} seed {run.Seed} ({problem})");
            }
        }
        if (finished.Count == 0)
        {
            if (interrupted)
            {
                Console.Error.WriteLine("Interrupted before any run finished; rerun the same command to continue.");
                return Interrupted;
            }
            if (setAside.Count > 0)
            {
                string advice = changed == 0
                    ? "Run the study without --report-only to train the damaged runs again."
                    : OtherConfigAdvice(fullStudy, options, directory);
                throw new UserException(
                    $"No finished run of study {fullStudy.Name} in {directory}: {Common.Plural(setAside.Count, "run")} " +
                    "there are damaged or of another config (see the warnings above), so report.md was not written " +
                    $"again. {advice}");
            }
            throw new UserException(
                $"No finished run of study {fullStudy.Name} in {directory}: --report-only needs runs to report on. " +
                "Run the study without --report-only first, or pass the folder it wrote with --out.");
        }

        // The advice and the attention plot use the images the runs trained on, also without --data, when their
        // path still leads to something from this folder.
        if (options.ReportOnly && options.Data is null && RecordedData(finished) is { } recorded &&
            (Directory.Exists(recorded) || File.Exists(recorded)))
            options = options with { Data = recorded };
        var summaries = StudyReport.Summarize(fullStudy, finished);
        var best = StudyReport.Best(summaries);
        var classNames = best.Runs[0].ClassNames ?? FashionMnist.ClassNames;
        var plots = StudyPlots.WriteAll(directory, fullStudy, summaries, classNames);
        if (WriteAttention(directory, fullStudy.Plan(options.Quick), summaries, options.Data) is { } attention)
            plots = [.. plots, attention];
        var context = new ReportContext
        {
            Command = CommandLine(options),
            DataSource = NotRecorded,
            Hardware = NotRecorded,
            Quick = options.Quick,
            Plots = plots,
            MissingRuns = missing,
            SetAsideRuns = setAside,
            StoppedRuns = stopped,
            ContinueAdvice = ContinueAdvice(fullStudy, chosen, options, onGpu, missing, writtenOut: true),
        };
        StudyReport.Write(directory, fullStudy, summaries, context);
        Console.WriteLine($"Best arm: {best.Arm.Name}, test accuracy {StudyReport.FormatMeanStd(best)}.");
        var others = finished.Select(r => r.Arm).Distinct().Where(arm => study.Arms.All(a => a.Name != arm)).ToList();
        if (options.Arms is not null && others.Count > 0)
        {
            Console.WriteLine($"The report also covers the finished runs of {string.Join(", ", others)} found in " +
                              $"{directory}.");
        }
        if (missing.Count > 0)
        {
            Console.WriteLine($"Finished runs: {finished.Count} of {finished.Count + missing.Count}. The report " +
                              $"covers those. " +
                              ContinueAdvice(fullStudy, chosen, options, onGpu, missing,
                                  writtenOut: options.ReportOnly));
        }
        Console.WriteLine($"Report in {Path.Combine(directory, StudyReport.FileName)}, plots " +
                          $"{string.Join(", ", plots.Select(p => p.File))} beside it.");
        if (interrupted)
        {
            Console.Error.WriteLine("Interrupted; rerun the same command to continue the study.");
            return Interrupted;
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// Returns the --data value that the recorded command of every finished run passed, or null when the commands
    /// differ in it or one passed none.
    /// </summary>
    private static string? RecordedData(IReadOnlyList<RunResult> finished)
    {
        var values = finished.Select(result => DataArgument(result.Command)).Distinct().ToList();
        return values.Count == 1 ? values[0] : null;
    }

    /// <summary>Returns the value after --data in a recorded command line, or null.</summary>
    private static string? DataArgument(string? commandLine)
    {
        if (commandLine is null)
            return null;
        var arguments = Common.ShellSplit(commandLine);
        int at = arguments.IndexOf("--data");
        return at >= 0 && at + 1 < arguments.Count ? arguments[at + 1] : null;
    }

    /// <summary>
    /// Writes <see cref="StudyAttention.FileName"/> for the best arm with CBAM spatial attention, when one of its
    /// runs kept a checkpoint. A missing data set, a damaged checkpoint or one that does not fit the data costs only
    /// this plot, with a warning.
    /// </summary>
    private static (string File, string Caption)? WriteAttention(string directory, IReadOnlyList<StudyRun> plan,
        IReadOnlyList<ArmSummary> arms, string? dataOverride)
    {
        if (StudyAttention.PickRun(directory, plan, arms) is not { } pick)
            return null;
        try
        {
            var test = new RunDataLoader(dataOverride).Load(pick.Run.Config).Test;
            return StudyAttention.Write(directory, pick, test, Common.CreateBackend("cpu"));
        }
        catch (Exception e) when (e is UserException or CheckpointException or DataFileException or ArgumentException
                                       or InvalidOperationException)
        {
            Console.Error.WriteLine($"warning: {StudyAttention.FileName} not drawn: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// Returns the study without its unfinished <c>needs_gpu</c> arms, for a full run without --arms on the CPU, so
    /// that it does not start hours of ResNet-18 epochs there. Arms whose runs are all finished stay, so the run
    /// lists them as finished.
    /// </summary>
    private static StudyDefinition LeaveOutGpuArms(StudyDefinition study, StudyOptions options, string folder,
        IBackend backend)
    {
        if (options.Arms is not null || options.Quick)
            return study;
        var unfinished = study.Plan(quick: false)
            .Where(run => run.Arm.NeedsGpu && RunResult.Inspect(Path.Combine(folder, run.RelativeDirectory), run)
                .State != RunState.Finished)
            .Select(run => run.Arm.Name)
            .ToHashSet();
        if (unfinished.Count == 0)
            return study;
        var cpuArms = study.Arms.Where(arm => !unfinished.Contains(arm.Name)).Select(arm => arm.Name).ToList();
        if (cpuArms.Count == 0)
        {
            throw new UserException(
                $"{options.File}: every arm of study {study.Name} has \"needs_gpu\": true, and this run is on " +
                $"{backend.Name}; pass --device cuda on a machine with a GPU, or name the arms in --arms to train " +
                "them on the CPU anyway.");
        }
        return study.SelectArms(cpuArms);
    }

    /// <summary>
    /// Returns the sentences that name the commands to train the missing runs. Off the GPU, the missing runs of
    /// <c>needs_gpu</c> arms that --arms does not name get a command of their own, with --device cuda, so no advice
    /// sends them to the CPU. <paramref name="chosen"/> is the selection of --arms and --seeds.
    /// </summary>
    private static string ContinueAdvice(StudyDefinition full, StudyDefinition chosen, StudyOptions options,
        bool onGpu, List<StudyRun> missing, bool writtenOut = false)
    {
        var gpuRuns = onGpu || options.Quick
            ? []
            : missing.Where(run => run.Arm.NeedsGpu &&
                                   (options.Arms is null || chosen.Arms.All(arm => arm.Name != run.Arm.Name)))
                .ToList();
        if (gpuRuns.Count == 0)
            return ContinueAdvice(full, chosen, options, missing, writtenOut);
        var gpuArms = gpuRuns.Select(run => run.Arm.Name).Distinct().ToList();
        // --seeds stays when it covers every seed these arms miss; --arms names them when the user's list does not.
        string? seeds = options.Seeds is null || gpuRuns.All(run => chosen.Seeds.Contains(run.Seed))
            ? options.Seeds
            : MissingOnly(full.Seeds, seed => gpuRuns.Any(run => run.Seed == seed));
        string? arms = options.Arms is null ? null : string.Join(',', gpuArms);
        string command = CommandLine(options with { ReportOnly = false, Device = "cuda", Arms = arms, Seeds = seeds });
        string them = gpuArms.Count == 1 ? "it" : "them";
        string gpuAdvice = $"{string.Join(", ", gpuArms)} {(gpuArms.Count == 1 ? "needs" : "need")} a GPU " +
                           $"(needs_gpu in the study file): run `{command}` to train {them}";
        var cpuRuns = missing.Except(gpuRuns).ToList();
        return cpuRuns.Count == 0
            ? $"{gpuAdvice}; it skips the finished runs."
            : $"{ContinueAdvice(full, chosen, options, cpuRuns, writtenOut)} {gpuAdvice}.";
    }

    /// <summary>
    /// Returns the sentence that names the command to train the missing runs: the same one, unless --arms or
    /// --seeds leaves some of them out. In that case it names every arm and seed with a missing run, in the
    /// study's order. With <paramref name="writtenOut"/> the commands are written out, for report.md, whose reader
    /// does not see the command that wrote it, and for --report-only, whose command is not the one to rerun.
    /// </summary>
    private static string ContinueAdvice(StudyDefinition full, StudyDefinition selected, StudyOptions options,
        List<StudyRun> missing, bool writtenOut)
    {
        bool armsLeftOut = missing.Any(run => selected.Arms.All(arm => arm.Name != run.Arm.Name));
        bool seedsLeftOut = !options.Quick && missing.Any(run => !selected.Seeds.Contains(run.Seed));
        string selectionCommand = CommandLine(options with { ReportOnly = false });
        if (!armsLeftOut && !seedsLeftOut)
        {
            return writtenOut
                ? $"To train the rest, run `{selectionCommand}`; it skips the finished runs."
                : "Rerun the same command to train the rest; it skips the finished runs.";
        }

        var flags = new List<string>();
        string? restArms = options.Arms;
        string? restSeeds = options.Seeds;
        if (armsLeftOut)
        {
            flags.Add("--arms");
            restArms = MissingOnly(full.Arms.Select(arm => arm.Name), name => missing.Any(run => run.Arm.Name == name));
        }
        if (seedsLeftOut)
        {
            flags.Add("--seeds");
            restSeeds = MissingOnly(full.Seeds, seed => missing.Any(run => run.Seed == seed));
        }
        var values = new List<string>();
        if (armsLeftOut && restArms is not null)
            values.Add($"--arms {restArms}");
        if (seedsLeftOut && restSeeds is not null)
            values.Add($"--seeds {restSeeds}");

        // Unfinished runs of the selection are named first, because the other arms may be left out on purpose
        // (for example arms that need a GPU).
        bool selectionUnfinished = missing.Any(run => selected.Arms.Any(arm => arm.Name == run.Arm.Name) &&
                                                (options.Quick || selected.Seeds.Contains(run.Seed)));
        if (writtenOut)
        {
            string restCommand = CommandLine(options with { ReportOnly = false, Arms = restArms, Seeds = restSeeds });
            return selectionUnfinished
                ? $"To train the unfinished runs of the selection, run `{selectionCommand}`; to train the rest as " +
                  $"well, run `{restCommand}`. Either skips the finished runs."
                : $"To train the rest, run `{restCommand}`; it skips the finished runs.";
        }

        string without = flags.Count == 1 ? flags[0]
            : string.Join(", ", flags.Take(flags.Count - 1)) + " and " + flags[^1];
        // The "or with" form goes when no value list remains.
        string wholeStudy = values.Count == 0
            ? $"the study without {without}"
            : $"the study without {without} (or with {string.Join(' ', values)})";
        if (!selectionUnfinished)
            return $"Run {wholeStudy} to train the rest; it skips the finished runs.";
        return $"Rerun the same command to train the unfinished runs of its selection, or run {wholeStudy} to " +
               "train the rest as well; it skips the finished runs.";
    }

    /// <summary>
    /// Returns the comma-separated values that have a missing run, or null when every value has one, because a
    /// list of all of them adds nothing to the command.
    /// </summary>
    private static string? MissingOnly<T>(IEnumerable<T> all, Func<T, bool> hasMissingRun)
    {
        var list = all.ToList();
        var withMissing = list.Where(hasMissingRun).ToList();
        return withMissing.Count < list.Count ? string.Join(',', withMissing) : null;
    }

    /// <summary>Exit code after Ctrl+C, as a shell reports a process ended by SIGINT.</summary>
    private const int Interrupted = 130;

    /// <summary>Trains the study's unfinished runs; returns true when Ctrl+C stopped it before the end.</summary>
    private static bool Train(StudyDefinition study, StudyDefinition chosen, StudyOptions options, string directory,
        IBackend backend)
    {
        var data = new RunDataLoader(options.Data);
        var runner = new StudyRunner(study, options.Quick, directory, backend, config => data.Load(config))
        {
            Command = CommandLine(options),
        };
        var seeds = options.Quick ? study.QuickSeeds : study.Seeds;
        Console.WriteLine($"study      {study.Name}{(options.Quick ? " (--quick)" : "")}: " +
                          $"{Common.Plural(study.Arms.Count, "arm")} × {Common.Plural(seeds.Count, "seed")} = " +
                          $"{Common.Plural(runner.Runs.Count, "run")}");
        DescribeData(runner.Runs, data);
        Console.WriteLine($"device     {backend.Name}");
        var gpuArms = chosen.Arms.Where(arm => study.Arms.All(trained => trained.Name != arm.Name)).ToList();
        if (gpuArms.Count > 0)
        {
            string them = gpuArms.Count == 1 ? "it" : "them";
            Console.WriteLine($"left out   {string.Join(", ", gpuArms.Select(arm => arm.Name))} (needs_gpu in the " +
                              $"study file): train {them} with --device cuda, or name {them} in --arms to train " +
                              $"{them} here anyway");
        }
        Console.WriteLine($"study folder {directory}");
        FollowProgress(runner);

        using var cancellation = new CancellationTokenSource();
        using var interrupt = Common.CancelOnInterrupt(cancellation);
        try
        {
            runner.Run(cancellation.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
        catch (StudyFolderException e) when (QuickHint(study, options, directory) is { } hint)
        {
            throw new StudyFolderException($"{e.Message} {hint}");
        }
    }

    /// <summary>
    /// Returns what to do about runs made with another config: add or drop --quick when the runs in the folder
    /// match the study that way, else use another folder.
    /// </summary>
    private static string OtherConfigAdvice(StudyDefinition study, StudyOptions options, string directory) =>
        QuickHint(study, options, directory) ??
        "Pass --out with the folder of this version of the study, or delete the runs made with another config " +
        "and train them again.";

    /// <summary>
    /// Returns advice to add or drop --quick, or null. The advice is returned when some run of the study, planned
    /// the other way, is finished in the folder.
    /// </summary>
    private static string? QuickHint(StudyDefinition study, StudyOptions options, string directory)
    {
        bool otherWay = !options.Quick;
        if (otherWay && !study.HasQuickOverrides)
            return null;
        bool matches = study.Plan(otherWay).Any(run =>
            RunResult.Inspect(Path.Combine(directory, run.RelativeDirectory), run).State == RunState.Finished);
        if (!matches)
            return null;
        return otherWay
            ? $"The runs in {directory} were made with --quick; add --quick to use them."
            : $"The runs in {directory} were made without --quick; leave out --quick to use them.";
    }

    /// <summary>
    /// Warns about run folders of arms the study does not have, such as those of another study written to the
    /// same folder, because the report leaves them out.
    /// </summary>
    private static void WarnAboutOtherArms(StudyDefinition study, string directory)
    {
        var others = Directory.EnumerateDirectories(directory)
            .Where(folder => study.Arms.All(arm => arm.Name != Path.GetFileName(folder)))
            .Where(folder => Directory.EnumerateFiles(folder, RunResult.FileName, SearchOption.AllDirectories).Any())
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (others.Count == 0)
            return;
        string arms = others.Count == 1 ? $"arm {others[0]}" : $"arms {string.Join(", ", others)}";
        Console.Error.WriteLine(
            $"warning: {directory} also holds runs of {arms}, which study {study.Name} does not have; the report " +
            "leaves them out. Pass --out with another folder to keep each study's runs apart.");
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

    private static StudyDefinition SelectSeeds(StudyDefinition study, string seedList, bool quick)
    {
        string shown = string.IsNullOrWhiteSpace(seedList) ? "\"\"" : seedList;
        if (quick)
            throw new UserException($"--seeds {shown} with --quick: a quick run trains the seeds of the study's quick " +
                                    "section; drop --seeds or --quick.");
        var seeds = new List<int>();
        foreach (string part in seedList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int seed))
                throw new UserException($"--seeds {shown}: '{part}' is not a seed; seeds are whole numbers from 0 " +
                                        $"to {int.MaxValue}, separated by commas, e.g. --seeds {study.Seeds[0]}.");
            seeds.Add(seed);
        }
        try
        {
            return study.SelectSeeds(seeds);
        }
        catch (ArgumentException e)
        {
            throw new UserException($"--seeds {shown}: {e.Message}");
        }
    }

    /// <summary>Prints one line per distinct data section of the runs, with the image counts before limits.</summary>
    private static void DescribeData(IReadOnlyList<StudyRun> runs, RunDataLoader data)
    {
        var groups = runs.GroupBy(run => run.Config.Data).ToList();
        foreach (var group in groups)
        {
            var loaded = data.Load(group.First().Config);
            var names = group.Select(run => run.Arm.Name).Distinct().ToList();
            string arms = groups.Count == 1
                ? ""
                : $" ({(names.Count == 1 ? "arm" : "arms")} {string.Join(", ", names)})";
            Console.WriteLine($"data       {loaded.Description}{arms}");
        }
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
        private StudyData? latest;

        /// <summary>Returns the run's images; their description gives the counts before the run's limits.</summary>
        public StudyData Load(TrainConfig config)
        {
            var wanted = (config.Data, config.Data.IsFolder ? config.Seed : 0UL);
            if (latest is { } cached && key == wanted)
                return cached;
            var loaded = warned.Add(config.Data)
                ? LoadWithoutLimits(config)
                : WithoutWarnings(() => LoadWithoutLimits(config));
            key = wanted;
            string description = string.Create(CultureInfo.InvariantCulture,
                $"{loaded.Description}: {loaded.Train.Count:N0} training and {loaded.Test.Count:N0} test images before limits");
            latest = new StudyData(loaded.Train, loaded.Test, loaded.ClassNames, description);
            return latest;
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
        runner.RunDamaged += (run, problem) =>
            Console.Error.WriteLine($"warning: {problem}; training {run.Arm.Name} seed {run.Seed} again.");
        runner.ResumeRejected += (run, problem) =>
            Console.Error.WriteLine($"warning: {run.Arm.Name} seed {run.Seed} cannot continue where it stopped: " +
                                    problem);
        runner.RunStarted += (run, trainer) =>
        {
            index++;
            string validation = trainer.Validation is { } v ? $", {v.Count} validation" : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{index}/{total}] {run.Arm.Name} seed {run.Seed}: {trainer.Model.ParameterCount():N0} parameters, " +
                $"{trainer.TrainCount} train{validation} images, {Common.Plural(run.Config.Epochs, "epoch")}, folder " +
                $"{runner.RunDirectory(run)}"));
            if (trainer.StartEpoch > 0)
                Console.WriteLine($"  continues after epoch {trainer.StartEpoch}, from the training state it saved");
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

    /// <summary>
    /// Returns the command that trains the study, for results.json and the report. --report-only is left out, and so
    /// is --arms with it, because a report covers every arm.
    /// </summary>
    private static string CommandLine(StudyOptions options)
    {
        var parts = new List<string> { "fashioncuda", "study", options.File };
        if (options.Quick)
            parts.Add("--quick");
        if (options.Data is not null)
            parts.AddRange(["--data", options.Data]);
        if (options.Device != "cpu")
            parts.AddRange(["--device", options.Device]);
        if (options.Output is not null)
            parts.AddRange(["--out", options.Output]);
        if (options.Arms is not null && !options.ReportOnly)
            parts.AddRange(["--arms", options.Arms]);
        if (options.Seeds is not null && !options.ReportOnly)
            parts.AddRange(["--seeds", options.Seeds]);
        return string.Join(' ', parts.Select(Common.ShellQuote));
    }
}
