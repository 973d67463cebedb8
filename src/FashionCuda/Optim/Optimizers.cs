using FashionCuda.Autograd;
using FashionCuda.Tensors;

namespace FashionCuda.Optim;

/// <summary>Updates a fixed list of parameters from their gradients; the learning rate is set per step.</summary>
public abstract class Optimizer
{
    protected Optimizer(IEnumerable<Tensor> parameters, float learningRate)
    {
        Parameters = parameters.ToList();
        if (Parameters.Count == 0)
            throw new ArgumentException("The optimizer got no parameters.");
        LearningRate = learningRate;
    }

    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The rate the next <see cref="Step"/> uses; a schedule sets it before each step.</summary>
    public float LearningRate { get; set; }

    /// <summary>Number of steps taken.</summary>
    public int StepCount { get; protected set; }

    public void ZeroGrad()
    {
        foreach (var parameter in Parameters)
        {
            if (parameter.Grad is null)
                parameter.Grad = Tensor.Zeros(parameter.Backend, parameter.Dimensions, persistent: true);
            else
                parameter.Backend.Fill(parameter.Grad, 0f);
        }
    }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        using var noGrad = GradMode.NoGrad();
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var parameter = Parameters[i];
            if (parameter.Grad is not null)
                Update(i, parameter, parameter.Grad);
        }
    }

    /// <summary>Named state tensors (momentum buffers, moments) for checkpoints, keyed by parameter index.</summary>
    public abstract IEnumerable<(string Name, Tensor Tensor)> State();

    protected abstract void Update(int index, Tensor parameter, Tensor grad);

    protected Tensor StateTensor(Tensor?[] slots, int index)
    {
        var parameter = Parameters[index];
        return slots[index] ??= Tensor.Zeros(parameter.Backend, parameter.Dimensions, persistent: true);
    }
}

/// <summary>Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD).</summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor?[] momentumBuffers;
    private readonly bool[] started;

    public Sgd(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, float dampening = 0f,
        float weightDecay = 0f, bool nesterov = false) : base(parameters, learningRate)
    {
        if (nesterov && (momentum <= 0f || dampening != 0f))
            throw new ArgumentException("Nesterov momentum needs momentum > 0 and dampening 0.");
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        momentumBuffers = new Tensor?[Parameters.Count];
        started = new bool[Parameters.Count];
    }

    public float Momentum { get; }

    public float Dampening { get; }

    public float WeightDecay { get; }

    public bool Nesterov { get; }

    public override IEnumerable<(string Name, Tensor Tensor)> State()
    {
        for (int i = 0; i < momentumBuffers.Length; i++)
        {
            if (momentumBuffers[i] is { } buffer)
                yield return ($"{i}.momentum_buffer", buffer);
        }
    }

    protected override void Update(int index, Tensor parameter, Tensor grad)
    {
        var buffer = Momentum == 0f ? null : StateTensor(momentumBuffers, index);
        parameter.Backend.SgdStep(parameter, grad, buffer, LearningRate, Momentum, Dampening, WeightDecay, Nesterov,
            firstStep: !started[index]);
        started[index] = true;
    }
}

/// <summary>
/// Adam (torch.optim.Adam), or AdamW when <c>decoupledWeightDecay</c> is set (torch.optim.AdamW, whose default
/// weight decay is 0.01).
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly Tensor?[] firstMoments;
    private readonly Tensor?[] secondMoments;
    private readonly int[] steps;

    public Adam(IEnumerable<Tensor> parameters, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0f, bool decoupledWeightDecay = false)
        : base(parameters, learningRate)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        DecoupledWeightDecay = decoupledWeightDecay;
        firstMoments = new Tensor?[Parameters.Count];
        secondMoments = new Tensor?[Parameters.Count];
        steps = new int[Parameters.Count];
    }

    public float Beta1 { get; }

    public float Beta2 { get; }

    public float Epsilon { get; }

    public float WeightDecay { get; }

    public bool DecoupledWeightDecay { get; }

    public override IEnumerable<(string Name, Tensor Tensor)> State()
    {
        for (int i = 0; i < firstMoments.Length; i++)
        {
            if (firstMoments[i] is { } m)
                yield return ($"{i}.exp_avg", m);
            if (secondMoments[i] is { } v)
                yield return ($"{i}.exp_avg_sq", v);
        }
    }

    protected override void Update(int index, Tensor parameter, Tensor grad)
    {
        steps[index]++;
        parameter.Backend.AdamStep(parameter, grad, StateTensor(firstMoments, index),
            StateTensor(secondMoments, index), LearningRate, Beta1, Beta2, Epsilon, WeightDecay,
            DecoupledWeightDecay, steps[index]);
    }
}
