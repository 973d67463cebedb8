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
            int offset = image * c * plane;
            dx.AsSpan(offset, c * plane).Clear();
            for (int pixel = 0; pixel < plane; pixel++)
            {
                // The lowest channel among equal maxima receives the gradient, or the first NaN (IsNewMax).
                int best = 0;
                float bestValue = x[offset + pixel];
                for (int channel = 1; channel < c; channel++)
                {
                    float value = x[offset + channel * plane + pixel];
                    if (IsNewMax(value, bestValue))
                    {
                        best = channel;
                        bestValue = value;
                    }
                }
                dx[offset + best * plane + pixel] = dy[image * plane + pixel];
            }
        });
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
