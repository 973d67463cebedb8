using FashionCuda.Tensors;

namespace FashionCuda.Autograd;

/// <summary>Computes the gradients of an op's inputs from the gradient of its output.</summary>
public delegate void BackwardFunction(Tensor gradOutput);

/// <summary>
/// The record of differentiable ops run on this thread since the last backward pass, in execution order, which
/// is a topological order of the graph. <see cref="Backward"/> walks it in reverse.
/// </summary>
public sealed class Tape
{
    [ThreadStatic] private static Tape? current;

    private readonly List<Entry> entries = new();

    public static Tape Current => current ??= new Tape();

    /// <summary>Number of recorded ops.</summary>
    public int Count => entries.Count;

    /// <summary>
    /// Whether <see cref="Backward"/> times each entry's backward function into <see cref="LastBackwardTimes"/>.
    /// Off by default. The times are host wall-clock, so a backend that queues work asynchronously must finish
    /// its queue inside each backward function for them to mean anything.
    /// </summary>
    public bool TimeBackward { get; set; }

    /// <summary>
    /// Backward time of each entry of the latest timed <see cref="Backward"/>, by entry index; zero for entries
    /// that received no gradient.
    /// </summary>
    public TimeSpan[] LastBackwardTimes { get; private set; } = [];

    /// <summary>Records that <paramref name="output"/> was computed from inputs that require gradients.</summary>
    public void Record(Tensor output, BackwardFunction backward)
    {
        output.RequiresGrad = true;
        entries.Add(new Entry(output, backward));
    }

    /// <summary>
    /// Seeds d(loss)/d(loss) = 1 and runs every recorded backward function whose output received a gradient,
    /// newest first. Leaf gradients accumulate across calls; the tape is cleared afterwards.
    /// </summary>
    public void Backward(Tensor loss)
    {
        if (loss.Length != 1)
            throw new InvalidOperationException(
                $"Backward() starts from a scalar loss, but the tensor has shape {Shape.Format(loss.Dimensions)}.");
        if (!loss.RequiresGrad)
            throw new InvalidOperationException(
                "Backward() was called on a tensor that does not require gradients: no parameter led to it, " +
                "or it was computed inside a no-grad scope.");
        try
        {
            var times = TimeBackward ? new TimeSpan[entries.Count] : null;
            GradMode.AccumulateGrad(loss, Tensor.Full(loss.Backend, loss.Dimensions, 1f));
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                var (output, backward) = entries[i];
                var gradOutput = output.Grad;
                if (gradOutput is null)
                    continue;
                long start = times is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                backward(gradOutput);
                if (times is not null)
                    times[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start);
                // Gradients of intermediate tensors are not kept, unlike those of leaves.
                output.Grad = null;
                gradOutput.Dispose();
            }
            if (times is not null)
                LastBackwardTimes = times;
        }
        finally
        {
            Clear();
        }
    }

    /// <summary>Forgets every recorded op, for example after an evaluation pass that recorded by mistake.</summary>
    public void Clear() => entries.Clear();

    private readonly record struct Entry(Tensor Output, BackwardFunction Backward);
}

/// <summary>Gradient mode and accumulation shared by all differentiable ops.</summary>
public static class GradMode
{
    [ThreadStatic] private static int noGradDepth;

    /// <summary>Whether ops record onto the tape on this thread.</summary>
    public static bool IsGradEnabled => noGradDepth == 0;

    /// <summary>Opens a scope in which no op is recorded (evaluation, optimizer updates).</summary>
    public static NoGradScope NoGrad()
    {
        noGradDepth++;
        return new NoGradScope();
    }

    /// <summary>Whether an op over these inputs must be recorded.</summary>
    public static bool NeedsGrad(params ReadOnlySpan<Tensor?> inputs)
    {
        if (!IsGradEnabled)
            return false;
        foreach (var input in inputs)
        {
            if (input is not null && input.RequiresGrad)
                return true;
        }
        return false;
    }

    /// <summary>Sets every gradient of <paramref name="parameters"/> to zero, allocating it persistent the first time.</summary>
    public static void ZeroGrad(IEnumerable<Tensor> parameters)
    {
        foreach (var parameter in parameters)
        {
            if (parameter.Grad is null)
                parameter.Grad = Tensor.Zeros(parameter.Backend, parameter.Dimensions, persistent: true);
            else
                parameter.Backend.Fill(parameter.Grad, 0f);
        }
    }

    /// <summary>
    /// Adds <paramref name="grad"/> to <paramref name="tensor"/>'s gradient and takes ownership of it. A leaf's
    /// gradient is persistent, so it survives the tensor scope of the step that produced it.
    /// </summary>
    public static void AccumulateGrad(Tensor tensor, Tensor grad)
    {
        if (!tensor.RequiresGrad)
        {
            grad.Dispose();
            return;
        }
        if (tensor.Grad is { } existing)
        {
            tensor.Backend.AddInPlace(existing, grad);
            grad.Dispose();
            return;
        }
        if (tensor.IsPersistent)
        {
            var persistent = Tensor.Empty(tensor.Backend, tensor.Dimensions, persistent: true);
            tensor.Backend.Copy(grad, persistent);
            grad.Dispose();
            tensor.Grad = persistent;
            return;
        }
        tensor.Grad = grad;
    }

    public readonly struct NoGradScope : IDisposable
    {
        public void Dispose() => noGradDepth--;
    }
}
