using System.Security.Cryptography;
using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Reference;
using FashionCuda.Data;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Tests.Interop;

/// <summary>
/// Checks the engine against tests/pytorch/load_checkpoint.py, which loaded the committed checkpoint into
/// torch.nn (strict state-dict names and shapes) and stored the logits of 8 Fashion-MNIST test images.
/// </summary>
public sealed class PyTorchInteropTests
{
    // Float32 logits of a 5-conv network computed by two libraries with different summation orders.
    private const float AbsoluteTolerance = 1e-4f;
    private const float RelativeTolerance = 1e-4f;

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static readonly string CheckpointPath = Fixture("interop_alexnet_fm_bn.safetensors");
    private static readonly string LogitsPath = Fixture("interop_alexnet_fm_bn_logits.safetensors");

    [Fact]
    public void Fixture_WasMadeFromThisCheckpoint()
    {
        var (_, metadata) = SafeTensors.Read(LogitsPath);

        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(CheckpointPath)));

        Assert.Equal(hash, metadata["checkpoint_sha256"]);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("reference")]
    public void Checkpoint_ReproducesPyTorchLogits(string device)
    {
        IBackend backend = device == "cpu" ? new CpuBackend() : new ReferenceBackend();
        var loaded = Checkpoint.Load(CheckpointPath, backend);
        var (tensors, _) = SafeTensors.Read(LogitsPath);
        var (inputShape, input) = tensors["input"];
        var expected = tensors["logits"].Values;

        loaded.Model.Eval();
        float[] actual;
        using (GradMode.NoGrad())
        using (new TensorScope())
            actual = loaded.Model.Call(Tensor.FromArray(backend, input, inputShape)).ToArray();

        Assert.Equal(expected.Length, actual.Length);
        Assert.Contains(expected, value => Math.Abs(value) > 0.1f);
        for (int i = 0; i < expected.Length; i++)
        {
            float tolerance = AbsoluteTolerance + RelativeTolerance * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"logit {i}: PyTorch {expected[i]}, engine {actual[i]}");
        }
    }

    [Fact]
    public void Normalization_MatchesThePyTorchInput()
    {
        var loaded = Checkpoint.Load(CheckpointPath, new CpuBackend());
        var (tensors, _) = SafeTensors.Read(LogitsPath);
        var expected = tensors["input"].Values;
        string root = FashionMnist.FindRepositoryRoot(AppContext.BaseDirectory)!;
        var test = FashionMnist.LoadFrom(Path.Combine(root, "data", "fashion-mnist")).Test;
        var pipeline = new ImagePipeline(AugmentationOptions.None, loaded.Normalization, 28, 28);

        var actual = new float[8 * 28 * 28];
        for (int i = 0; i < 8; i++)
            pipeline.Apply(test.Image(i), actual.AsSpan(i * 784, 784), default);

        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f,
                $"pixel {i}: PyTorch {expected[i]}, engine {actual[i]}");
    }
}
