namespace FashionCuda.Tests.Cli;

/// <summary>
/// Arms with <c>"needs_gpu": true</c>: a full run of the study on the CPU leaves them out and names the command that
/// trains them, unless <c>--arms</c> names them; <c>--quick</c> trains them.
/// </summary>
public sealed class CliStudyGpuArmTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-gpu-arm-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string Output => Path.Combine(directory, "out");

    private string WriteStudy(string plainNeedsGpu = "false", string wideNeedsGpu = "true", string seeds = "[1]")
    {
        string path = Path.Combine(directory, "tiny.json");
        File.WriteAllText(path, $$"""
            {
              "name": "tiny",
              "base": { "model": { "width": 2, "hidden": 8 }, "epochs": 1, "batch_size": 16, "train_limit": 64,
                        "test_limit": 32 },
              "seeds": {{seeds}},
              "arms": [ { "name": "plain", "needs_gpu": {{plainNeedsGpu}} },
                        { "name": "wide", "needs_gpu": {{wideNeedsGpu}}, "overrides": { "model": { "width": 3 } } } ],
              "quick": { "overrides": { "train_limit": 32 } }
            }
            """);
        return path;
    }

    private CliRunner.Result RunStudy(string study, params string[] extra) =>
        CliRunner.Run(directory, ["study", study, "--data", CliRunner.EmbeddedData(), "--out", Output, .. extra]);

    private bool Finished(string arm) => File.Exists(Path.Combine(Output, arm, "seed-1", "results.json"));

    [Fact]
    public void CpuRun_LeavesGpuArmOut()
    {
        string study = WriteStudy();

        var result = RunStudy(study);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("1 arm × 1 seed = 1 run", result.Output);
        Assert.Contains("left out   wide (needs_gpu in the study file): train it with --device cuda, or name it in " +
                        "--arms to train it here anyway", result.Output);
        Assert.True(Finished("plain"), "plain was not trained");
        Assert.False(Directory.Exists(Path.Combine(Output, "wide")), "wide was trained on the CPU");
        string advice = "wide needs a GPU (needs_gpu in the study file): run `fashioncuda study " +
                        $"{study} --data {CliRunner.EmbeddedData()} --device cuda --out {Output}` to train it; it " +
                        "skips the finished runs.";
        Assert.Contains($"Finished runs: 1 of 2. The report covers those. {advice}", result.Output);
        Assert.Contains(advice, File.ReadAllText(Path.Combine(Output, "report.md")));
    }

    [Fact]
    public void ReportOnly_NamesGpuCommand()
    {
        string study = WriteStudy();
        Assert.Equal(0, RunStudy(study).ExitCode);

        var result = RunStudy(study, "--report-only");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"--device cuda --out {Output}` to train it;", result.Output);
        Assert.DoesNotContain("left out", result.Output);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("reference")]
    public void SeedsLeftOut_GpuCommandCoversAllSeeds(string device)
    {
        string study = WriteStudy(seeds: "[1, 2]");

        var result = RunStudy(study, "--seeds", "1", "--device", device);

        Assert.True(result.ExitCode == 0, result.Error);
        string gpuCommand = $"fashioncuda study {study} --data {CliRunner.EmbeddedData()} --device cuda --out {Output}";
        Assert.Contains("Run the study without --seeds (or with --seeds 2) to train the rest; it skips the finished " +
                        $"runs. wide needs a GPU (needs_gpu in the study file): run `{gpuCommand}` to train it.",
            result.Output);
    }

    [Fact]
    public void OtherArmsOnly_GpuArmGetsCommand()
    {
        string study = WriteStudy();

        var result = RunStudy(study, "--arms", "plain");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("wide needs a GPU (needs_gpu in the study file): run `fashioncuda study " +
                        $"{study} --data {CliRunner.EmbeddedData()} --device cuda --out {Output} --arms wide` to " +
                        "train it; it skips the finished runs.", result.Output);
        Assert.DoesNotContain("(or with --arms", result.Output);
    }

    [Fact]
    public void FinishedGpuArm_NotLeftOut()
    {
        string study = WriteStudy();
        Assert.Equal(0, RunStudy(study, "--arms", "wide").ExitCode);

        var result = RunStudy(study);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("wide seed 1: finished before, skipped", result.Output);
        Assert.DoesNotContain("left out", result.Output);
        Assert.DoesNotContain("--device cuda", result.Output);
        Assert.True(Finished("plain"), "plain was not trained");
    }

    [Fact]
    public void ReportOnly_WorksWhenEveryArmNeedsGpu()
    {
        string study = WriteStudy(plainNeedsGpu: "true");
        Assert.Equal(0, RunStudy(study, "--arms", "plain").ExitCode);

        var result = RunStudy(study, "--report-only");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("Finished runs: 1 of 2.", result.Output);
        Assert.Contains("--device cuda --out", result.Output);
    }

    [Fact]
    public void ArmsNamingGpuArm_TrainsOnCpu()
    {
        var result = RunStudy(WriteStudy(), "--arms", "wide");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.DoesNotContain("left out", result.Output);
        Assert.True(Finished("wide"), "wide was not trained");
        Assert.False(Finished("plain"), "plain was trained though --arms left it out");
    }

    [Fact]
    public void Quick_TrainsGpuArms()
    {
        var result = RunStudy(WriteStudy(), "--quick");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.True(Finished("plain"), result.Output);
        Assert.True(Finished("wide"), result.Output);
    }

    [Fact]
    public void EveryArmNeedingGpu_GivesOneLine()
    {
        string study = WriteStudy(plainNeedsGpu: "true");

        var result = RunStudy(study);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: {study}: every arm of study tiny has \"needs_gpu\": true, and this run is on cpu; " +
                     "pass --device cuda on a machine with a GPU, or name the arms in --arms to train them on the " +
                     "CPU anyway.", result.Error.TrimEnd());
        Assert.False(Directory.Exists(Output), "the study folder was created");
    }

    [Fact]
    public void NeedsGpuNotBoolean_NamesThePath()
    {
        var result = RunStudy(WriteStudy(wideNeedsGpu: "\"yes\""));

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: ", result.Error);
        Assert.Contains("$.arms[1].needs_gpu: expected true or false", result.Error);
    }
}
