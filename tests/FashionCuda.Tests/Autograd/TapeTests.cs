using FashionCuda.Autograd;
using FashionCuda.Backends.Reference;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Autograd;

public class TapeTests
{
    private readonly ReferenceBackend backend = new();

    private Tensor Leaf(float[] values, int[] shape)
    {
        var tensor = Tensor.FromArray(backend, values, shape);
        tensor.RequiresGrad = true;
        return tensor;
    }

    private Tensor SumOf(Tensor x)
    {
        // A scalar from any tensor: cross-entropy is not a sum, so use a linear layer with unit weights.
        var flat = F.Reshape(x, 1, -1);
        var ones = Tensor.Full(backend, [1, (int)x.Length], 1f);
        return F.Linear(flat, ones, null);
    }

    [Fact]
    public void Backward_GradientOfSharedInputAccumulates()
    {
        var x = Leaf([1, -2, 3, 4], [1, 1, 2, 2]);
        SumOf(F.Add(x, x)).Backward();
        Assert.Equal([2f, 2, 2, 2], x.Grad!.ToArray());
    }

    [Fact]
    public void Backward_AddGradientReachesLeavesThroughRelu()
    {
        // The add hands its gradient to relu(x) and to y. In the second graph relu(x) is added twice, so its
        // gradient is a sum of two.
        var x = Leaf([1, -2, 3, 4], [1, 1, 2, 2]);
        var y = Leaf([5, 6, 7, 8], [1, 1, 2, 2]);
        SumOf(F.Add(F.Relu(x), y)).Backward();
        Assert.Equal([1f, 0, 1, 1], x.Grad!.ToArray());
        Assert.Equal([1f, 1, 1, 1], y.Grad!.ToArray());

        var x2 = Leaf([1, -2, 3, 4], [1, 1, 2, 2]);
        var relu = F.Relu(x2);
        SumOf(F.Add(F.Add(relu, y), relu)).Backward();
        Assert.Equal([2f, 0, 2, 2], x2.Grad!.ToArray());
        Assert.Equal([2f, 2, 2, 2], y.Grad!.ToArray());
    }

    [Fact]
    public void Backward_AccumulatesAcrossCalls()
    {
        var x = Leaf([1, 2], [1, 1, 1, 2]);
        SumOf(x).Backward();
        SumOf(x).Backward();
        Assert.Equal([2f, 2], x.Grad!.ToArray());
    }

    [Fact]
    public void Backward_ClearsTheTape()
    {
        var x = Leaf([1, 2], [1, 1, 1, 2]);
        var loss = SumOf(F.Relu(x));
        Assert.True(Tape.Current.Count >= 2);
        loss.Backward();
        Assert.Equal(0, Tape.Current.Count);
    }

    [Fact]
    public void Backward_RejectsNonScalar()
    {
        var x = Leaf([1, 2], [1, 1, 1, 2]);
        var y = F.Relu(x);
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("scalar", error.Message);
        Tape.Current.Clear();
    }

    [Fact]
    public void NoGrad_RecordsNothing()
    {
        var x = Leaf([1, 2], [1, 1, 1, 2]);
        int before = Tape.Current.Count;
        Tensor y;
        using (GradMode.NoGrad())
            y = F.Relu(x);
        Assert.Equal(before, Tape.Current.Count);
        Assert.False(y.RequiresGrad);
        Assert.True(GradMode.IsGradEnabled);
    }

    [Fact]
    public void Backward_ChainRuleThroughReshapeAndMultiply()
    {
        // loss = Σ relu(a) · b with a = [1, -2, 3, 4] and b = [5, 6, 7, 8] per pixel.
        var a = Leaf([1, -2, 3, 4], [1, 1, 2, 2]);
        var b = Leaf([5, 6, 7, 8], [1, 1, 2, 2]);
        SumOf(F.Multiply(F.Relu(a), b)).Backward();
        Assert.Equal([5f, 0, 7, 8], a.Grad!.ToArray());
        Assert.Equal([1f, 0, 3, 4], b.Grad!.ToArray());
    }

    [Fact]
    public void ZeroGrad_ClearsParameterGradients()
    {
        var layer = new Linear(backend, new Rng(3), 3, 2);
        var input = Tensor.FromArray(backend, [1, 2, 3], [1, 3]);
        layer.ZeroGrad();
        SumOf4(layer.Call(input)).Backward();
        Assert.Contains(layer.Weight.Grad!.ToArray(), v => v != 0f);
        layer.ZeroGrad();
        Assert.All(layer.Weight.Grad!.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(layer.Bias!.Grad!.ToArray(), v => Assert.Equal(0f, v));
    }

    private Tensor SumOf4(Tensor x) => SumOf(F.Reshape(x, 1, 1, 1, -1));

    [Fact]
    public void Scope_ReturnsBuffersToThePool()
    {
        var parameter = Leaf([1, 2, 3, 4], [1, 1, 2, 2]);
        long before = backend.BytesInUse;
        using (new TensorScope())
        {
            var loss = SumOf(F.Relu(F.Add(parameter, parameter)));
            loss.Backward();
            Assert.True(backend.BytesInUse > before);
        }
        // The leaf is not persistent, so its gradient, made inside the scope, went back to the pool as well.
        Assert.Equal(before, backend.BytesInUse);
    }

    [Fact]
    public void Dropout_SameSeedSameMaskAndIdentityInEval()
    {
        var x = Tensor.Full(backend, [1, 1, 4, 8], 1f);
        var first = F.Dropout(x, 0.5f, training: true, seed: 42).ToArray();
        var second = F.Dropout(x, 0.5f, training: true, seed: 42).ToArray();
        var other = F.Dropout(x, 0.5f, training: true, seed: 43).ToArray();
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
        Assert.All(first, v => Assert.True(v == 0f || v == 2f));
        Assert.Same(x, F.Dropout(x, 0.5f, training: false, seed: 42));
    }
}
