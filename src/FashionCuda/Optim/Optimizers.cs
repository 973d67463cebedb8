using FashionCuda.Autograd;
using FashionCuda.Tensors;

namespace FashionCuda.Optim;

/// <summary>Updates a fixed list of parameters from their gradients; the learning rate is set per step.</summary>
public abstract class Optimizer
{
    private readonly int[] parameterSteps; // updates taken by each parameter

    protected Optimizer(IEnumerable<Tensor> parameters, float learningRate)
    {
        Parameters = parameters.ToList();
        if (Parameters.Count == 0)
            throw new ArgumentException("The optimizer got no parameters.");
        LearningRate = learningRate;
        parameterSteps = new int[Parameters.Count];
    }

    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The rate the next <see cref="Step"/> uses; a schedule sets it before each step.</summary>
    public float LearningRate { get; set; }

    /// <summary>Number of steps taken.</summary>
    public int StepCount { get; private set; }

    /// <summary>
    /// Kind of optimizer written in saved state ("sgd", "adam" or "adamw"), so state is never loaded into another
    /// kind.
    /// </summary>
    public abstract string Kind { get; }

    public void ZeroGrad() => GradMode.ZeroGrad(Parameters);

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        using var noGrad = GradMode.NoGrad();
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var parameter = Parameters[i];
            if (parameter.Grad is null)
                continue;
            parameterSteps[i]++;
            Update(i, parameter, parameter.Grad);
        }
    }

    /// <summary>
    /// Named state tensors (momentum buffers, moments) for checkpoints, keyed by parameter index as in
    /// torch.optim's state_dict: <c>0.momentum_buffer</c>, <c>3.exp_avg</c>. Slots not used yet are left out.
    /// </summary>
    public IEnumerable<(string Name, Tensor Tensor)> State()
    {
        foreach (var (suffix, slots) in StateSlots)
        {
            for (int i = 0; i < slots.Length; i++)
            {
                if (slots[i] is { } tensor)
                    yield return ($"{i}.{suffix}", tensor);
            }
        }
    }

    /// <summary>Copies the whole state (tensors and step counts) to the host, for a checkpoint.</summary>
    public OptimizerState SaveState()
    {
        var tensors = new Dictionary<string, (int[] Shape, float[] Values)>();
        foreach (var (name, tensor) in State())
            tensors[name] = ((int[])tensor.Dimensions.Clone(), tensor.ToArray());
        return new OptimizerState(Kind, StepCount, (int[])parameterSteps.Clone(), tensors);
    }

    /// <summary>
    /// Restores what <see cref="SaveState"/> returned, so the next <see cref="Step"/> continues exactly where the
    /// saved optimizer stopped. Every tensor must belong to a parameter of the same shape; a mismatch throws
    /// <see cref="FormatException"/> naming <paramref name="source"/>, before anything is changed.
    /// </summary>
    public void LoadState(OptimizerState state, string source)
    {
        if (state.Kind != Kind)
            throw new FormatException(
                $"{source} contains {state.Kind} optimizer state, but the run uses {Kind}; resume with the same " +
                "optimizer.");
        if (state.ParameterSteps.Length != Parameters.Count)
            throw new FormatException(
                $"{source} contains state for {state.ParameterSteps.Length} parameters, but the model has " +
                $"{Parameters.Count}.");
        var slotsBySuffix = StateSlots.ToDictionary(entry => entry.Suffix, entry => entry.Slots);
        var parsed = new List<(Tensor?[] Slots, int Index, float[] Values)>();
        foreach (var (name, (shape, values)) in state.Tensors)
        {
            int dot = name.IndexOf('.');
            if (dot <= 0 || !int.TryParse(name.AsSpan(0, dot), out int index) || index < 0 ||
                index >= Parameters.Count || !slotsBySuffix.TryGetValue(name[(dot + 1)..], out var slots))
                throw new FormatException($"{source} has optimizer state '{name}' that {Kind} does not use.");
            if (!Shape.Equal(shape, Parameters[index].Dimensions))
                throw new FormatException(
                    $"{source}: optimizer state '{name}' has shape {Shape.Format(shape)} but parameter {index} is " +
                    $"{Shape.Format(Parameters[index].Dimensions)}.");
            parsed.Add((slots, index, values));
        }
        foreach (var (_, slots) in StateSlots)
            Array.Clear(slots);
        foreach (var (slots, index, values) in parsed)
        {
            var tensor = StateTensor(slots, index);
            tensor.Backend.Upload(values, tensor);
        }
        state.ParameterSteps.CopyTo(parameterSteps, 0);
        StepCount = state.StepCount;
    }

    /// <summary>Updates taken by each parameter; 1 during its first update.</summary>
    protected IReadOnlyList<int> ParameterSteps => parameterSteps;

    /// <summary>The optimizer's per-parameter state tensors, by the suffix of their state names.</summary>
    protected abstract IReadOnlyList<(string Suffix, Tensor?[] Slots)> StateSlots { get; }

    protected abstract void Update(int index, Tensor parameter, Tensor grad);

    protected Tensor StateTensor(Tensor?[] slots, int index)
    {
        var parameter = Parameters[index];
        return slots[index] ??= Tensor.Zeros(parameter.Backend, parameter.Dimensions, persistent: true);
    }
}

/// <summary>
/// A host copy of an optimizer's state: its kind, step counts and state tensors named as
/// <see cref="Optimizer.State"/> names them.
/// </summary>
public sealed record OptimizerState(string Kind, int StepCount, int[] ParameterSteps,
    IReadOnlyDictionary<string, (int[] Shape, float[] Values)> Tensors);

/// <summary>Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD).</summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor?[] momentumBuffers;

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
    }

    public override string Kind => "sgd";

    public float Momentum { get; }

    public float Dampening { get; }

    public float WeightDecay { get; }

    public bool Nesterov { get; }

    protected override IReadOnlyList<(string Suffix, Tensor?[] Slots)> StateSlots =>
        [("momentum_buffer", momentumBuffers)];

    protected override void Update(int index, Tensor parameter, Tensor grad)
    {
        var buffer = Momentum == 0f ? null : StateTensor(momentumBuffers, index);
        parameter.Backend.SgdStep(parameter, grad, buffer, LearningRate, Momentum, Dampening, WeightDecay, Nesterov,
            firstStep: ParameterSteps[index] == 1);
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
    }

    public override string Kind => DecoupledWeightDecay ? "adamw" : "adam";

    public float Beta1 { get; }

    public float Beta2 { get; }

    public float Epsilon { get; }

    public float WeightDecay { get; }

    public bool DecoupledWeightDecay { get; }

    protected override IReadOnlyList<(string Suffix, Tensor?[] Slots)> StateSlots =>
        [("exp_avg", firstMoments), ("exp_avg_sq", secondMoments)];

    protected override void Update(int index, Tensor parameter, Tensor grad)
    {
        parameter.Backend.AdamStep(parameter, grad, StateTensor(firstMoments, index),
            StateTensor(secondMoments, index), LearningRate, Beta1, Beta2, Epsilon, WeightDecay,
            DecoupledWeightDecay, ParameterSteps[index]);
    }
}
