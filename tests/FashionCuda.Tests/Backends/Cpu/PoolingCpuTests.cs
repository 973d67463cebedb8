using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Reference;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Backends.Cpu;

/// <summary>
/// The CPU maxima against the reference kernels on inputs the random comparisons never draw: NaN, which the
/// reference lets win over any number, and tied maxima, where the first one wins.
/// </summary>
public sealed class PoolingCpuTests : IDisposable
{
    private readonly CpuBackend backend = new(threadCount: 1);

    public void Dispose() => backend.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TwoByTwoFollowsReferenceAroundNaN(int position)
    {
        // One plane of 2 × 18: nine windows, two vector steps and one scalar step. A NaN sits at the given
        // position (0 = top left ... 3 = bottom right) of windows 0, 5 and 8; the other windows hold ties.
        const int width = 18;
        var values = new float[2 * width];
        for (int q = 0; q < width / 2; q++)
        {
            values[2 * q] = q % 3;
            values[2 * q + 1] = q % 2 == 0 ? q % 3 : -1f;
            values[width + 2 * q] = q % 3;
            values[width + 2 * q + 1] = 1f;
        }
        foreach (int window in new[] { 0, 5, 8 })
            values[(position / 2) * width + 2 * window + position % 2] = float.NaN;
        var geometry = new Pool2dGeometry(1, 1, 2, width, 2, 2, 2, 2, 0, 0);
        var gradOutput = Enumerable.Range(1, width / 2).Select(i => (float)i).ToArray();

        using var input = Tensor.FromArray(backend, values, [1, 1, 2, width]);
        using var output = Tensor.Empty(backend, geometry.OutputShape);
        using var grad = Tensor.FromArray(backend, gradOutput, geometry.OutputShape);
        using var gradInput = Tensor.Empty(backend, [1, 1, 2, width]);
        backend.MaxPool2dForward(input, output, geometry);
        backend.MaxPool2dBackward(input, grad, gradInput, geometry);

        var doubles = values.Select(v => (double)v).ToArray();
        var expectedOutput = new double[width / 2];
        PoolingReference.MaxPool2dForward(doubles, expectedOutput, geometry);
        var expectedInput = new double[2 * width];
        PoolingReference.MaxPool2dBackward(doubles, gradOutput.Select(v => (double)v).ToArray(), expectedInput,
            geometry);
        Assert.Equal(expectedOutput.Select(v => (float)v), output.ToArray());
        Assert.Equal(expectedInput.Select(v => (float)v), gradInput.ToArray());
    }

    // Four (n, c) planes of 2 × 3: no NaN, a NaN after the maximum, a NaN first and two NaNs.
    private static readonly float[] PlaneValues =
    [
        1, 4, 4, 2, 0, -1,
        1, 4, float.NaN, 2, 0, -1,
        float.NaN, 4, 3, 5, 0, -1,
        1, float.NaN, 9, float.NaN, 0, -1,
    ];

    [Fact]
    public void GlobalMaxPoolFollowsReferenceAroundNaN()
    {
        using var input = Tensor.FromArray(backend, PlaneValues, [2, 2, 2, 3]);
        using var output = Tensor.Empty(backend, [2, 2, 1, 1]);
        using var grad = Tensor.FromArray(backend, [1f, 2f, 3f, 4f], [2, 2, 1, 1]);
        using var gradInput = Tensor.Empty(backend, [2, 2, 2, 3]);
        backend.GlobalMaxPoolForward(input, output);
        backend.GlobalMaxPoolBackward(input, grad, gradInput);

        var doubles = PlaneValues.Select(v => (double)v).ToArray();
        var expectedOutput = new double[4];
        PoolingReference.GlobalMaxPoolForward(doubles, expectedOutput, 2, 2, 2, 3);
        var expectedInput = new double[PlaneValues.Length];
        PoolingReference.GlobalMaxPoolBackward(doubles, [1, 2, 3, 4], expectedInput, 2, 2, 2, 3);
        Assert.Equal(expectedOutput.Select(v => (float)v), output.ToArray());
        Assert.Equal(expectedInput.Select(v => (float)v), gradInput.ToArray());
    }

    [Fact]
    public void ChannelMaxFollowsReferenceAroundNaN()
    {
        // Read as (N=1, C=4, H=2, W=3), every pixel's four channels mix numbers, ties and NaNs.
        using var input = Tensor.FromArray(backend, PlaneValues, [1, 4, 2, 3]);
        using var output = Tensor.Empty(backend, [1, 1, 2, 3]);
        var gradOutput = new[] { 1f, 2f, 3f, 4f, 5f, 6f };
        using var grad = Tensor.FromArray(backend, gradOutput, [1, 1, 2, 3]);
        using var gradInput = Tensor.Empty(backend, [1, 4, 2, 3]);
        backend.ChannelMaxForward(input, output);
        backend.ChannelMaxBackward(input, grad, gradInput);

        var doubles = PlaneValues.Select(v => (double)v).ToArray();
        var expectedOutput = new double[6];
        ChannelReference.ChannelMaxForward(doubles, expectedOutput, 1, 4, 2, 3);
        var expectedInput = new double[PlaneValues.Length];
        ChannelReference.ChannelMaxBackward(doubles, gradOutput.Select(v => (double)v).ToArray(), expectedInput, 1,
            4, 2, 3);
        Assert.Equal(expectedOutput.Select(v => (float)v), output.ToArray());
        Assert.Equal(expectedInput.Select(v => (float)v), gradInput.ToArray());
    }
}
