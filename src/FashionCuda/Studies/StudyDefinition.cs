using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FashionCuda.Training;

namespace FashionCuda.Studies;

/// <summary>One arm of a study: a name and the JSON merged over the study's base config.</summary>
/// <param name="Index">Position of the arm in the study file's <c>arms</c> list, from 0, for JSON paths in messages.</param>
/// <param name="NeedsGpu">
/// The arm's <c>needs_gpu</c>: its full run is too slow for a CPU, so a full run of the study on the CPU leaves it
/// out unless <c>--arms</c> names it. <c>--quick</c> trains it anyway.
/// </param>
public sealed record StudyArm(string Name, string Description, JsonObject Overrides, int Index, bool NeedsGpu = false);

/// <summary>One training run of a study: an arm with one seed, its resolved config and its folder.</summary>
public sealed record StudyRun(StudyArm Arm, int Seed, TrainConfig Config)
{
    /// <summary>Folder of the run below the study's output folder, e.g. <c>flip/seed-2</c>.</summary>
    public string RelativeDirectory => Path.Combine(Arm.Name, $"seed-{Seed}");
}

/// <summary>
/// A study file (<c>studies/*.json</c>): a base training config, the seeds, the arms whose overrides are
/// deep-merged over the base, and a <c>quick</c> section that <c>--quick</c> merges over every arm to make a
/// smoke test. Object values merge key by key, null removes the key from the merged config, and any other value,
/// lists included, replaces the base value. A relative <c>data.path</c> is resolved against the study file's
/// folder, as <see cref="TrainConfig.Load"/> resolves it against a config file's folder.
/// </summary>
/// <example>
/// <code>
/// { "name": "pilot", "description": "...", "base": { "epochs": 15 }, "seeds": [1, 2],
///   "arms": [ { "name": "none" }, { "name": "flip", "overrides": { "augmentation": { "flip": true } } } ],
///   "quick": { "seeds": [1], "overrides": { "epochs": 1, "train_limit": 256 } } }
/// </code>
/// </example>
public sealed partial class StudyDefinition
{
    private StudyDefinition(string name, string description, JsonObject baseConfig, IReadOnlyList<int> seeds,
        IReadOnlyList<StudyArm> arms, string baseline, IReadOnlyList<int> quickSeeds, JsonObject? quickOverrides,
        string source, string? baseDirectory)
    {
        Name = name;
        Description = description;
        BaseConfig = baseConfig;
        Seeds = seeds;
        Arms = arms;
        Baseline = baseline;
        QuickSeeds = quickSeeds;
        QuickOverrides = quickOverrides ?? new JsonObject();
        HasQuickOverrides = quickOverrides is { Count: > 0 };
        Source = source;
        BaseDirectory = baseDirectory;
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>The <c>base</c> object: a training config in the shape <see cref="TrainConfig.Parse"/> reads.</summary>
    public JsonObject BaseConfig { get; }

    public IReadOnlyList<int> Seeds { get; }

    public IReadOnlyList<StudyArm> Arms { get; }

    /// <summary>Name of the arm the others are compared with in the report; the first arm unless set.</summary>
    public string Baseline { get; }

    /// <summary>Seeds of a <c>--quick</c> run; the first seed unless the quick section lists some.</summary>
    public IReadOnlyList<int> QuickSeeds { get; }

    /// <summary>Merged over every arm for <c>--quick</c>, after the arm's own overrides.</summary>
    public JsonObject QuickOverrides { get; }

    /// <summary>
    /// Whether the file has a non-empty <c>quick.overrides</c> object. Without one, <c>--quick</c> would train every
    /// arm in full.
    /// </summary>
    public bool HasQuickOverrides { get; }

    /// <summary>File the study was read from, for messages.</summary>
    public string Source { get; }

    /// <summary>Folder that relative data paths are resolved against; null leaves them as written.</summary>
    public string? BaseDirectory { get; }

    /// <summary>
    /// Whether <paramref name="path"/> contains a JSON object with an <c>arms</c> key, which marks a study file
    /// rather than a training config. A file that is missing or not JSON is not a study file; loading it reports why.
    /// </summary>
    public static bool IsStudyFile(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true,
            });
            return document.RootElement.ValueKind == JsonValueKind.Object &&
                   document.RootElement.TryGetProperty("arms", out _);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException
                                      or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Reads a study file; every problem is a <see cref="ConfigException"/> naming the file and JSON path.</summary>
    public static StudyDefinition Load(string path)
    {
        if (Directory.Exists(path))
            throw new ConfigException(
                $"Study '{path}' is a folder; pass the study's JSON file, e.g. studies/pilot.json.");
        if (!File.Exists(path))
            throw new ConfigException(
                $"Study file '{path}' not found; pass the path of a study JSON file, e.g. studies/pilot.json.");
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"Cannot read study '{path}': {e.Message} Check that the file is readable.");
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        return Parse(json, path, folder);
    }

    /// <summary>
    /// Parses and checks a study, including every arm's merged config for both the full and the quick run, so a
    /// typing error in the last arm fails before the first arm trains.
    /// </summary>
    /// <param name="baseDirectory">Folder that relative data paths are resolved against; null keeps them.</param>
    public static StudyDefinition Parse(string json, string source = "study", string? baseDirectory = null)
    {
        try
        {
            var study = Read(ConfigReader.Parse(json, source), source, baseDirectory);
            study.Plan(quick: false);
            study.Plan(quick: true);
            return study;
        }
        catch (ConfigException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new ConfigException($"{source}: {e.Message}");
        }
    }

    /// <summary>
    /// Lists every arm × seed run with its resolved config, seed by seed, with the arms in file order within a seed.
    /// A study stopped early then has its first seeds for every arm.
    /// </summary>
    public IReadOnlyList<StudyRun> Plan(bool quick)
    {
        var runs = new List<StudyRun>();
        foreach (int seed in quick ? QuickSeeds : Seeds)
        {
            foreach (var arm in Arms)
            {
                var merged = DeepMerge(BaseConfig, arm.Overrides);
                if (quick)
                    merged = DeepMerge(merged, QuickOverrides);
                merged["seed"] = seed;
                runs.Add(new StudyRun(arm, seed, ResolveDataPath(ParseArmConfig(merged, arm, quick))));
            }
        }
        return runs;
    }

    /// <summary>
    /// Returns the study with only the named arms, kept in file order. The baseline stays unless it is left
    /// out, in which case the first kept arm takes its place.
    /// </summary>
    /// <exception cref="ArgumentException">A name is not an arm of the study.</exception>
    public StudyDefinition SelectArms(IReadOnlyCollection<string> names)
    {
        if (names.Count == 0)
            throw new ArgumentException(
                $"no arm name given; list arm names separated by commas, e.g. {Arms[0].Name}. The arms of " +
                $"study {Name} are {string.Join(", ", Arms.Select(arm => arm.Name))}.");
        var unknown = names.Where(name => Arms.All(arm => arm.Name != name)).ToList();
        if (unknown.Count > 0)
        {
            // Arm names are folder names, and case matters in them, so "None" is not "none"; name the match.
            var caseMatches = unknown
                .Select(name => (Given: name, Arm: Arms.FirstOrDefault(arm =>
                    string.Equals(arm.Name, name, StringComparison.OrdinalIgnoreCase))?.Name))
                .Where(pair => pair.Arm is not null)
                .Select(pair => $"'{pair.Given}' is '{pair.Arm}'")
                .ToList();
            string caseHint = caseMatches.Count == 0
                ? ""
                : $" Arm names are case-sensitive: {string.Join(", ", caseMatches)}.";
            throw new ArgumentException(
                $"unknown arm {string.Join(", ", unknown.Select(n => $"'{n}'"))}; the arms of study {Name} are " +
                $"{string.Join(", ", Arms.Select(arm => arm.Name))}.{caseHint}");
        }
        var arms = Arms.Where(arm => names.Contains(arm.Name)).ToList();
        string baseline = arms.Any(arm => arm.Name == Baseline) ? Baseline : arms[0].Name;
        return new StudyDefinition(Name, Description, BaseConfig, Seeds, arms, baseline, QuickSeeds,
            HasQuickOverrides ? QuickOverrides : null, Source, BaseDirectory);
    }

    /// <summary>
    /// Returns the study with only the given seeds of its full run, kept in file order, so a study can train, say,
    /// the first seed of every arm now and the others later. The quick run keeps its own seeds.
    /// </summary>
    /// <exception cref="ArgumentException">No seed is given, or one is not a seed of the study.</exception>
    public StudyDefinition SelectSeeds(IReadOnlyCollection<int> seeds)
    {
        string known = string.Join(",", Seeds);
        if (seeds.Count == 0)
            throw new ArgumentException($"no seed given; list seeds separated by commas, e.g. {Seeds[0]}. The seeds " +
                                        $"of study {Name} are {known}.");
        var unknown = seeds.Where(seed => !Seeds.Contains(seed)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"{(unknown.Count == 1 ? "seed" : "seeds")} {string.Join(",", unknown)} " +
                                        $"not in the study; the seeds of study {Name} are {known}.");
        return new StudyDefinition(Name, Description, BaseConfig, Seeds.Where(seeds.Contains).ToList(), Arms,
            Baseline, QuickSeeds, HasQuickOverrides ? QuickOverrides : null, Source, BaseDirectory);
    }

    /// <summary>
    /// Returns a copy of <paramref name="target"/> with <paramref name="overrides"/> merged in: objects key by key,
    /// recursively; null removes the key, so the config's default applies; every other value replaces the target's.
    /// </summary>
    public static JsonObject DeepMerge(JsonObject target, JsonObject overrides)
    {
        var result = (JsonObject)target.DeepClone();
        foreach (var (key, value) in overrides)
        {
            if (value is null)
                result.Remove(key);
            else if (value is JsonObject overrideObject && result[key] is JsonObject targetObject)
                result[key] = DeepMerge(targetObject, overrideObject);
            else
                result[key] = value?.DeepClone();
        }
        return result;
    }

    private static StudyDefinition Read(ConfigReader root, string source, string? baseDirectory)
    {
        if (!root.IsSet("arms") && !root.IsSet("base") && (root.IsSet("model") || root.IsSet("epochs")))
            throw new ConfigException(
                "$: this is a training config (it has no arms or base config), not a study file; train it with " +
                "'fashioncuda train --config FILE', or list it as the base of a study.");
        string name = RequireName(root, "name");
        string description = root.String("description", "");
        var baseConfig = ToObject(root.RawObject("base"));
        var seeds = ReadSeeds(root, "seeds", [1]);
        var armReaders = root.ObjectList("arms");
        if (armReaders.Count == 0)
            throw new ConfigException($"{root.Path}.arms: missing or empty; list at least one arm, " +
                                      "for example [ { \"name\": \"baseline\" } ].");
        var arms = new List<StudyArm>();
        foreach (var a in armReaders)
        {
            string armName = RequireName(a, "name");
            if (arms.Any(existing => existing.Name == armName))
                throw new ConfigException($"{a.Path}.name: the arm name '{armName}' is used twice; arm names " +
                                          "name run folders, so make each one unique.");
            if (arms.FirstOrDefault(existing => string.Equals(existing.Name, armName,
                    StringComparison.OrdinalIgnoreCase)) is { } clash)
                throw new ConfigException($"{a.Path}.name: the arm names '{clash.Name}' and '{armName}' differ " +
                                          "only in case, so their run folders collide on case-insensitive file " +
                                          "systems; rename one.");
            if (armName.EndsWith(".md", StringComparison.OrdinalIgnoreCase) ||
                armName.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                throw new ConfigException($"{a.Path}.name: the arm name '{armName}' ends like a report file " +
                                          "(report.md and the PNG plots share the study folder with the run " +
                                          "folders); choose a name without .md or .png at the end.");
            if (armName.Length > MaxArmNameLength)
                throw new ConfigException($"{a.Path}.name: the arm name is {armName.Length} characters long; " +
                                          $"use at most {MaxArmNameLength}, since it names a folder.");
            arms.Add(new StudyArm(armName, a.String("description", ""), ToObject(a.RawObject("overrides")),
                arms.Count, a.Bool("needs_gpu", false)));
            a.RejectUnknownKeys();
        }
        string baseline = root.String("baseline", arms[0].Name, arms.Select(arm => arm.Name).ToList());
        IReadOnlyList<int> quickSeeds = [seeds[0]];
        JsonObject? quickOverrides = null;
        if (root.Object("quick") is { } q)
        {
            quickSeeds = ReadSeeds(q, "seeds", quickSeeds);
            quickOverrides = ToObject(q.RawObject("overrides"));
            q.RejectUnknownKeys();
        }
        root.RejectUnknownKeys();
        RejectSeedKey(baseConfig, "$.base");
        for (int i = 0; i < arms.Count; i++)
            RejectSeedKey(arms[i].Overrides, $"$.arms[{i}].overrides");
        if (quickOverrides is not null)
            RejectSeedKey(quickOverrides, "$.quick.overrides");
        return new StudyDefinition(name, description, baseConfig, seeds, arms, baseline, quickSeeds,
            quickOverrides, source, baseDirectory);
    }

    /// <summary>Maximum length of an arm name, well below the 255-byte limit of a folder name on common file systems.</summary>
    private const int MaxArmNameLength = 100;

    private static string RequireName(ConfigReader reader, string key)
    {
        if (!reader.Has(key))
            throw new ConfigException($"{reader.Path}.{key}: missing; give a name of letters, digits, '.', '_' " +
                                      "or '-'.");
        string name = reader.String(key, "");
        if (!FolderNamePattern().IsMatch(name))
            throw new ConfigException(
                $"{reader.Path}.{key}: '{name}' cannot name a folder; use letters, digits, '.', '_' and '-', " +
                "starting with a letter or digit.");
        return name;
    }

    private static IReadOnlyList<int> ReadSeeds(ConfigReader reader, string key, IReadOnlyList<int> fallback)
    {
        var seeds = reader.IntList(key, fallback, 0);
        if (seeds.Count == 0)
            throw new ConfigException($"{reader.Path}.{key}: the list is empty; give at least one seed, e.g. [1].");
        var repeated = seeds.GroupBy(seed => seed).FirstOrDefault(group => group.Count() > 1);
        if (repeated is not null)
            throw new ConfigException($"{reader.Path}.{key}: seed {repeated.Key} is listed twice; list each seed once.");
        return seeds;
    }

    private static void RejectSeedKey(JsonObject config, string path)
    {
        if (config.ContainsKey("seed"))
            throw new ConfigException($"{path}.seed: a study sets each run's seed from its seed list; remove this " +
                                      "key and list the seeds in $.seeds (or $.quick.seeds).");
    }

    private static JsonObject ToObject(JsonElement? element) =>
        element is { } value ? JsonNode.Parse(value.GetRawText())!.AsObject() : new JsonObject();

    private TrainConfig ResolveDataPath(TrainConfig config)
    {
        if (BaseDirectory is null || config.Data.Path is not { } path)
            return config;
        return config with { Data = config.Data with { Path = Path.GetFullPath(path, BaseDirectory) } };
    }

    /// <summary>
    /// Parses a merged config; an error's JSON path is rewritten to the place in the study file that set the
    /// value: the quick overrides, the arm's overrides, else the base.
    /// </summary>
    private TrainConfig ParseArmConfig(JsonObject merged, StudyArm arm, bool quick)
    {
        try
        {
            return TrainConfig.Parse(merged.ToJsonString(), $"arm '{arm.Name}'");
        }
        catch (ConfigException e)
        {
            string message = e.Message;
            int colon = message.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0 && message.StartsWith("$.", StringComparison.Ordinal))
            {
                string path = message[..colon];
                string rest = message[(colon + 2)..];
                // The study sets the seed of every run, so a top-level key list must not offer it.
                if (path.IndexOf('.', 2) < 0)
                    rest = rest.Replace(", seed, ", ", ", StringComparison.Ordinal);
                string located = Locate(path, arm, quick);
                // A key that the base sets for every arm is dropped for one arm by null in its overrides.
                if (located.StartsWith("$.base", StringComparison.Ordinal) && rest.EndsWith(" Remove the key.",
                        StringComparison.Ordinal))
                {
                    rest = rest[..^" Remove the key.".Length] + " Remove the key from $.base, or set it to null in " +
                           $"$.arms[{arm.Index}].overrides to drop it for this arm only.";
                }
                throw new ConfigException($"{located}: {rest.TrimEnd('.')} ({Where(arm, quick)})");
            }
            throw new ConfigException($"{Where(arm, quick)}: {message}");
        }
    }

    /// <summary>
    /// Returns an error about one key of a run's resolved config, such as a value that does not fit the data.
    /// Its JSON path points at the place in the study file that sets the key, as in the errors of <see cref="Load"/>.
    /// </summary>
    /// <param name="configPath">Path of the key in the resolved config, e.g. <c>$.validation_count</c>.</param>
    /// <param name="problem">What is wrong and what to do, e.g. "5000 leaves no training images; hold out fewer".</param>
    public ConfigException RunConfigError(StudyRun run, bool quick, string configPath, string problem) =>
        new($"{Source}: {Locate(configPath, run.Arm, quick)}: {problem} ({Where(run.Arm, quick)})");

    private static string Where(StudyArm arm, bool quick) =>
        $"arm '{arm.Name}'{(quick ? " with the quick overrides" : "")}";

    private string Locate(string configPath, StudyArm arm, bool quick)
    {
        int armIndex = arm.Index;
        var keys = configPath[2..].Split('.').Select(key => key.Split('[')[0]).ToArray();
        string tail = configPath[1..];
        if (quick && Contains(QuickOverrides, keys))
            return "$.quick.overrides" + tail;
        if (Contains(arm.Overrides, keys))
            return $"$.arms[{armIndex}].overrides" + tail;
        if (Contains(BaseConfig, keys))
            return "$.base" + tail;
        return $"$.arms[{armIndex}] (merged config {configPath})";
    }

    private static bool Contains(JsonObject root, string[] keys)
    {
        JsonNode? node = root;
        foreach (string key in keys)
        {
            if (node is not JsonObject current || !current.TryGetPropertyValue(key, out node))
                return false;
        }
        return true;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex FolderNamePattern();
}
