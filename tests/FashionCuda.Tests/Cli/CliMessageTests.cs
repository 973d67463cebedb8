using FashionCuda.Cli.Commands;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Cli;

/// <summary>Error lines and printed commands that reach the user as text: one line, no .NET type names.</summary>
public sealed class CliMessageTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("fashioncuda-messages-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData(new[] { "bench", "--batch", "abc" },
        "error: --batch abc: --batch takes a whole number up to 2147483647.")]
    [InlineData(new[] { "bench", "--batch", "99999999999" },
        "error: --batch 99999999999: --batch takes a whole number up to 2147483647.")]
    [InlineData(new[] { "bench", "--steps", "1.5" }, "error: --steps 1.5: --steps takes a whole number up to 2147483647.")]
    [InlineData(new[] { "check", "--seed", "x" },
        "error: --seed x: --seed takes a whole number from 0 to 18446744073709551615.")]
    public void ParseError_NamesWhatOptionTakes(string[] args, string expected)
    {
        var result = CliRunner.Run(directory, args);
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Equal(expected, result.Error.Split('\n')[0].TrimEnd());
        Assert.DoesNotContain("System.", result.Error);
    }

    [Fact]
    public void Bench_BatchPastIntIsOneLine()
    {
        var result = CliRunner.Run(directory, "bench", "--width", "4", "--batch", "100000000", "--steps", "1");
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.StartsWith("error: the model or batch is too large", result.Error);
        Assert.DoesNotContain("Unhandled exception", result.Error);
    }

    [Fact]
    public void Study_TrainingConfigIsNamedAsOne()
    {
        string config = Path.Combine(CliRunner.RepositoryRoot(), "studies", "quickstart.json");
        var result = CliRunner.Run(directory, "study", config, "--quick");
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("this is a training config (it has no arms or base config), not a study file",
            result.Error);
    }

    [Fact]
    public void HostTensorPastLimitIsOverflow()
    {
        // The CLI turns OverflowException into its "too large" line, so the pool must raise that type.
        var pool = new HostBufferPool();
        Assert.Throws<OverflowException>(() => pool.Rent((long)Array.MaxLength + 1));
    }

    [Theory]
    [InlineData("runs/pilot-1", "runs/pilot-1")]
    [InlineData("/tmp/run 2", "'/tmp/run 2'")]
    [InlineData("runs/a!1b $x", "'runs/a!1b $x'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("", "''")]
    public void ShellQuote_KeepsOneArgument(string argument, string expected) =>
        Assert.Equal(expected, Common.ShellQuote(argument));

    [Fact]
    public void ShellSplit_ReversesShellQuote()
    {
        string[] arguments = ["fashioncuda", "study", "/tmp/run 2", "it's", "", "runs/a!1b $x", "--data", "d"];

        var split = Common.ShellSplit(string.Join(' ', arguments.Select(Common.ShellQuote)));

        Assert.Equal(arguments, split);
    }
}
