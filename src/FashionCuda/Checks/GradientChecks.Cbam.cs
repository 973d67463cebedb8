using FashionCuda.Autograd;
using FashionCuda.Backends.Reference;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Checks;

/// <summary>
/// A whole CBAM block (channel and spatial attention) on <see cref="ReferenceBackend"/>, through the autograd:
/// the tape's gradients of the input and of every parameter against central differences of L = Σ output·G.
/// </summary>
/// <remarks>
/// The tensors are float32, so each loss carries a rounding error of about 1e-7·Σ|output·G|, and the step must be
/// large enough that this error, divided by 2h, stays small: h = 1e-2 gives about 1e-4 of noise on the numeric
/// gradient. The truncation error of order h² is of the same size. The tolerance
/// <see cref="CbamAbsoluteTolerance"/> + <see cref="CbamRelativeTolerance"/>·|numeric| sits above both (the
/// largest error measured for seeds 1 and 12345 on x86-64 is 1.3e-4), yet a missing path of the graph (a
/// descriptor, the shared MLP's second call, the gate's own gradient) changes the affected gradients by far more.
/// </remarks>
public static partial class GradientChecks
{
    public const double CbamStep = 1e-2;

    public const double CbamAbsoluteTolerance = 5e-4;

    public const double CbamRelativeTolerance = 5e-3;

    private const int CbamBatch = 2, CbamChannels = 8, CbamSize = 6;

    private static IEnumerable<CheckResult> CheckCbam(Rng rng, string op)
    {
        var backend = new ReferenceBackend();
        var block = new Cbam(backend, rng, CbamChannels,
            new CbamOptions { Mode = CbamMode.Both, Reduction = 4, KernelSize = 7 });
        block.Train();
        int[] shape = [CbamBatch, CbamChannels, CbamSize, CbamSize];
        var inputValues = CbamInput(rng);
        var input = Tensor.FromArray(backend, ToFloat(inputValues), shape, persistent: true);
        var gradOutput = Normal(rng, inputValues.Length);
        var weights = Tensor.FromArray(backend, ToFloat(gradOutput), [1, gradOutput.Length], persistent: true);

        // Every tensor that moves in the check, with the host values that the loss uploads before each pass.
        var tensors = new List<(string Quantity, Tensor Tensor, double[] Values)> { ("dInput", input, inputValues) };
        foreach (var (name, parameter) in block.NamedParameters())
        {
            var values = CbamParameter(rng, name, (int)parameter.Length);
            backend.Upload(ToFloat(values), parameter);
            tensors.Add(("d " + name, parameter, values));
        }

        double Loss()
        {
            using var noGrad = GradMode.NoGrad();
            using var scope = new TensorScope();
            foreach (var (_, tensor, values) in tensors)
                backend.Upload(ToFloat(values), tensor);
            return Dot(ToDouble(block.Call(input).ToArray()), gradOutput);
        }

        // The analytic gradients: L as a 1×1 linear layer whose weight is G, so the tape starts from a scalar.
        var analytic = new Dictionary<string, double[]>();
        using (var scope = new TensorScope())
        {
            block.ZeroGrad();
            input.RequiresGrad = true;
            input.Grad = null;
            var output = block.Call(input);
            F.Linear(F.Reshape(output, 1, -1), weights, null).Backward();
            foreach (var (quantity, tensor, _) in tensors)
                analytic[quantity] = ToDouble(tensor.Grad!.ToArray());
            input.RequiresGrad = false;
        }

        foreach (var (quantity, _, values) in tensors)
            yield return Compare(op, quantity, values, analytic[quantity], Loss, CbamStep, CbamAbsoluteTolerance,
                CbamRelativeTolerance);
    }

    /// <summary>
    /// Input (N, C, H, W) whose maxima are far from ties. Each pixel of each image has one dominant channel with a
    /// value in [2, 2.5], distinct within that channel by steps of 0.1, and every other value lies in [−0.5, 0.5].
    /// The channel gates stay in [0.23, 0.77] (see <see cref="CbamParameter"/>), so after channel attention a
    /// dominant value is at least 0.46 and any other at most 0.39. The max over channels and the global max over
    /// H×W therefore keep their argmax under any step of h = 0.01.
    /// </summary>
    private static double[] CbamInput(Rng rng)
    {
        const int pixels = CbamSize * CbamSize;
        var values = new double[CbamBatch * CbamChannels * pixels];
        for (int i = 0; i < values.Length; i++)
            values[i] = rng.NextDouble() - 0.5;
        for (int n = 0; n < CbamBatch; n++)
        {
            // Pixel order[k] is dominated by channel k mod C, with rank k / C among that channel's dominant pixels.
            var order = Enumerable.Range(0, pixels).ToArray();
            rng.Shuffle(order.AsSpan());
            for (int k = 0; k < pixels; k++)
            {
                int channel = k % CbamChannels;
                values[(n * CbamChannels + channel) * pixels + order[k]] = 2.0 + 0.1 * (k / CbamChannels);
            }
        }
        return values;
    }

    /// <summary>
    /// Parameter values that keep the MLP's ReLU inputs and the channel gates in safe ranges. The descriptors are
    /// at most 2.5 in size, so with first-layer weights in ±0.01 a hidden pre-activation moves at most
    /// 8·0.01·2.5 = 0.2 away from its bias, whose size is in [0.5, 1]: it never crosses 0. Hidden units alternate
    /// between positive and negative biases, so both ReLU branches are checked. The gate's logit is at most
    /// 2·(2·0.2·1.2 + 0.1) = 1.16 in size, giving gates in [0.23, 0.77]. The spatial batch norm's weight is
    /// drawn in [0.5, 1.5] because its initial 0 would make the conv's gradient vanish.
    /// </summary>
    private static double[] CbamParameter(Rng rng, string name, int length)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
        {
            double u = 2 * rng.NextDouble() - 1;
            values[i] = name switch
            {
                "channel.mlp.0.weight" => 0.01 * u,
                "channel.mlp.0.bias" => (i % 2 == 0 ? 1 : -1) * (0.75 + 0.25 * u),
                "channel.mlp.2.weight" => 0.2 * u,
                "channel.mlp.2.bias" => 0.1 * u,
                "spatial.conv.weight" => 0.2 * rng.NextNormal(),
                "spatial.bn.weight" => 1 + 0.5 * u,
                "spatial.bn.bias" => 0.5 * u,
                _ => throw new InvalidOperationException($"The CBAM check has no values for parameter '{name}'."),
            };
        }
        return values;
    }

    private static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();

    private static double[] ToDouble(float[] values) => values.Select(v => (double)v).ToArray();
}
