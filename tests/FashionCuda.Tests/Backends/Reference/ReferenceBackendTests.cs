using FashionCuda.Backends;
using FashionCuda.Backends.Reference;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Backends.Reference;

/// <summary>
/// ReferenceBackend against its double kernels: the backend must return exactly the kernel's result rounded to
/// float32, because it only converts, calls the kernel and converts back.
/// </summary>
public class ReferenceBackendTests
{
    private readonly ReferenceBackend backend = new();
    private readonly Rng rng = new(2024);

    private float[] RandomFloats(int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)rng.NextNormal();
        return values;
    }

    private Tensor RandomTensor(params int[] shape) =>
        Tensor.FromArray(backend, RandomFloats((int)Shape.Elements(shape)), shape);

    private static double[] ToDoubles(Tensor tensor) => tensor.ToArray().Select(value => (double)value).ToArray();

    private static float[] ToFloats(double[] values) => values.Select(value => (float)value).ToArray();

    [Fact]
    public void NameIsReference()
    {
        Assert.Equal("reference", backend.Name);
    }

    [Fact]
    public void UploadDownloadRoundTrip()
    {
        float[] values = [1.5f, -2f, 3.25f, float.MaxValue];
        using var tensor = Tensor.FromArray(backend, values, [2, 2]);

        Assert.Equal(values, tensor.ToArray());
    }

    [Fact]
    public void FillCopyAndAddInPlace()
    {
        using var a = Tensor.Full(backend, [3], 2f);
        using var b = Tensor.FromArray(backend, [1f, 2f, 3f], [3]);
        using var c = Tensor.Empty(backend, [1, 3]);

        backend.Copy(b, c);
        backend.AddInPlace(a, b);

        Assert.Equal([1f, 2f, 3f], c.ToArray());
        Assert.Equal([3f, 4f, 5f], a.ToArray());
    }

    [Fact]
    public void AddMayAliasOutput()
    {
        using var a = Tensor.FromArray(backend, [1f, 2f], [2]);
        using var b = Tensor.FromArray(backend, [10f, 20f], [2]);

        backend.Add(a, b, a);

        Assert.Equal([11f, 22f], a.ToArray());
    }

    [Fact]
    public void Conv2dMatchesKernel()
    {
        var geometry = new Conv2dGeometry(N: 2, C: 3, H: 6, W: 5, K: 4, R: 3, S: 3, StrideH: 2, StrideW: 1,
            PadH: 1, PadW: 1);
        using var input = RandomTensor(geometry.InputShape);
        using var weight = RandomTensor(geometry.WeightShape);
        using var bias = RandomTensor(geometry.K);
        using var output = Tensor.Empty(backend, geometry.OutputShape);
        using var gradOutput = RandomTensor(geometry.OutputShape);
        using var gradInput = Tensor.Empty(backend, geometry.InputShape);
        using var gradWeight = Tensor.Empty(backend, geometry.WeightShape);
        using var gradBias = Tensor.Empty(backend, [geometry.K]);

        backend.Conv2dForward(input, weight, bias, output, geometry);
        backend.Conv2dBackward(input, weight, gradOutput, gradInput, gradWeight, gradBias, geometry);

        var expectedOutput = new double[output.Length];
        Conv2dReference.Forward(ToDoubles(input), ToDoubles(weight), ToDoubles(bias), expectedOutput, geometry);
        var expectedInput = new double[gradInput.Length];
        var expectedWeight = new double[gradWeight.Length];
        var expectedBias = new double[gradBias.Length];
        Conv2dReference.Backward(ToDoubles(input), ToDoubles(weight), ToDoubles(gradOutput), expectedInput,
            expectedWeight, expectedBias, geometry);
        Assert.Equal(ToFloats(expectedOutput), output.ToArray());
        Assert.Equal(ToFloats(expectedInput), gradInput.ToArray());
        Assert.Equal(ToFloats(expectedWeight), gradWeight.ToArray());
        Assert.Equal(ToFloats(expectedBias), gradBias.ToArray());
        Assert.Contains(output.ToArray(), value => value != 0);
    }

    [Fact]
    public void LinearMatchesKernelWithoutBias()
    {
        using var input = RandomTensor(3, 7);
        using var weight = RandomTensor(5, 7);
        using var output = Tensor.Empty(backend, [3, 5]);
        using var gradOutput = RandomTensor(3, 5);
        using var gradWeight = Tensor.Empty(backend, [5, 7]);

        backend.LinearForward(input, weight, null, output);
        backend.LinearBackward(input, weight, gradOutput, null, gradWeight, null);

        var expectedOutput = new double[15];
        LinearReference.Forward(ToDoubles(input), ToDoubles(weight), null, expectedOutput, 3, 7, 5);
        var expectedWeight = new double[35];
        LinearReference.Backward(ToDoubles(input), ToDoubles(weight), ToDoubles(gradOutput), null, expectedWeight,
            null, 3, 7, 5);
        Assert.Equal(ToFloats(expectedOutput), output.ToArray());
        Assert.Equal(ToFloats(expectedWeight), gradWeight.ToArray());
    }

    [Fact]
    public void MaxPoolMatchesKernel()
    {
        var geometry = new Pool2dGeometry(N: 2, C: 3, H: 7, W: 6, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2,
            PadH: 1, PadW: 1);
        using var input = RandomTensor(2, 3, 7, 6);
        using var output = Tensor.Empty(backend, geometry.OutputShape);
        using var gradOutput = RandomTensor(geometry.OutputShape);
        using var gradInput = Tensor.Empty(backend, [2, 3, 7, 6]);

        backend.MaxPool2dForward(input, output, geometry);
        backend.MaxPool2dBackward(input, gradOutput, gradInput, geometry);

        var expectedOutput = new double[output.Length];
        PoolingReference.MaxPool2dForward(ToDoubles(input), expectedOutput, geometry);
        var expectedInput = new double[gradInput.Length];
        PoolingReference.MaxPool2dBackward(ToDoubles(input), ToDoubles(gradOutput), expectedInput, geometry);
        Assert.Equal(ToFloats(expectedOutput), output.ToArray());
        Assert.Equal(ToFloats(expectedInput), gradInput.ToArray());
    }

    [Fact]
    public void BatchNormTrainingUpdatesRunningStatistics()
    {
        const int c = 3;
        using var input = RandomTensor(4, c, 2, 2);
        using var weight = RandomTensor(c);
        using var bias = RandomTensor(c);
        using var output = Tensor.Empty(backend, [4, c, 2, 2]);
        using var saveMean = Tensor.Empty(backend, [c]);
        using var saveInvStd = Tensor.Empty(backend, [c]);
        using var runningMean = Tensor.Zeros(backend, [c]);
        using var runningVar = Tensor.Full(backend, [c], 1f);

        backend.BatchNorm2dForwardTraining(input, weight, bias, output, saveMean, saveInvStd, runningMean,
            runningVar, momentum: 0.1f, epsilon: 1e-5f);

        var expectedOutput = new double[output.Length];
        var expectedMean = new double[c];
        var expectedInvStd = new double[c];
        var expectedRunningMean = new double[c];
        var expectedRunningVar = Enumerable.Repeat(1.0, c).ToArray();
        BatchNormReference.ForwardTraining(ToDoubles(input), ToDoubles(weight), ToDoubles(bias), expectedOutput,
            expectedMean, expectedInvStd, expectedRunningMean, expectedRunningVar, 0.1f, 1e-5f, 4, c, 2, 2);
        Assert.Equal(ToFloats(expectedOutput), output.ToArray());
        Assert.Equal(ToFloats(expectedMean), saveMean.ToArray());
        Assert.Equal(ToFloats(expectedInvStd), saveInvStd.ToArray());
        Assert.Equal(ToFloats(expectedRunningMean), runningMean.ToArray());
        Assert.Equal(ToFloats(expectedRunningVar), runningVar.ToArray());
        Assert.Contains(runningMean.ToArray(), value => value != 0);
    }

    [Fact]
    public void DropoutMaskMatchesKernel()
    {
        using var input = RandomTensor(4, 50);
        using var output = Tensor.Empty(backend, [4, 50]);
        using var mask = Tensor.Empty(backend, [4, 50]);

        backend.DropoutForward(input, output, mask, 0.4f, seed: 99);

        var expectedOutput = new double[200];
        var expectedMask = new double[200];
        DropoutReference.Forward(ToDoubles(input), expectedOutput, expectedMask, 0.4f, 99);
        Assert.Equal(ToFloats(expectedOutput), output.ToArray());
        Assert.Equal(ToFloats(expectedMask), mask.ToArray());
    }

    [Fact]
    public void SoftmaxCrossEntropyMatchesKernel()
    {
        using var logits = RandomTensor(4, 6);
        using var labels = Tensor.FromArray(backend, [0f, 5f, 2f, 2f], [4]);
        using var loss = Tensor.Empty(backend, [1]);
        using var probabilities = Tensor.Empty(backend, [4, 6]);
        using var gradLoss = Tensor.Full(backend, [1], 1f);
        using var gradLogits = Tensor.Empty(backend, [4, 6]);

        backend.SoftmaxCrossEntropyForward(logits, labels, loss, probabilities, 0.1f);
        backend.SoftmaxCrossEntropyBackward(probabilities, labels, gradLoss, gradLogits, 0.1f);

        var expectedLoss = new double[1];
        var expectedProbabilities = new double[24];
        SoftmaxCrossEntropyReference.Forward(ToDoubles(logits), [0, 5, 2, 2], expectedLoss, expectedProbabilities,
            0.1f, 4, 6);
        var expectedGrad = new double[24];
        SoftmaxCrossEntropyReference.Backward(ToDoubles(probabilities), [0, 5, 2, 2], [1], expectedGrad, 0.1f, 4, 6);
        Assert.Equal((float)expectedLoss[0], loss.Item());
        Assert.Equal(ToFloats(expectedProbabilities), probabilities.ToArray());
        Assert.Equal(ToFloats(expectedGrad), gradLogits.ToArray());
    }

    [Fact]
    public void SgdStepWritesParameterAndBuffer()
    {
        using var parameter = Tensor.FromArray(backend, [1f], [1]);
        using var grad = Tensor.FromArray(backend, [0.5f], [1]);
        using var buffer = Tensor.Zeros(backend, [1]);

        backend.SgdStep(parameter, grad, buffer, 0.1f, 0.9f, 0f, 0.1f, nesterov: true, firstStep: true);

        // The hand computation of ReferenceKernelTests.SgdNesterovTwoStepsByHand, in float32.
        Assert.Equal(0.886f, parameter.Item(), 1e-6f);
        Assert.Equal(0.6f, buffer.Item(), 1e-6f);
    }

    [Fact]
    public void AdamStepWritesMoments()
    {
        using var parameter = Tensor.FromArray(backend, [1f, 1f], [2]);
        using var grad = Tensor.FromArray(backend, [2f, -4f], [2]);
        using var first = Tensor.Zeros(backend, [2]);
        using var second = Tensor.Zeros(backend, [2]);

        backend.AdamStep(parameter, grad, first, second, 0.01f, 0.9f, 0.999f, 1e-8f, 0f, false, step: 1);

        Assert.Equal([0.99f, 1.01f], parameter.ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal([0.2f, -0.4f], first.ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal([0.004f, 0.016f], second.ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void ConcatBackwardInfersOneNullEntry()
    {
        using var gradOutput = Tensor.FromArray(backend, [1f, 2f, 3f, 4f], [1, 4, 1, 1]);
        using var first = Tensor.Empty(backend, [1, 1, 1, 1]);
        using var last = Tensor.Empty(backend, [1, 1, 1, 1]);

        backend.ConcatChannelsBackward(gradOutput, [first, null, last]);

        // The null entry must have 4 − 1 − 1 = 2 channels, so the last entry is channel 3.
        Assert.Equal([1f], first.ToArray());
        Assert.Equal([4f], last.ToArray());
    }

    [Fact]
    public void ConcatBackwardAllowsTrailingNullEntries()
    {
        using var gradOutput = Tensor.FromArray(backend, [1f, 2f, 3f, 4f], [1, 4, 1, 1]);
        using var first = Tensor.Empty(backend, [1, 2, 1, 1]);

        backend.ConcatChannelsBackward(gradOutput, [first, null, null]);

        Assert.Equal([1f, 2f], first.ToArray());
    }

    [Fact]
    public void ConcatBackwardRejectsAmbiguousNullEntries()
    {
        using var gradOutput = Tensor.Zeros(backend, [1, 4, 1, 1]);
        using var last = Tensor.Empty(backend, [1, 1, 1, 1]);

        var error = Assert.Throws<ArgumentException>(() => backend.ConcatChannelsBackward(gradOutput,
            [null, null, last]));

        Assert.Contains("cannot be inferred", error.Message);
    }

    [Fact]
    public void ConcatMatchesKernel()
    {
        using var a = RandomTensor(2, 1, 2, 3);
        using var b = RandomTensor(2, 3, 2, 3);
        using var output = Tensor.Empty(backend, [2, 4, 2, 3]);

        backend.ConcatChannels([a, b], output);

        var expected = new double[output.Length];
        ChannelReference.ConcatForward([ToDoubles(a), ToDoubles(b)], expected, 2, [1, 3], 2, 3);
        Assert.Equal(ToFloats(expected), output.ToArray());
    }

    [Fact]
    public void Conv2dRejectsWrongWeightShape()
    {
        var geometry = new Conv2dGeometry(N: 1, C: 3, H: 5, W: 5, K: 4, R: 3, S: 3, StrideH: 1, StrideW: 1,
            PadH: 0, PadW: 0);
        using var input = Tensor.Zeros(backend, geometry.InputShape);
        using var weight = Tensor.Zeros(backend, [4, 2, 3, 3]);
        using var output = Tensor.Empty(backend, geometry.OutputShape);

        var error = Assert.Throws<ArgumentException>(() =>
            backend.Conv2dForward(input, weight, null, output, geometry));

        Assert.Contains("weight has shape (4, 2, 3, 3)", error.Message);
        Assert.Contains("(4, 3, 3, 3) is expected", error.Message);
    }

    [Fact]
    public void LinearRejectsMismatchedFeatures()
    {
        using var input = Tensor.Zeros(backend, [2, 3]);
        using var weight = Tensor.Zeros(backend, [4, 5]);
        using var output = Tensor.Empty(backend, [2, 4]);

        var error = Assert.Throws<ArgumentException>(() => backend.LinearForward(input, weight, null, output));

        Assert.Contains("(4, 5)", error.Message);
    }

    [Fact]
    public void GlobalPoolRejectsNonImageInput()
    {
        using var input = Tensor.Zeros(backend, [2, 3]);
        using var output = Tensor.Empty(backend, [2, 3, 1, 1]);

        var error = Assert.Throws<ArgumentException>(() => backend.GlobalAvgPoolForward(input, output));

        Assert.Contains("(2, 3)", error.Message);
    }

    [Fact]
    public void RejectsTensorOfAnotherBackend()
    {
        var other = new ReferenceBackend();
        using var foreign = Tensor.Zeros(other, [3]);
        using var output = Tensor.Empty(backend, [3]);

        var error = Assert.Throws<ArgumentException>(() => backend.ReluForward(foreign, output));

        Assert.Contains("Copy it over first", error.Message);
    }

    [Fact]
    public void MemoryIsCountedAndReused()
    {
        long before = backend.BytesInUse;
        var tensor = Tensor.Empty(backend, [10, 10]);
        long during = backend.BytesInUse;
        tensor.Dispose();
        long arraysCreated = backend.ArraysCreated;
        using var again = Tensor.Empty(backend, [100]);

        Assert.Equal(before + 400, during);
        Assert.True(backend.PeakBytesInUse >= during);
        Assert.Equal(arraysCreated, backend.ArraysCreated);
    }

    /// <summary>Compares floats within an absolute tolerance.</summary>
    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float value) => 0;
    }
}
