using FashionCuda.Backends.Reference;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Nn;

public class ModelSummaryTests
{
    [Fact]
    public void Trace_NamesSecondCallOfSharedMlp()
    {
        var model = new ChannelAttention(new ReferenceBackend(), new Rng(1), channels: 8, reduction: 2);
        var rows = ModelSummary.Trace(model, [1, 8, 4, 4]);
        var names = rows.Select(row => row.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains("mlp.0", names);
        Assert.Contains("mlp.0 (2nd call)", names);
        Assert.Equal(0, rows.Single(row => row.Name == "mlp.0 (2nd call)").Parameters);
        Assert.Equal(model.ParameterCount(), rows.Sum(row => row.Parameters));
    }
}
