using FashionCuda.Tensors;

namespace FashionCuda.Backends.Reference;

/// <summary>Pooling and channel ops of <see cref="ReferenceBackend"/>.</summary>
public sealed partial class ReferenceBackend
{
    public void MaxPool2dForward(Tensor input, Tensor output, Pool2dGeometry geometry)
    {
        const string op = nameof(MaxPool2dForward);
        RequirePoolShapes(op, input, nameof(input), output, nameof(output), geometry);
        var result = new double[output.Length];
        PoolingReference.MaxPool2dForward(Read(input, op), result, geometry);
        Write(result, output);
    }

    public void MaxPool2dBackward(Tensor input, Tensor gradOutput, Tensor gradInput, Pool2dGeometry geometry)
    {
        const string op = nameof(MaxPool2dBackward);
        RequirePoolShapes(op, input, nameof(input), gradOutput, nameof(gradOutput), geometry);
        RequireSameShape(op, nameof(gradInput), gradInput, nameof(input), input);
        var result = new double[gradInput.Length];
        PoolingReference.MaxPool2dBackward(Read(input, op), Read(gradOutput, op), result, geometry);
        Write(result, gradInput);
    }

    public void AvgPool2dForward(Tensor input, Tensor output, Pool2dGeometry geometry)
    {
        const string op = nameof(AvgPool2dForward);
        RequirePoolShapes(op, input, nameof(input), output, nameof(output), geometry);
        var result = new double[output.Length];
        PoolingReference.AvgPool2dForward(Read(input, op), result, geometry);
        Write(result, output);
    }

    public void AvgPool2dBackward(Tensor gradOutput, Tensor gradInput, Pool2dGeometry geometry)
    {
        const string op = nameof(AvgPool2dBackward);
        RequirePoolShapes(op, gradInput, nameof(gradInput), gradOutput, nameof(gradOutput), geometry);
        var result = new double[gradInput.Length];
        PoolingReference.AvgPool2dBackward(Read(gradOutput, op), result, geometry);
        Write(result, gradInput);
    }

    public void GlobalAvgPoolForward(Tensor input, Tensor output)
    {
        const string op = nameof(GlobalAvgPoolForward);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(output), output, n, c, 1, 1);
        var result = new double[output.Length];
        PoolingReference.GlobalAvgPoolForward(Read(input, op), result, n, c, h, w);
        Write(result, output);
    }

    public void GlobalAvgPoolBackward(Tensor gradOutput, Tensor gradInput)
    {
        const string op = nameof(GlobalAvgPoolBackward);
        var (n, c, h, w) = Nchw(op, nameof(gradInput), gradInput);
        RequireShape(op, nameof(gradOutput), gradOutput, n, c, 1, 1);
        var result = new double[gradInput.Length];
        PoolingReference.GlobalAvgPoolBackward(Read(gradOutput, op), result, n, c, h, w);
        Write(result, gradInput);
    }

    public void GlobalMaxPoolForward(Tensor input, Tensor output)
    {
        const string op = nameof(GlobalMaxPoolForward);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(output), output, n, c, 1, 1);
        var result = new double[output.Length];
        PoolingReference.GlobalMaxPoolForward(Read(input, op), result, n, c, h, w);
        Write(result, output);
    }

    public void GlobalMaxPoolBackward(Tensor input, Tensor gradOutput, Tensor gradInput)
    {
        const string op = nameof(GlobalMaxPoolBackward);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(gradOutput), gradOutput, n, c, 1, 1);
        RequireSameShape(op, nameof(gradInput), gradInput, nameof(input), input);
        var result = new double[gradInput.Length];
        PoolingReference.GlobalMaxPoolBackward(Read(input, op), Read(gradOutput, op), result, n, c, h, w);
        Write(result, gradInput);
    }

    public void ChannelMeanForward(Tensor input, Tensor output)
    {
        const string op = nameof(ChannelMeanForward);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(output), output, n, 1, h, w);
        var result = new double[output.Length];
        ChannelReference.ChannelMeanForward(Read(input, op), result, n, c, h, w);
        Write(result, output);
    }

    public void ChannelMeanBackward(Tensor gradOutput, Tensor gradInput)
    {
        const string op = nameof(ChannelMeanBackward);
        var (n, c, h, w) = Nchw(op, nameof(gradInput), gradInput);
        RequireShape(op, nameof(gradOutput), gradOutput, n, 1, h, w);
        var result = new double[gradInput.Length];
        ChannelReference.ChannelMeanBackward(Read(gradOutput, op), result, n, c, h, w);
        Write(result, gradInput);
    }

    public void ChannelMaxForward(Tensor input, Tensor output)
    {
        const string op = nameof(ChannelMaxForward);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(output), output, n, 1, h, w);
        var result = new double[output.Length];
        ChannelReference.ChannelMaxForward(Read(input, op), result, n, c, h, w);
        Write(result, output);
    }

    public void ChannelMaxBackward(Tensor input, Tensor gradOutput, Tensor gradInput)
    {
        const string op = nameof(ChannelMaxBackward);
        var (n, c, h, w) = Nchw(op, nameof(input), input);
        RequireShape(op, nameof(gradOutput), gradOutput, n, 1, h, w);
        RequireSameShape(op, nameof(gradInput), gradInput, nameof(input), input);
        var result = new double[gradInput.Length];
        ChannelReference.ChannelMaxBackward(Read(input, op), Read(gradOutput, op), result, n, c, h, w);
        Write(result, gradInput);
    }

    public void ConcatChannels(IReadOnlyList<Tensor> inputs, Tensor output)
    {
        const string op = nameof(ConcatChannels);
        if (inputs.Count == 0)
            throw new ArgumentException($"{op}: at least one input is needed.", nameof(inputs));
        var (n, _, h, w) = Nchw(op, "inputs[0]", inputs[0]);
        var channels = new int[inputs.Count];
        var arrays = new double[inputs.Count][];
        for (int i = 0; i < inputs.Count; i++)
        {
            var (_, c, _, _) = Nchw(op, $"inputs[{i}]", inputs[i]);
            RequireShape(op, $"inputs[{i}]", inputs[i], n, c, h, w);
            channels[i] = c;
            arrays[i] = Read(inputs[i], op);
        }
        RequireShape(op, nameof(output), output, n, channels.Sum(), h, w);
        var result = new double[output.Length];
        ChannelReference.ConcatForward(arrays, result, n, channels, h, w);
        Write(result, output);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The channel count of a null entry is not passed, so it is inferred from the others. Inference works when at
    /// most one entry is null or when every null entry comes after the last non-null one. Other patterns throw,
    /// because the channel offsets are then ambiguous.
    /// </remarks>
    public void ConcatChannelsBackward(Tensor gradOutput, IReadOnlyList<Tensor?> gradInputs)
    {
        const string op = nameof(ConcatChannelsBackward);
        var (n, total, h, w) = Nchw(op, nameof(gradOutput), gradOutput);
        var channels = ConcatChannelCounts(op, gradInputs, n, total, h, w);
        // Trailing null entries may have been merged into one, so there can be fewer counts than entries.
        var results = new double[]?[channels.Count];
        for (int i = 0; i < channels.Count; i++)
            results[i] = i < gradInputs.Count && gradInputs[i] is { } gradInput ? new double[gradInput.Length] : null;
        ChannelReference.ConcatBackward(Read(gradOutput, op), results, n, channels, h, w);
        for (int i = 0; i < channels.Count; i++)
            WriteIfPresent(results[i], gradInputs[i]);
    }

    /// <summary>
    /// Returns the channel count of each entry up to the last non-null one, inferring a single null entry's count
    /// from the total. Null entries after the last non-null one become one entry with the remaining channels.
    /// </summary>
    private static List<int> ConcatChannelCounts(string op, IReadOnlyList<Tensor?> gradInputs, int n, int total,
        int h, int w)
    {
        if (gradInputs.Count == 0)
            throw new ArgumentException($"{op}: at least one gradient entry is needed.", nameof(gradInputs));
        int lastPresent = -1;
        int known = 0;
        var channels = new List<int>();
        for (int i = 0; i < gradInputs.Count; i++)
        {
            int c = 0;
            if (gradInputs[i] is { } gradInput)
            {
                c = Nchw(op, $"gradInputs[{i}]", gradInput).C;
                RequireShape(op, $"gradInputs[{i}]", gradInput, n, c, h, w);
                lastPresent = i;
                known += c;
            }
            channels.Add(c);
        }
        int nullCount = gradInputs.Count(g => g is null);
        int nullsBeforeLast = gradInputs.Take(lastPresent + 1).Count(g => g is null);
        int missing = total - known;
        if (missing < 0 || (nullCount == 0 && missing != 0))
            throw new ArgumentException(
                $"{op}: the gradients have {known} channels in all, but gradOutput has shape ({n}, {total}, {h}, " +
                $"{w}).", nameof(gradInputs));
        if (nullCount == 0)
            return channels;
        if (nullCount == 1)
        {
            channels[gradInputs.ToList().FindIndex(g => g is null)] = missing;
            return channels;
        }
        if (nullsBeforeLast > 0)
            throw new ArgumentException(
                $"{op}: {nullCount} null entries with a non-null entry after them, so the channel offsets cannot " +
                "be inferred. Pass a gradient tensor for every entry before the last non-null one.",
                nameof(gradInputs));
        channels.RemoveRange(lastPresent + 1, channels.Count - lastPresent - 1);
        channels.Add(missing);
        return channels;
    }
}
