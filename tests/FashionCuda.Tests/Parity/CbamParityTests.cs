using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Reference;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Tests.Parity;

/// <summary>
/// Compares a CBAM block, a BasicBlock with CBAM and a width-4 narrow ResNet with CBAM on each backend with
/// PyTorch 1.13, in training mode: outputs, input and parameter gradients, and the running statistics after the
/// pass. The expected values come from Fixtures/cbam.safetensors, written by tests/pytorch/make_cbam_fixtures.py.
/// </summary>
public sealed class CbamParityTests
{
    // A value passes when |actual − expected| ≤ atol + rtol·|expected|. Both sides round to float32. The smallest
    // ReLU input or max gap of the fixture's forward passes is 1.7e-5 (its decision_margin metadata), far above
    // those rounding differences. So no ReLU or max choice flips, and the gradients must match as closely as the
    // outputs. Measured on x86-64, the largest difference on either backend is 7.2e-6 (1.4e-6 relative), on a
    // BasicBlock conv gradient of size 5.
    private const float ForwardAbsolute = 1e-5f;
    private const float ForwardRelative = 1e-4f;
    private const float GradientAbsolute = 1e-5f;
    private const float GradientRelative = 1e-4f;

    private static readonly Lazy<ParityFixture> Expected = new(() => ParityFixture.Load(FileName, Generator));

    private const string FileName = "cbam.safetensors";
    private const string Generator = "tests/pytorch/make_cbam_fixtures.py";

    public static TheoryData<string> Backends => new() { "reference", "cpu" };

    [Theory]
    [MemberData(nameof(Backends))]
    public void CbamBlockMatchesPyTorch(string backendName)
    {
        using var backend = new ParityBackend(backendName);
        var block = new Cbam(backend.Backend, new Rng(0), 16,
            new CbamOptions { Mode = CbamMode.Both, Reduction = 4, KernelSize = 7 });
        CheckBlock(block, backend.Backend, "cbam.");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void BasicBlockWithCbamMatchesPyTorch(string backendName)
    {
        using var backend = new ParityBackend(backendName);
        var block = new BasicBlock(backend.Backend, new Rng(0), 8, 16, stride: 2,
            new CbamOptions { Mode = CbamMode.Both, Reduction = 4, KernelSize = 7 });
        Assert.NotNull(block.Downsample);
        CheckBlock(block, backend.Backend, "block.");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void NarrowResNetWithCbamMatchesPyTorch(string backendName)
    {
        const string prefix = "resnet.";
        using var backend = new ParityBackend(backendName);
        var options = ResNetOptions.Narrow(4) with
        {
            Cbam = new CbamOptions { Mode = CbamMode.Both, Reduction = 2, KernelSize = 3 },
            InputSize = 16,
        };
        var model = new ResNet(backend.Backend, new Rng(0), options);
        Load(model, prefix);
        var input = Expected.Value.Upload(backend.Backend, prefix + "input");
        var labels = Expected.Value.Upload(backend.Backend, prefix + "labels");

        model.ZeroGrad();
        var logits = model.Call(input);
        var loss = F.SoftmaxCrossEntropy(logits, labels);
        var mismatches = new List<string>();
        Collect(mismatches, prefix + "logits", logits.ToArray(), ForwardAbsolute, ForwardRelative);
        Collect(mismatches, prefix + "loss", [loss.Item()], ForwardAbsolute, ForwardRelative);
        loss.Backward();
        CollectParameterGradients(mismatches, model, prefix);
        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }

    /// <summary>
    /// Runs <paramref name="block"/> on the fixture's input with L = Σ output·G and compares the output, the
    /// gradients of the input and of every parameter, and the running statistics after the pass.
    /// </summary>
    private static void CheckBlock(Module block, IBackend backend, string prefix)
    {
        Load(block, prefix);
        var input = Expected.Value.Upload(backend, prefix + "input");
        input.RequiresGrad = true;
        var gradOutput = Expected.Value.Values(prefix + "grad_output");
        var weights = Tensor.FromArray(backend, gradOutput, [1, gradOutput.Length], persistent: true);

        block.ZeroGrad();
        var output = block.Call(input);
        Assert.Equal(Expected.Value.Shape(prefix + "output"), output.Dimensions);
        var mismatches = new List<string>();
        Collect(mismatches, prefix + "output", output.ToArray(), ForwardAbsolute, ForwardRelative);
        // L as a 1×1 linear layer whose weight is G, so the tape starts from a scalar and dOutput = G.
        F.Linear(F.Reshape(output, 1, -1), weights, null).Backward();
        Assert.NotNull(input.Grad);
        Collect(mismatches, prefix + "grad.input", input.Grad.ToArray(), GradientAbsolute, GradientRelative);
        CollectParameterGradients(mismatches, block, prefix);
        foreach (var (name, tensor) in block.StateDict())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal) ||
                name.EndsWith("running_var", StringComparison.Ordinal))
                Collect(mismatches, prefix + "updated." + name, tensor.ToArray(), ForwardAbsolute, ForwardRelative);
        }
        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }

    /// <summary>Loads the fixture's initial parameters and buffers under <paramref name="prefix"/>state.</summary>
    private static void Load(Module module, string prefix)
    {
        string statePrefix = prefix + "state.";
        var state = Expected.Value.Tensors
            .Where(entry => entry.Key.StartsWith(statePrefix, StringComparison.Ordinal))
            .ToDictionary(entry => entry.Key[statePrefix.Length..], entry => entry.Value);
        module.LoadStateDict(state, FileName);
    }

    private static void CollectParameterGradients(List<string> mismatches, Module module, string prefix)
    {
        foreach (var (name, parameter) in module.NamedParameters())
        {
            Assert.NotNull(parameter.Grad);
            string key = prefix + "grad." + name;
            Assert.True(Expected.Value.Values(key).Any(v => v != 0f), $"Fixture tensor {key} is all zeros.");
            Collect(mismatches, key, parameter.Grad.ToArray(), GradientAbsolute, GradientRelative);
        }
    }

    private static void Collect(List<string> mismatches, string key, float[] actual, float absolute,
        float relative)
    {
        if (Expected.Value.Compare(key, actual, absolute, relative) is { } mismatch)
            mismatches.Add(mismatch);
    }
}
