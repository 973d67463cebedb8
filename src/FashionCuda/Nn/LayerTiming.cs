using System.Diagnostics;
using FashionCuda.Autograd;
using FashionCuda.Tensors;

namespace FashionCuda.Nn;

/// <summary>Mean time of one leaf layer per training step.</summary>
public sealed record LayerTime(string Name, string Type, int[] OutputShape, TimeSpan Forward, TimeSpan Backward);

/// <summary>Per-layer times of a training step, and the parts no layer accounts for.</summary>
/// <param name="OtherForward">Forward time outside leaf layers: ops called directly in a Forward (flatten,
/// residual additions) and the loss.</param>
/// <param name="OtherBackward">Backward time of tape entries that no leaf layer recorded, plus the tape's own
/// bookkeeping.</param>
public sealed record LayerTimes(IReadOnlyList<LayerTime> Layers, TimeSpan TotalForward, TimeSpan TotalBackward,
    TimeSpan OtherForward, TimeSpan OtherBackward);

/// <summary>
/// Times each leaf layer's forward and backward pass. Forward times come from <see cref="ModuleTrace"/>. For
/// backward, the trace notes which tape entries each layer's call recorded, the tape times every entry's
/// backward function (<see cref="Tape.TimeBackward"/>), and a layer's backward time is the sum over its entries.
/// The optimizer step is not timed.
/// </summary>
public static class LayerTiming
{
    /// <param name="images">N×C×H×W input values of one batch.</param>
    /// <param name="labels">N class indices.</param>
    public static LayerTimes Measure(Module model, float[] images, float[] labels, int[] inputShape, int warmup,
        int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var names = model.NamedModules().ToDictionary(entry => entry.Module, entry => entry.Name);
        var backend = model.Parameters().First().Backend;
        var tape = Tape.Current;
        List<(ModuleTrace.Record Record, TimeSpan Backward)>[] perStep = new List<(ModuleTrace.Record, TimeSpan)>[steps];
        var totalForward = TimeSpan.Zero;
        var totalBackward = TimeSpan.Zero;
        tape.TimeBackward = true;
        try
        {
            for (int step = -warmup; step < steps; step++)
            {
                using var scope = new TensorScope();
                model.ZeroGrad();
                var input = Tensor.FromArray(backend, images, inputShape);
                var target = Tensor.FromArray(backend, labels, [labels.Length]);
                var trace = new ModuleTrace();
                long start = Stopwatch.GetTimestamp();
                Tensor loss;
                using (trace)
                    loss = F.SoftmaxCrossEntropy(model.Call(input), target);
                loss.Item();
                var forward = Stopwatch.GetElapsedTime(start);
                start = Stopwatch.GetTimestamp();
                loss.Backward();
                var backward = Stopwatch.GetElapsedTime(start);
                if (step < 0)
                    continue;
                totalForward += forward;
                totalBackward += backward;
                var times = tape.LastBackwardTimes;
                perStep[step] = trace.Records
                    .Select(r => (r, r.OwnTapeRanges.Aggregate(TimeSpan.Zero, (sum, range) => sum + Sum(times, range.Start, range.End))))
                    .ToList();
            }
        }
        finally
        {
            tape.TimeBackward = false;
        }

        var layers = new List<LayerTime>();
        for (int i = 0; i < perStep[0].Count; i++)
        {
            var record = perStep[0][i].Record;
            var forward = TimeSpan.FromTicks((long)perStep.Average(s => s[i].Record.Elapsed.Ticks));
            var backward = TimeSpan.FromTicks((long)perStep.Average(s => s[i].Backward.Ticks));
            layers.Add(new LayerTime(names.GetValueOrDefault(record.Module, "?"), record.Module.GetType().Name,
                record.OutputShape, forward, backward));
        }
        var meanForward = totalForward / steps;
        var meanBackward = totalBackward / steps;
        return new LayerTimes(layers, meanForward, meanBackward,
            meanForward - layers.Aggregate(TimeSpan.Zero, (sum, l) => sum + l.Forward),
            meanBackward - layers.Aggregate(TimeSpan.Zero, (sum, l) => sum + l.Backward));
    }

    private static TimeSpan Sum(TimeSpan[] times, int start, int end)
    {
        var sum = TimeSpan.Zero;
        for (int i = start; i < end && i < times.Length; i++)
            sum += times[i];
        return sum;
    }
}
