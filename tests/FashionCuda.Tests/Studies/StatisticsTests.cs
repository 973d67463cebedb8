using FashionCuda.Studies;

namespace FashionCuda.Tests.Studies;

public class StatisticsTests
{
    [Fact]
    public void Mean_OfValues()
    {
        Assert.Equal(2.5, Statistics.Mean([1, 2, 3, 4]), 12);
        Assert.Throws<ArgumentException>(() => Statistics.Mean([]));
    }

    [Fact]
    public void StandardDeviation_UsesSampleDivisor()
    {
        // Squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, divided by n − 1 = 3.
        Assert.Equal(Math.Sqrt(5.0 / 3.0), Statistics.StandardDeviation([1, 2, 3, 4]), 12);
        Assert.Equal(0.0, Statistics.StandardDeviation([0.9, 0.9, 0.9]), 12);
        Assert.True(double.IsNaN(Statistics.StandardDeviation([0.9])));
    }

    [Fact]
    public void StandardErrorOfDifference_CombinesBothSamples()
    {
        // s_a² = 1/3·5 over n = 4, s_b² = 2 over n = 2 (values 1 and 3).
        double expected = Math.Sqrt(5.0 / 3.0 / 4 + 2.0 / 2);
        Assert.Equal(expected, Statistics.StandardErrorOfDifference([1, 2, 3, 4], [1, 3]), 12);
        Assert.True(double.IsNaN(Statistics.StandardErrorOfDifference([1], [1, 3])));
    }
}
