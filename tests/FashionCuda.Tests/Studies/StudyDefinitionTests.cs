using System.Text.Json.Nodes;
using FashionCuda.Studies;
using FashionCuda.Training;

namespace FashionCuda.Tests.Studies;

public class StudyDefinitionTests
{
    private const string Valid = """
        {
          "name": "demo", "description": "two arms",
          "base": { "model": { "width": 4, "hidden": 16 }, "epochs": 3, "validation_count": 10 },
          "seeds": [1, 2],
          "arms": [
            { "name": "plain" },
            { "name": "wide-flip", "overrides": { "model": { "width": 8 }, "augmentation": { "flip": true } } }
          ],
          "quick": { "overrides": { "epochs": 1, "train_limit": 64 } }
        }
        """;

    private static ConfigException Reject(string json) =>
        Assert.Throws<ConfigException>(() => StudyDefinition.Parse(json, "demo.json"));

    [Fact]
    public void Parse_BaseKeyOffersNullOverride()
    {
        var error = Reject("""
            {
              "name": "mixed",
              "base": { "model": { "width": 8, "hidden": 32 } },
              "arms": [ { "name": "alexnet" }, { "name": "resnet", "overrides": { "model": { "name": "resnet-narrow" } } } ]
            }
            """);
        Assert.StartsWith("demo.json: $.base.model.hidden: applies only to alexnet-fm", error.Message);
        Assert.EndsWith("Remove the key from $.base, or set it to null in $.arms[1].overrides to drop it for this " +
                        "arm only (arm 'resnet')", error.Message);
    }

    [Fact]
    public void Parse_PlansArmsTimesSeeds()
    {
        var study = StudyDefinition.Parse(Valid, "demo.json");
        var runs = study.Plan(quick: false);
        Assert.Equal(4, runs.Count);
        Assert.Equal(["plain", "wide-flip", "plain", "wide-flip"], runs.Select(r => r.Arm.Name));
        Assert.Equal([1UL, 1UL, 2UL, 2UL], runs.Select(r => r.Config.Seed));
        Assert.Equal(Path.Combine("wide-flip", "seed-2"), runs[3].RelativeDirectory);
        Assert.Equal(4, runs[0].Config.Model.Width);
        Assert.Equal(8, runs[1].Config.Model.Width);
        Assert.Equal(16, runs[1].Config.Model.AlexNet.HiddenFeatures);
        Assert.True(runs[1].Config.Augmentation.Flip);
        Assert.False(runs[0].Config.Augmentation.Flip);
        Assert.Equal(10, runs[0].Config.ValidationCount);
        Assert.Equal("plain", study.Baseline);
    }

    [Fact]
    public void Plan_QuickUsesFirstSeedAndOverrides()
    {
        var runs = StudyDefinition.Parse(Valid, "demo.json").Plan(quick: true);
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.Equal(1UL, r.Config.Seed));
        Assert.All(runs, r => Assert.Equal(1, r.Config.Epochs));
        Assert.All(runs, r => Assert.Equal(64, r.Config.TrainLimit));
        Assert.Equal(8, runs[1].Config.Model.Width);
    }

    [Fact]
    public void DeepMerge_MergesObjectsReplacesOthersRemovesNull()
    {
        var target = JsonNode.Parse("""{ "a": { "x": 1, "y": 2 }, "list": [1, 2], "keep": true, "gone": {"z": 1} }""")!
            .AsObject();
        var overrides = JsonNode.Parse("""{ "a": { "y": 3 }, "list": [9], "gone": null, "new": 5 }""")!.AsObject();
        var merged = StudyDefinition.DeepMerge(target, overrides);
        Assert.Equal(1, (int)merged["a"]!["x"]!);
        Assert.Equal(3, (int)merged["a"]!["y"]!);
        Assert.Equal("[9]", merged["list"]!.ToJsonString());
        Assert.True((bool)merged["keep"]!);
        Assert.False(merged.ContainsKey("gone"));
        Assert.Equal(5, (int)merged["new"]!);
        Assert.Equal(2, (int)target["a"]!["y"]!);
    }

    [Theory]
    [InlineData("""{ "arms": [ { "name": "a" } ] }""", "$.name: missing")]
    [InlineData("""{ "name": "x y", "arms": [ { "name": "a" } ] }""", "$.name: 'x y' cannot name a folder")]
    [InlineData("""{ "name": "s" }""", "$.arms: missing or empty")]
    [InlineData("""{ "name": "s", "arms": [] }""", "$.arms: missing or empty")]
    [InlineData("""{ "name": "s", "arms": [ { "name": "a" }, { "name": "a" } ] }""", "$.arms[1].name: the arm name 'a' is used twice")]
    [InlineData("""{ "name": "s", "arms": [ { "name": "a", "extra": 1 } ] }""", "$.arms[0].extra: unknown key")]
    [InlineData("""{ "name": "s", "arms": [ { "name": "a" } ], "bogus": 1 }""", "$.bogus: unknown key")]
    [InlineData("""{ "name": "s", "seeds": [], "arms": [ { "name": "a" } ] }""", "$.seeds: the list is empty")]
    [InlineData("""{ "name": "s", "seeds": [1, 1], "arms": [ { "name": "a" } ] }""", "$.seeds: seed 1 is listed twice")]
    [InlineData("""{ "name": "s", "seeds": [-1], "arms": [ { "name": "a" } ] }""", "$.seeds[0]: expected an integer of at least 0")]
    [InlineData("""{ "name": "s", "baseline": "b", "arms": [ { "name": "a" } ] }""", "$.baseline: 'b' is not allowed")]
    [InlineData("""{ "name": "s", "base": { "seed": 3 }, "arms": [ { "name": "a" } ] }""", "$.base.seed: a study sets each run's seed")]
    [InlineData("""{ "name": "s", "base": [], "arms": [ { "name": "a" } ] }""", "$.base: expected an object")]
    [InlineData("""{ "name": "s", "arms": [ { "name": "a", "overrides": 3 } ] }""", "$.arms[0].overrides: expected an object")]
    [InlineData("""{ "name": "s", "arms": [ { "name": "a" } ], "quick": { "bogus": 1 } }""", "$.quick.bogus: unknown key")]
    [InlineData("""{ "name": "s", "arms": [ { "name": "flip" }, { "name": "Flip" } ] }""", "$.arms[1].name: the arm names 'flip' and 'Flip' differ only in case")]
    [InlineData("""{ "name": "s", "arms": [ { "name": "a" }, { "name": "accuracy.png" } ] }""", "$.arms[1].name: the arm name 'accuracy.png' ends like a report file")]
    [InlineData("""{ "name": "s", "arms": [ { "name": "report.MD" } ] }""", "$.arms[0].name: the arm name 'report.MD' ends like a report file")]
    public void Parse_RejectsBadStudyWithPath(string json, string expected)
    {
        var error = Reject(json);
        Assert.StartsWith("demo.json: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Parse_RejectsLongArmName()
    {
        string name = new('a', 101);

        var error = Reject($$"""{ "name": "s", "arms": [ { "name": "{{name}}" } ] }""");

        Assert.Contains("$.arms[0].name: the arm name is 101 characters long; use at most 100", error.Message);
        Assert.NotNull(StudyDefinition.Parse($$"""{ "name": "s", "arms": [ { "name": "{{name[..100]}}" } ] }""",
            "demo.json"));
    }

    [Fact]
    public void Parse_ArmConfigErrorPointsAtOverride()
    {
        var error = Reject("""
            { "name": "s", "arms": [ { "name": "a" }, { "name": "b", "overrides": { "model": { "widht": 8 } } } ] }
            """);
        Assert.Contains("$.arms[1].overrides.model.widht: unknown key", error.Message);
        Assert.Contains("arm 'b'", error.Message);
    }

    [Fact]
    public void Parse_BaseConfigErrorPointsAtBase()
    {
        var error = Reject("""{ "name": "s", "base": { "epochs": 0 }, "arms": [ { "name": "a" } ] }""");
        Assert.Contains("$.base.epochs: 0 is out of range", error.Message);
    }

    [Fact]
    public void Parse_QuickErrorPointsAtQuickOverrides()
    {
        var error = Reject("""
            { "name": "s", "arms": [ { "name": "a" } ], "quick": { "overrides": { "train_limit": -5 } } }
            """);
        Assert.Contains("$.quick.overrides.train_limit: -5 is out of range", error.Message);
        Assert.Contains("with the quick overrides", error.Message);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData(""", "quick": { "seeds": [2] }""", false)]
    [InlineData(""", "quick": { "overrides": {} }""", false)]
    [InlineData(""", "quick": { "overrides": { "epochs": 1 } }""", true)]
    public void HasQuickOverrides_OnlyWithNonEmptyObject(string quick, bool expected)
    {
        var study = StudyDefinition.Parse($$"""{ "name": "s", "arms": [ { "name": "a" } ]{{quick}} }""", "s.json");
        Assert.Equal(expected, study.HasQuickOverrides);
        Assert.Equal(expected, study.SelectArms(["a"]).HasQuickOverrides);
    }

    [Fact]
    public void Plan_NullOverrideRemovesBaseKey()
    {
        var runs = StudyDefinition.Parse("""
            { "name": "s", "base": { "model": { "name": "alexnet-fm", "width": 2, "hidden": 16 } },
              "arms": [ { "name": "alexnet" },
                        { "name": "resnet", "overrides": { "model": { "name": "resnet-narrow", "hidden": null } } } ] }
            """, "demo.json").Plan(quick: false);
        Assert.Equal(16, runs[0].Config.Model.AlexNet.HiddenFeatures);
        Assert.Equal("resnet-narrow", runs[1].Config.Model.Name);
    }

    [Fact]
    public void Parse_QuickUnknownKeyListOmitsSeed()
    {
        var error = Reject("""
            { "name": "s", "arms": [ { "name": "a" } ], "quick": { "overrides": { "epochz": 1 } } }
            """);
        Assert.Contains("$.quick.overrides.epochz: unknown key; allowed keys here are", error.Message);
        Assert.Contains("schedule, test_limit", error.Message);
        Assert.DoesNotContain("seed", error.Message);
    }

    [Fact]
    public void Load_ResolvesDataPathAgainstStudyFolder()
    {
        string folder = Directory.CreateTempSubdirectory("fashioncuda-study-path-").FullName;
        try
        {
            string file = Path.Combine(folder, "photo.json");
            File.WriteAllText(file, """
                { "name": "s", "base": { "data": { "kind": "folder", "path": "photos" } },
                  "arms": [ { "name": "a" }, { "name": "b", "overrides": { "data": { "path": "/abs/list.csv" } } } ] }
                """);
            var runs = StudyDefinition.Load(file).Plan(quick: false);
            Assert.Equal(Path.Combine(folder, "photos"), runs[0].Config.Data.Path);
            Assert.Equal("/abs/list.csv", runs[1].Config.Data.Path);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Load_MissingFileNamesFix()
    {
        var error = Assert.Throws<ConfigException>(() => StudyDefinition.Load("no-such-study.json"));
        Assert.Equal("Study file 'no-such-study.json' not found; pass the path of a study JSON file, e.g. " +
                     "studies/pilot.json.", error.Message);
    }

    [Fact]
    public void SelectArms_EmptyListNamesArms()
    {
        var error = Assert.Throws<ArgumentException>(
            () => StudyDefinition.Parse(Valid, "demo.json").SelectArms([]));
        Assert.Contains("no arm name given", error.Message);
        Assert.Contains("plain, wide-flip", error.Message);
    }

    [Fact]
    public void SelectArms_KeepsNamedArmsInOrder()
    {
        var study = StudyDefinition.Parse(Valid, "demo.json");
        var selected = study.SelectArms(["wide-flip"]);
        Assert.Equal(["wide-flip"], selected.Arms.Select(a => a.Name));
        Assert.Equal("wide-flip", selected.Baseline);
        var error = Assert.Throws<ArgumentException>(() => study.SelectArms(["nope"]));
        Assert.Contains("'nope'", error.Message);
        Assert.Contains("plain, wide-flip", error.Message);
        Assert.DoesNotContain("case-sensitive", error.Message);
    }

    [Fact]
    public void SelectArms_WrongCaseNamesTheArm()
    {
        var study = StudyDefinition.Parse(Valid, "demo.json");
        var error = Assert.Throws<ArgumentException>(() => study.SelectArms(["Plain", "nope", "WIDE-flip"]));
        Assert.EndsWith("Arm names are case-sensitive: 'Plain' is 'plain', 'WIDE-flip' is 'wide-flip'.",
            error.Message);
    }

    [Theory]
    [InlineData("pilot.json")]
    [InlineData("study1-depth-classifier.json")]
    public void StudyFile_ParsesOnThisBuild(string file)
    {
        var study = StudyDefinition.Load(Path.Combine(Cli.CliRunner.RepositoryRoot(), "studies", file));
        Assert.NotEmpty(study.Plan(quick: false));
        Assert.All(study.Plan(quick: false), run => Assert.True(run.Config.ValidationCount > 0));
    }
}
