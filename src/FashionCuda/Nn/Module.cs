using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Tensors;

namespace FashionCuda.Nn;

/// <summary>
/// A layer or a network of layers. Parameters, buffers (such as running_mean) and submodules are registered
/// by name, so state names follow PyTorch's dotted form: <c>features.0.weight</c>.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Tensor)> parameters = new();
    private readonly List<(string Name, Tensor Tensor)> buffers = new();
    private readonly List<(string Name, Module Module)> children = new();

    /// <summary>Whether the module is in training mode (batch statistics, active dropout).</summary>
    public bool Training { get; private set; } = true;

    public IReadOnlyList<(string Name, Module Module)> Children => children;

    /// <summary>Computes the output for <paramref name="input"/>. Callers use <see cref="Call"/>.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>
    /// Runs <see cref="Forward"/> and reports the call to an active <see cref="ModuleTrace"/>: every leaf module,
    /// and a module with submodules when <see cref="RunsOwnOps"/> is set.
    /// </summary>
    public Tensor Call(Tensor input)
    {
        var trace = ModuleTrace.Current;
        if (trace is null || (children.Count > 0 && !RunsOwnOps))
            return Forward(input);
        int firstRecord = trace.Records.Count;
        var start = trace.Begin(this, input);
        var output = Forward(input);
        trace.End(this, input, output, start, firstRecord);
        return output;
    }

    /// <summary>
    /// Floating-point operations of one forward pass (a multiply-add counts as 2) for these shapes. A module with
    /// submodules counts only the ops it runs itself, such as a gating product or a residual addition.
    /// </summary>
    public virtual long ForwardFlops(int[] inputShape, int[] outputShape) => 0;

    /// <summary>
    /// Whether this module, although it has submodules, runs ops of its own that a trace should record (CBAM's
    /// pooling and gating, a residual addition). Its record then follows those of its submodules.
    /// </summary>
    protected virtual bool RunsOwnOps => false;

    /// <summary>Short description of the layer's settings for summaries, e.g. "3×3, stride 1, pad 1".</summary>
    public virtual string Describe() => "";

    public void Train(bool training = true)
    {
        Training = training;
        foreach (var (_, child) in children)
            child.Train(training);
    }

    public void Eval() => Train(false);

    /// <summary>Every parameter with its dotted name, depth first in registration order.</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (name, tensor) in parameters)
            yield return (prefix + name, tensor);
        foreach (var (name, child) in children)
        {
            foreach (var entry in child.NamedParameters(prefix + name + "."))
                yield return entry;
        }
    }

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(entry => entry.Parameter);

    /// <summary>Parameters and buffers with their dotted names: what a checkpoint stores.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateDict(string prefix = "")
    {
        foreach (var (name, tensor) in parameters)
            yield return (prefix + name, tensor);
        foreach (var (name, tensor) in buffers)
            yield return (prefix + name, tensor);
        foreach (var (name, child) in children)
        {
            foreach (var entry in child.StateDict(prefix + name + "."))
                yield return entry;
        }
    }

    /// <summary>Every module below this one, with dotted names; the root itself is not included.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        foreach (var (name, child) in children)
        {
            yield return (prefix + name, child);
            foreach (var entry in child.NamedModules(prefix + name + "."))
                yield return entry;
        }
    }

    public long ParameterCount() => Parameters().Sum(p => p.Length);

    /// <summary>Number of parameters of this module alone, without submodules.</summary>
    public long OwnParameterCount() => parameters.Sum(p => p.Tensor.Length);

    /// <summary>Clears every parameter gradient to zero (or allocates it as zeros).</summary>
    public void ZeroGrad() => GradMode.ZeroGrad(Parameters());

    /// <summary>Copies host values into parameters and buffers by name; every name must match in shape.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, (int[] Shape, float[] Values)> state, string source)
    {
        var expected = StateDict().ToList();
        var missing = expected.Where(e => !state.ContainsKey(e.Name)).Select(e => e.Name).ToList();
        if (missing.Count > 0)
            throw new FormatException(
                $"{source} has no tensor named {string.Join(", ", missing.Take(5))}, so it was saved from another " +
                "model; pass the checkpoint that matches the config.");
        var known = expected.Select(e => e.Name).ToHashSet();
        var unexpected = state.Keys.Where(k => !known.Contains(k)).ToList();
        if (unexpected.Count > 0)
            throw new FormatException(
                $"{source} has tensors this model does not: {string.Join(", ", unexpected.Take(5))}.");
        foreach (var (name, tensor) in expected)
        {
            var (shape, values) = state[name];
            if (!Shape.Equal(shape, tensor.Dimensions))
                throw new FormatException(
                    $"{source}: '{name}' has shape {Shape.Format(shape)} but the model expects " +
                    $"{Shape.Format(tensor.Dimensions)}.");
            tensor.Backend.Upload(values, tensor);
        }
    }

    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        tensor.RequiresGrad = true;
        tensor.Name = name;
        parameters.Add((name, tensor));
        return tensor;
    }

    protected Tensor RegisterBuffer(string name, Tensor tensor)
    {
        tensor.Name = name;
        buffers.Add((name, tensor));
        return tensor;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        children.Add((name, module));
        return module;
    }

    /// <summary>Creates a persistent tensor from host values: parameters start on the host and are uploaded.</summary>
    protected static Tensor Upload(IBackend backend, float[] values, int[] shape) =>
        Tensor.FromArray(backend, values, shape, persistent: true);
}

/// <summary>
/// Records each leaf module's call while open: output shape, parameters, FLOPs, elapsed time and the tape
/// entries the call added. Used by <c>summary</c>, per-layer timing and <c>inspect</c>.
/// </summary>
public sealed class ModuleTrace : IDisposable
{
    [ThreadStatic] private static ModuleTrace? current;

    private readonly ModuleTrace? parent;
    private readonly HashSet<Module> seen = new(ReferenceEqualityComparer.Instance);

    /// <param name="keepOutputs">
    /// Keep each call's output tensor in <see cref="Record.Output"/>; it stays valid only while the tensor scope
    /// that made it is open.
    /// </param>
    public ModuleTrace(bool keepOutputs = false)
    {
        KeepOutputs = keepOutputs;
        parent = current;
        current = this;
    }

    internal static ModuleTrace? Current => current;

    public bool KeepOutputs { get; }

    public List<Record> Records { get; } = new();

    internal Start Begin(Module module, Tensor input) =>
        new(System.Diagnostics.Stopwatch.GetTimestamp(), Autograd.Tape.Current.Count);

    /// <summary>
    /// Records a call that began at <paramref name="start"/>. The records added since <paramref name="firstRecord"/>
    /// belong to submodules, so their time is taken out and each record keeps only the module's own time.
    /// </summary>
    /// <remarks>A module called more than once (CBAM's shared MLP) reports its parameters on its first call only,
    /// so the parameters of the records add up to the model's.</remarks>
    internal void End(Module module, Tensor input, Tensor output, Start start, int firstRecord)
    {
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start.Timestamp);
        int tapeEnd = Autograd.Tape.Current.Count;
        var ownRanges = new List<(int Start, int End)>();
        int cursor = start.TapeCount;
        for (int i = firstRecord; i < Records.Count; i++)
        {
            elapsed -= Records[i].Elapsed;
            // Submodule records are nested and in order, so the module's own tape entries are the gaps between.
            if (Records[i].TapeStart > cursor)
                ownRanges.Add((cursor, Records[i].TapeStart));
            cursor = Math.Max(cursor, Records[i].TapeEnd);
        }
        if (tapeEnd > cursor)
            ownRanges.Add((cursor, tapeEnd));
        long parameters = seen.Add(module) ? module.OwnParameterCount() : 0;
        Records.Add(new Record(module, (int[])input.Dimensions.Clone(), (int[])output.Dimensions.Clone(),
            parameters, module.ForwardFlops(input.Dimensions, output.Dimensions), elapsed)
        {
            TapeStart = start.TapeCount,
            TapeEnd = tapeEnd,
            OwnTapeRanges = ownRanges,
            Output = KeepOutputs ? output : null,
        });
    }

    public void Dispose() => current = parent;

    internal readonly record struct Start(long Timestamp, int TapeCount);

    public sealed record Record(Module Module, int[] InputShape, int[] OutputShape, long Parameters, long Flops,
        TimeSpan Elapsed)
    {
        /// <summary>First tape entry index the call recorded; equal to <see cref="TapeEnd"/> when it recorded none.</summary>
        public int TapeStart { get; init; }

        /// <summary>One past the last tape entry index the call recorded.</summary>
        public int TapeEnd { get; init; }

        /// <summary>
        /// The tape entries of [TapeStart, TapeEnd) that the module recorded itself, outside its traced submodules.
        /// </summary>
        public IReadOnlyList<(int Start, int End)> OwnTapeRanges { get; init; } = [];

        /// <summary>The call's output when the trace keeps outputs, else null.</summary>
        public Tensor? Output { get; init; }
    }
}
