using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Reference;
using FashionCuda.Models;
using FashionCuda.Optim;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Tests.Parity;

/// <summary>
/// Compares AlexNet-FM (width 4, 32 hidden features, no dropout) on each backend with PyTorch 1.13 on 8
/// Fashion-MNIST images: logits, loss, every parameter gradient and 5 steps of SGD with momentum. The
/// expected values come from Fixtures/alexnet_fm_w4.safetensors, written by tests/pytorch/make_alexnet_fixtures.py.
/// </summary>
public sealed class AlexNetParityTests
{
    // A value passes when |actual − expected| ≤ atol + rtol·|expected|. PyTorch and the CPU backend compute in
    // float32 and the reference backend in double, so results differ only by the rounding of sums of up to 216
    // products per conv output and 144 per linear output. That is an estimated few 1e-7 relative, well inside
    // rtol. The smallest ReLU input or max-pool gap of the fixture's forward pass is 2.3e-5 (its decision_margin
    // metadata), so a rounding difference cannot flip a ReLU or a pooling choice, and the gradients must match
    // as closely as the logits. Measured on x86-64, the largest differences on logits and gradients are 1.4e-7
    // and 4e-8 on the reference backend, and 1.7e-7 and 5e-8 on the CPU backend.
    private const float ForwardAbsolute = 1e-5f;
    private const float ForwardRelative = 1e-4f;
    private const float GradientAbsolute = 1e-5f;
    private const float GradientRelative = 1e-4f;

    // The rounding differences of the 5 steps add up, but the steps are small (no parameter moves by more than
    // 0.08 in total), so the accumulated difference stays at the scale of the forward tolerance. Measured on
    // both backends: at most 2.4e-7 off on the losses.
    private const float SgdAbsolute = 1e-5f;
    private const float SgdRelative = 1e-4f;

    private const float LearningRate = 0.05f;
    private const float Momentum = 0.9f;
    private const float WeightDecay = 5e-4f;
    private const int SgdSteps = 5;

    private const string FixtureFile = "alexnet_fm_w4.safetensors";

    private static readonly Lazy<ParityFixture> Expected =
        new(() => ParityFixture.Load(FixtureFile, "tests/pytorch/make_alexnet_fixtures.py"));

    public static TheoryData<string> Backends => new() { "reference", "cpu" };

    [Theory]
    [MemberData(nameof(Backends))]
    public void ForwardMatchesPyTorch(string backendName)
    {
        using var backend = new ParityBackend(backendName);
        var model = CreateModel(backend.Backend);
        var input = Expected.Value.Upload(backend.Backend, "input");
        var labels = Expected.Value.Upload(backend.Backend, "labels");

        float[] logits;
        float loss;
        using (GradMode.NoGrad())
        {
            var output = model.Call(input);
            Assert.Equal(Expected.Value.Shape("logits"), output.Dimensions);
            logits = output.ToArray();
            loss = F.SoftmaxCrossEntropy(output, labels).Item();
        }

        AssertClose("logits", Expected.Value, "logits", logits, ForwardAbsolute, ForwardRelative);
        AssertClose("loss", Expected.Value, "loss", [loss], ForwardAbsolute, ForwardRelative);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void GradientsMatchPyTorch(string backendName)
    {
        using var backend = new ParityBackend(backendName);
        var model = CreateModel(backend.Backend);
        var input = Expected.Value.Upload(backend.Backend, "input");
        var labels = Expected.Value.Upload(backend.Backend, "labels");

        model.ZeroGrad();
        var loss = F.SoftmaxCrossEntropy(model.Call(input), labels);
        loss.Backward();

        // Every parameter is compared before the test fails, so the message shows which layers disagree.
        var mismatches = new List<string>();
        foreach (var (name, parameter) in model.NamedParameters())
        {
            Assert.NotNull(parameter.Grad);
            string key = "grad." + name;
            Assert.True(Expected.Value.Values(key).Any(v => v != 0f), $"Fixture tensor {key} is all zeros.");
            if (Expected.Value.Compare(key, parameter.Grad.ToArray(), GradientAbsolute, GradientRelative)
                is { } mismatch)
                mismatches.Add(mismatch);
        }
        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SgdMomentumMatchesPyTorch(string backendName)
    {
        using var backend = new ParityBackend(backendName);
        var model = CreateModel(backend.Backend);
        var input = Expected.Value.Upload(backend.Backend, "input");
        var labels = Expected.Value.Upload(backend.Backend, "labels");
        var optimizer = new Sgd(model.Parameters(), LearningRate, Momentum, dampening: 0f, WeightDecay,
            nesterov: false);

        // Each step measures the loss before updating, as the fixture's torch.optim.SGD loop does.
        var losses = new float[SgdSteps];
        for (int step = 0; step < SgdSteps; step++)
        {
            using var scope = new TensorScope();
            optimizer.ZeroGrad();
            var loss = F.SoftmaxCrossEntropy(model.Call(input), labels);
            losses[step] = loss.Item();
            loss.Backward();
            optimizer.Step();
        }

        AssertClose("losses of the SGD steps", Expected.Value, "sgd_losses", losses, SgdAbsolute, SgdRelative);
        var parameters = model.NamedParameters().ToDictionary(entry => entry.Name, entry => entry.Parameter);
        var finalNames = Expected.Value.Tensors.Keys.Where(n => n.StartsWith("sgd_final.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(finalNames);
        var mismatches = new List<string>();
        foreach (string key in finalNames)
        {
            var parameter = parameters[key["sgd_final.".Length..]];
            if (Expected.Value.Compare(key, parameter.ToArray(), SgdAbsolute, SgdRelative) is { } mismatch)
                mismatches.Add(mismatch);
        }
        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }

    /// <summary>Builds the fixture's model on <paramref name="backend"/> and loads the PyTorch parameters.</summary>
    private static AlexNetFm CreateModel(IBackend backend)
    {
        // The seed only sets the initial values, which LoadStateDict overwrites.
        var model = new AlexNetFm(backend, new Rng(0),
            new AlexNetFmOptions { Width = 4, HiddenFeatures = 32, Dropout = 0f });
        var stateNames = model.StateDict().Select(entry => entry.Name).ToHashSet();
        var state = Expected.Value.Tensors
            .Where(entry => stateNames.Contains(entry.Key))
            .ToDictionary(entry => entry.Key, entry => entry.Value);
        model.LoadStateDict(state, FixtureFile);
        return model;
    }

    private static void AssertClose(string what, ParityFixture fixture, string key, float[] actual, float absolute,
        float relative)
    {
        string? mismatch = fixture.Compare(key, actual, absolute, relative);
        Assert.True(mismatch is null, $"{what}: {mismatch}");
    }
}
