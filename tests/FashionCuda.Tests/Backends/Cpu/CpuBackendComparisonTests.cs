using FashionCuda.Backends.Cpu;
using FashionCuda.Checks;

namespace FashionCuda.Tests.Backends.Cpu;

public sealed class CpuBackendComparisonTests : IDisposable
{
    private readonly CpuBackend backend = new(threadCount: 2);

    public void Dispose() => backend.Dispose();

    public static TheoryData<string> Ops => new(BackendComparisons.OpNames);

    [Theory]
    [MemberData(nameof(Ops))]
    public void OpMatchesReference(string op)
    {
        var results = BackendComparisons.Run(backend, op);
        Assert.NotEmpty(results);
        foreach (var result in results)
            Assert.True(result.Passed,
                $"{result.Op} {result.Quantity}: max abs error {result.MaxAbsError:E3}, max rel error " +
                $"{result.MaxRelError:E3}, tolerance {result.Tolerance:E3}.");
    }

    [Fact]
    public void SingleThreadMatchesReference()
    {
        using var serial = new CpuBackend(threadCount: 1);
        var failures = BackendComparisons.Run(serial).Where(r => !r.Passed).Select(r => $"{r.Op} {r.Quantity}");
        Assert.Empty(failures);
    }

    [Fact]
    public void UnknownOpIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => BackendComparisons.Run(backend, "no-such-op"));
        Assert.Contains("conv2d", error.Message);
    }
}
