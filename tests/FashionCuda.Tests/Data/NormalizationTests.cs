using FashionCuda.Data;

namespace FashionCuda.Tests.Data;

public sealed class NormalizationTests
{
    [Fact]
    public void ComputeGivesMeanAndPopulationStd()
    {
        var dataset = new ImageDataset([0, 255, 0, 255, 0, 255, 0, 255], [0, 1], 2, 2);

        Normalization normalization = Normalization.Compute(dataset);

        Assert.Equal(0.5f, normalization.Mean);
        Assert.Equal(0.5f, normalization.Std);
        Assert.Equal(-1f, normalization.Apply(0));
        Assert.Equal(1f, normalization.Apply(255));
    }

    [Fact]
    public void ComputeRejectsConstantImages()
    {
        var dataset = new ImageDataset([7, 7, 7, 7], [0], 2, 2);

        Assert.Throws<ArgumentException>(() => Normalization.Compute(dataset));
    }
}
