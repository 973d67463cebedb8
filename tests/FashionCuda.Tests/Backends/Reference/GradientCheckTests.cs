using FashionCuda.Checks;

namespace FashionCuda.Tests.Backends.Reference;

public class GradientCheckTests
{
    public static TheoryData<string> OpNames => new(GradientChecks.OpNames);

    [Theory]
    [MemberData(nameof(OpNames))]
    public void GradientCheckPasses(string op)
    {
        var results = GradientChecks.Run(op);

        Assert.NotEmpty(results);
        foreach (var result in results)
        {
            Assert.Equal(op, result.Op);
            Assert.True(result.Passed,
                $"{result.Op} {result.Quantity}: max abs error {result.MaxAbsError:E3}, max rel error " +
                $"{result.MaxRelError:E3}, tolerance {result.Tolerance:E3}.");
        }
    }

    [Fact]
    public void GradientChecksPassForAnotherSeed()
    {
        var failed = GradientChecks.Run(seed: 12345).Where(result => !result.Passed).ToList();

        Assert.True(failed.Count == 0, "Failed: " + string.Join("; ", failed));
    }

    [Fact]
    public void RunWithoutOpCoversEveryOp()
    {
        var ops = GradientChecks.Run().Select(result => result.Op).Distinct().ToList();

        Assert.Equal(GradientChecks.OpNames, ops);
    }

    [Fact]
    public void UnknownOpThrows()
    {
        var error = Assert.Throws<ArgumentException>(() => GradientChecks.Run("conv3d"));

        Assert.Contains("conv3d", error.Message);
    }

    [Fact]
    public void CompareFailsOnWrongGradient()
    {
        // L(x) = Σ x², so dL/dx = 2x, and 1.999x is off by 0.0005 relative, far above the tolerance of 1e-5.
        double[] x = [0.5, -1.25, 2.0];
        double Loss() => x.Sum(value => value * value);

        var right = GradientChecks.Compare("square", "dInput", x, x.Select(value => 2 * value).ToArray(), Loss);
        var wrong = GradientChecks.Compare("square", "dInput", x, x.Select(value => 1.999 * value).ToArray(), Loss);

        Assert.True(right.Passed, right.ToString());
        Assert.False(wrong.Passed, wrong.ToString());
        Assert.Equal(0.002, wrong.MaxAbsError, 1e-6);
    }

    [Fact]
    public void CompareFailsWhenGradientIsZeroEverywhere()
    {
        double[] x = [1.0, 2.0];
        double Loss() => 3.0;

        var result = GradientChecks.Compare("constant", "dInput", x, [0.0, 0.0], Loss);

        Assert.False(result.Passed, "An all-zero numeric gradient must not count as a pass.");
    }

    [Fact]
    public void CompareFailsOnNaNGradient()
    {
        double[] x = [1.0];
        double Loss() => x[0];

        var result = GradientChecks.Compare("identity", "dInput", x, [double.NaN], Loss);

        Assert.False(result.Passed);
    }
}
