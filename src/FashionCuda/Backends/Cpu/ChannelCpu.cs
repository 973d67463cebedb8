using System.Numerics;
using System.Numerics.Tensors;
using Tensor = FashionCuda.Tensors.Tensor;

namespace FashionCuda.Backends.Cpu;

// Reductions over the channels of (N, C, H, W) into (N, 1, H, W), and channel concatenation. Work is split by
// image, and within an image whole H×W planes are combined with vector operations.
public sealed partial class CpuBackend
{
    public void ChannelMeanForward(Tensor input, Tensor output)
    {
        var (n, c, h, w) = Nchw(input, "input");
        int plane = h * w;
        RequireLength(output, (long)n * plane, "channel mean");
        float[] x = Array(input), y = Array(output);
        ForItems(n, (long)c * plane, image =>
        {
            var sum = y.AsSpan(image * plane, plane);
            x.AsSpan(image * c * plane, plane).CopyTo(sum);
            for (int channel = 1; channel < c; channel++)
                TensorPrimitives.Add(sum, x.AsSpan((image * c + channel) * plane, plane), sum);
            TensorPrimitives.Multiply(sum, 1f / c, sum);
        });
    }

    public void ChannelMeanBackward(Tensor gradOutput, Tensor gradInput)
    {
        var (n, c, h, w) = Nchw(gradInput, "input gradient");
        int plane = h * w;
        RequireLength(gradOutput, (long)n * plane, "channel mean gradient");
        float[] dy = Array(gradOutput), dx = Array(gradInput);
        ForItems(n, (long)c * plane, image =>
        {
            var share = dy.AsSpan(image * plane, plane);
            for (int channel = 0; channel < c; channel++)
                TensorPrimitives.Multiply(share, 1f / c, dx.AsSpan((image * c + channel) * plane, plane));
        });
    }

    public void ChannelMaxForward(Tensor input, Tensor output)
    {
        var (n, c, h, w) = Nchw(input, "input");
        int plane = h * w;
        RequireLength(output, (long)n * plane, "channel max");
        float[] x = Array(input), y = Array(output);
        ForItems(n, (long)c * plane, image =>
        {
            var max = y.AsSpan(image * plane, plane);
            x.AsSpan(image * c * plane, plane).CopyTo(max);
            for (int channel = 1; channel < c; channel++)
                TensorPrimitives.Max(max, x.AsSpan((image * c + channel) * plane, plane), max);
        });
    }

    public void ChannelMaxBackward(Tensor input, Tensor gradOutput, Tensor gradInput)
    {
        var (n, c, h, w) = Nchw(input, "input");
        int plane = h * w;
        RequireLength(gradOutput, (long)n * plane, "channel max gradient");
        RequireSameLength(input, gradInput);
        float[] x = Array(input), dy = Array(gradOutput), dx = Array(gradInput);
        ForItems(n, (long)c * plane, image =>
        {
            // Up to ChannelMaxRun pixels at a time. One pass over the channels finds each pixel's winning channel,
            // and a second writes the gradient to it and zeros to the others. Both read contiguous runs of a plane.
            Span<float> best = stackalloc float[ChannelMaxRun];
            Span<int> winner = stackalloc int[ChannelMaxRun];
            int offset = image * c * plane;
            for (int start = 0; start < plane; start += ChannelMaxRun)
            {
                int length = Math.Min(ChannelMaxRun, plane - start);
                var runBest = best[..length];
                var runWinner = winner[..length];
                x.AsSpan(offset + start, length).CopyTo(runBest);
                runWinner.Clear();
                for (int channel = 1; channel < c; channel++)
                    TrackChannelMax(x.AsSpan(offset + channel * plane + start, length), channel, runBest, runWinner);
                var grad = dy.AsSpan(image * plane + start, length);
                for (int channel = 0; channel < c; channel++)
                    ScatterToWinner(grad, runWinner, channel, dx.AsSpan(offset + channel * plane + start, length));
            }
        });
    }

    /// <summary>Pixels per pass of <see cref="ChannelMaxBackward"/>, small enough for two stack buffers.</summary>
    private const int ChannelMaxRun = 256;

    /// <summary>
    /// Replaces <paramref name="best"/> and <paramref name="winner"/> where a value of <paramref name="channel"/>
    /// is a new maximum by the rule of <see cref="IsNewMax(float, float)"/>, so the lowest channel among equal
    /// maxima wins, or the first NaN.
    /// </summary>
    private static void TrackChannelMax(ReadOnlySpan<float> values, int channel, Span<float> best, Span<int> winner)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var channelVector = new Vector<int>(channel);
            for (; i + Vector<float>.Count <= values.Length; i += Vector<float>.Count)
            {
                var value = new Vector<float>(values[i..]);
                var current = new Vector<float>(best[i..]);
                var replaces = Vector.GreaterThan(value, current) |
                               Vector.AndNot(Vector.Equals(current, current), Vector.Equals(value, value));
                Vector.ConditionalSelect(replaces, value, current).CopyTo(best[i..]);
                Vector.ConditionalSelect(replaces, channelVector, new Vector<int>(winner[i..])).CopyTo(winner[i..]);
            }
        }
        for (; i < values.Length; i++)
        {
            if (IsNewMax(values[i], best[i]))
            {
                best[i] = values[i];
                winner[i] = channel;
            }
        }
    }

    /// <summary>Writes <paramref name="grad"/> where <paramref name="channel"/> won and 0 elsewhere.</summary>
    private static void ScatterToWinner(ReadOnlySpan<float> grad, ReadOnlySpan<int> winner, int channel,
        Span<float> target)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var channelVector = new Vector<int>(channel);
            for (; i + Vector<float>.Count <= grad.Length; i += Vector<float>.Count)
            {
                var won = Vector.Equals(new Vector<int>(winner[i..]), channelVector);
                Vector.ConditionalSelect(won, new Vector<float>(grad[i..]), Vector<float>.Zero).CopyTo(target[i..]);
            }
        }
        for (; i < grad.Length; i++)
            target[i] = winner[i] == channel ? grad[i] : 0f;
    }

    public void ConcatChannels(IReadOnlyList<Tensor> inputs, Tensor output)
    {
        var (n, total, h, w) = Nchw(output, "concatenated output");
        var parts = ConcatLayout(inputs, n, h, w, total, "input");
        float[] y = Array(output);
        int plane = h * w;
        var sources = new float[inputs.Count][];
        for (int i = 0; i < inputs.Count; i++)
            sources[i] = Array(inputs[i]);
        ForItems(n, (long)total * plane, image =>
        {
            for (int i = 0; i < parts.Length; i++)
            {
                var (channels, first) = parts[i];
                sources[i].AsSpan(image * channels * plane, channels * plane)
                    .CopyTo(y.AsSpan((image * total + first) * plane, channels * plane));
            }
        });
    }

    public void ConcatChannelsBackward(Tensor gradOutput, IReadOnlyList<Tensor?> gradInputs)
    {
        var (n, total, h, w) = Nchw(gradOutput, "concatenated gradient");
        var parts = ConcatLayout(gradInputs, n, h, w, total, "input gradient");
        float[] dy = Array(gradOutput);
        int plane = h * w;
        var targets = new float[]?[gradInputs.Count];
        for (int i = 0; i < gradInputs.Count; i++)
            targets[i] = gradInputs[i] is { } grad ? Array(grad) : null;
        ForItems(n, (long)total * plane, image =>
        {
            for (int i = 0; i < parts.Length; i++)
            {
                if (targets[i] is not { } target)
                    continue;
                var (channels, first) = parts[i];
                dy.AsSpan((image * total + first) * plane, channels * plane)
                    .CopyTo(target.AsSpan(image * channels * plane, channels * plane));
            }
        });
    }

    /// <summary>
    /// Returns each part's channel count and first output channel, checking that the parts are (N, Cᵢ, H, W)
    /// with ΣCᵢ = <paramref name="total"/>. A null part (a skipped gradient) has no known size, so the parts
    /// after the last null part are placed from the end. A part between two null parts cannot be placed.
    /// </summary>
    private static (int Channels, int First)[] ConcatLayout(IReadOnlyList<Tensor?> parts, int n, int h, int w,
        int total, string role)
    {
        var layout = new (int Channels, int First)[parts.Count];
        int firstNull = -1, lastNull = -1, known = 0;
        for (int i = 0; i < parts.Count; i++)
        {
            if (parts[i] is not { } part)
            {
                if (firstNull < 0)
                    firstNull = i;
                lastNull = i;
                continue;
            }
            var (pn, pc, ph, pw) = Nchw(part, $"concat {role} {i}");
            if (pn != n || ph != h || pw != w)
                throw new ArgumentException(
                    $"Concat {role} {i} is {part}, but the batch and spatial sizes must be ({n}, ·, {h}, {w}).");
            layout[i] = (pc, 0);
            known += pc;
        }
        if (firstNull < 0 ? known != total : known > total)
            throw new ArgumentException(
                $"The concat parts have {known} channels in all, but the concatenation has {total}.");
        int offset = 0;
        for (int i = 0; i < parts.Count && (firstNull < 0 || i < firstNull); i++)
        {
            layout[i].First = offset;
            offset += layout[i].Channels;
        }
        if (firstNull < 0)
            return layout;
        offset = total;
        for (int i = parts.Count - 1; i > lastNull; i--)
        {
            offset -= layout[i].Channels;
            layout[i].First = offset;
        }
        for (int i = firstNull + 1; i < lastNull; i++)
        {
            if (parts[i] is not null)
                throw new ArgumentException(
                    $"Concat {role} {i} lies between two null parts, so its channel offset is unknown; " +
                    "pass tensors for the parts before it.");
        }
        return layout;
    }
}
