using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Reference;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Backends.Cpu;

/// <summary>
/// The vector paths of the 2×2 max pool and the channel max against the reference, bit for bit, on random inputs. Inputs mix NaN, ties and signed zeros, and gradient outputs start with stale values. Many small planes on
/// two threads make ForItems split the items into runs.
/// </summary>
public sealed class PoolingCpuRandomTests : IDisposable
{
    private readonly CpuBackend backend = new(threadCount: 2);

    public void Dispose() => backend.Dispose();

    private static float[] Values(int length, int seed)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            int pick = rng.Next(10);
            values[i] = pick switch
            {
                0 => float.NaN,
                1 => -0f,
                2 => 0f,
                _ => rng.Next(3),
            };
        }
        return values;
    }

    private static int[] Bits(IEnumerable<float> values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Theory]
    [InlineData(50, 80, 7, 9)]
    [InlineData(3, 5, 5, 21)]
    [InlineData(1, 1, 2, 2)]
    [InlineData(2, 3, 3, 33)]
    public void TwoByTwoMatchesReferenceBitForBit(int n, int c, int h, int w)
    {
        var g = new Pool2dGeometry(n, c, h, w, 2, 2, 2, 2, 0, 0);
        var values = Values(n * c * h * w, h * 100 + w);
        var gradOutput = Enumerable.Range(1, n * c * g.P * g.Q).Select(i => (float)(i % 97) - 48f).ToArray();
        using var input = Tensor.FromArray(backend, values, [n, c, h, w]);
        using var output = Tensor.Full(backend, g.OutputShape, 555f);
        using var grad = Tensor.FromArray(backend, gradOutput, g.OutputShape);
        using var gradInput = Tensor.Full(backend, [n, c, h, w], 777f);
        backend.MaxPool2dForward(input, output, g);
        backend.MaxPool2dBackward(input, grad, gradInput, g);

        var doubles = values.Select(v => (double)v).ToArray();
        var expectedOutput = new double[n * c * g.P * g.Q];
        PoolingReference.MaxPool2dForward(doubles, expectedOutput, g);
        var expectedInput = new double[values.Length];
        PoolingReference.MaxPool2dBackward(doubles, gradOutput.Select(v => (double)v).ToArray(), expectedInput, g);
        Assert.Equal(Bits(expectedOutput.Select(v => (float)v)), Bits(output.ToArray()));
        // The reference adds gradients into a cleared array, so an unselected element is +0.
        Assert.Equal(Bits(expectedInput.Select(v => (float)v)), Bits(gradInput.ToArray()));
    }

    [Theory]
    [InlineData(2, 5, 17, 19)]
    [InlineData(3, 1, 16, 16)]
    [InlineData(1, 7, 1, 9)]
    public void ChannelMaxMatchesReferenceBitForBit(int n, int c, int h, int w)
    {
        var values = Values(n * c * h * w, c * 1000 + h * w);
        var gradOutput = Enumerable.Range(1, n * h * w).Select(i => (float)i).ToArray();
        using var input = Tensor.FromArray(backend, values, [n, c, h, w]);
        using var output = Tensor.Full(backend, [n, 1, h, w], 555f);
        using var grad = Tensor.FromArray(backend, gradOutput, [n, 1, h, w]);
        using var gradInput = Tensor.Full(backend, [n, c, h, w], 777f);
        backend.ChannelMaxForward(input, output);
        backend.ChannelMaxBackward(input, grad, gradInput);

        var doubles = values.Select(v => (double)v).ToArray();
        var expectedOutput = new double[n * h * w];
        ChannelReference.ChannelMaxForward(doubles, expectedOutput, n, c, h, w);
        var expectedInput = new double[values.Length];
        ChannelReference.ChannelMaxBackward(doubles, gradOutput.Select(v => (double)v).ToArray(), expectedInput, n,
            c, h, w);
        // Forward is compared by value: which of -0 and +0 a NaN-free max returns is not part of the rule.
        Assert.Equal(expectedOutput.Select(v => (float)v), output.ToArray());
        Assert.Equal(Bits(expectedInput.Select(v => (float)v)), Bits(gradInput.ToArray()));
    }
}
