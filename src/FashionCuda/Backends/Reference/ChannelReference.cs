namespace FashionCuda.Backends.Reference;

/// <summary>
/// Ops along the channel axis of NCHW tensors: concatenation, mean and max over channels, and the broadcast
/// multiply that attention blocks use. Inputs are (N, C, H, W) where a method gives no other shape.
/// </summary>
public static class ChannelReference
{
    /// <summary>
    /// Stacks inputs (N, channels[i], H, W) along the channel axis into output (N, Σ channels, H, W), in list
    /// order.
    /// </summary>
    public static void ConcatForward(IReadOnlyList<double[]> inputs, double[] output, int n,
        IReadOnlyList<int> channels, int h, int w)
    {
        int total = ValidateConcat("ConcatChannels", inputs.Count, output, nameof(output), n, channels, h, w);
        int area = h * w;
        int offset = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            ShapeChecks.RequireLength("ConcatChannels", $"inputs[{i}]", input, n, channels[i], h, w);
            for (int image = 0; image < n; image++)
            for (int c = 0; c < channels[i]; c++)
            for (int pixel = 0; pixel < area; pixel++)
                output[(image * total + offset + c) * area + pixel] = input[(image * channels[i] + c) * area + pixel];
            offset += channels[i];
        }
    }

    /// <summary>
    /// Copies each channel slice of gradOutput (N, Σ channels, H, W) to gradInputs[i] (N, channels[i], H, W). A
    /// null entry is skipped.
    /// </summary>
    public static void ConcatBackward(double[] gradOutput, IReadOnlyList<double[]?> gradInputs, int n,
        IReadOnlyList<int> channels, int h, int w)
    {
        int total = ValidateConcat("ConcatChannelsBackward", gradInputs.Count, gradOutput, nameof(gradOutput), n,
            channels, h, w);
        int area = h * w;
        int offset = 0;
        for (int i = 0; i < gradInputs.Count; i++)
        {
            var gradInput = gradInputs[i];
            if (gradInput is not null)
            {
                ShapeChecks.RequireLength("ConcatChannelsBackward", $"gradInputs[{i}]", gradInput, n, channels[i], h,
                    w);
                for (int image = 0; image < n; image++)
                for (int c = 0; c < channels[i]; c++)
                for (int pixel = 0; pixel < area; pixel++)
                    gradInput[(image * channels[i] + c) * area + pixel] =
                        gradOutput[(image * total + offset + c) * area + pixel];
            }
            offset += channels[i];
        }
    }

    /// <summary>Computes output (N, 1, H, W) with output[n, 0, h, w] = the mean of input[n, :, h, w].</summary>
    public static void ChannelMeanForward(double[] input, double[] output, int n, int c, int h, int w)
    {
        ValidateReduce("ChannelMeanForward", input, nameof(input), output, nameof(output), n, c, h, w);
        int area = h * w;
        for (int image = 0; image < n; image++)
        for (int pixel = 0; pixel < area; pixel++)
        {
            double sum = 0;
            for (int channel = 0; channel < c; channel++)
                sum += input[(image * c + channel) * area + pixel];
            output[image * area + pixel] = sum / c;
        }
    }

    /// <summary>Computes gradInput[n, c, h, w] = gradOutput[n, 0, h, w] / C.</summary>
    public static void ChannelMeanBackward(double[] gradOutput, double[] gradInput, int n, int c, int h, int w)
    {
        ValidateReduce("ChannelMeanBackward", gradInput, nameof(gradInput), gradOutput, nameof(gradOutput),
            n, c, h, w);
        int area = h * w;
        for (int image = 0; image < n; image++)
        for (int channel = 0; channel < c; channel++)
        for (int pixel = 0; pixel < area; pixel++)
            gradInput[(image * c + channel) * area + pixel] = gradOutput[image * area + pixel] / c;
    }

    /// <summary>
    /// Computes output (N, 1, H, W) with output[n, 0, h, w] = the max of input[n, :, h, w]. Ties and NaNs follow
    /// <see cref="PoolingReference"/>, so the lowest channel among equal maxima wins.
    /// </summary>
    public static void ChannelMaxForward(double[] input, double[] output, int n, int c, int h, int w)
    {
        ValidateReduce("ChannelMaxForward", input, nameof(input), output, nameof(output), n, c, h, w);
        for (int image = 0; image < n; image++)
        for (int pixel = 0; pixel < h * w; pixel++)
            output[image * h * w + pixel] = input[ChannelMaxIndex(input, image, pixel, c, h * w)];
    }

    /// <summary>Sends gradOutput[n, 0, h, w] to the first channel with the max, and 0 to the others.</summary>
    public static void ChannelMaxBackward(double[] input, double[] gradOutput, double[] gradInput, int n, int c,
        int h, int w)
    {
        ValidateReduce("ChannelMaxBackward", input, nameof(input), gradOutput, nameof(gradOutput), n, c, h, w);
        ShapeChecks.RequireLength("ChannelMaxBackward", nameof(gradInput), gradInput, n, c, h, w);
        Array.Clear(gradInput);
        for (int image = 0; image < n; image++)
        for (int pixel = 0; pixel < h * w; pixel++)
            gradInput[ChannelMaxIndex(input, image, pixel, c, h * w)] = gradOutput[image * h * w + pixel];
    }

    /// <summary>
    /// Computes output = a · b for a (N, C, H, W) and b (N, C, H, W), (N, C, 1, 1) or (N, 1, H, W) as
    /// <paramref name="broadcast"/> selects. The output has a's shape and may be the same array as a.
    /// </summary>
    public static void MultiplyForward(double[] a, double[] b, double[] output, Broadcast broadcast, int n, int c,
        int h, int w)
    {
        ValidateMultiply("Multiply", a, b, broadcast, n, c, h, w);
        ShapeChecks.RequireLength("Multiply", nameof(output), output, n, c, h, w);
        for (int i = 0; i < a.Length; i++)
            output[i] = a[i] * b[BroadcastIndex(i, broadcast, c, h, w)];
    }

    /// <summary>
    /// Computes gradA = gradOutput · b (broadcast to a's shape) and gradB = gradOutput · a summed over the
    /// dimensions along which b was broadcast. A null gradient is skipped.
    /// </summary>
    public static void MultiplyBackward(double[] a, double[] b, double[] gradOutput, double[]? gradA,
        double[]? gradB, Broadcast broadcast, int n, int c, int h, int w)
    {
        const string op = "MultiplyBackward";
        ValidateMultiply(op, a, b, broadcast, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(gradOutput), gradOutput, n, c, h, w);
        if (gradA is not null)
        {
            ShapeChecks.RequireLength(op, nameof(gradA), gradA, n, c, h, w);
            for (int i = 0; i < a.Length; i++)
                gradA[i] = gradOutput[i] * b[BroadcastIndex(i, broadcast, c, h, w)];
        }
        if (gradB is not null)
        {
            ShapeChecks.RequireLength(op, nameof(gradB), gradB, BroadcastShape(broadcast, n, c, h, w));
            Array.Clear(gradB);
            for (int i = 0; i < a.Length; i++)
                gradB[BroadcastIndex(i, broadcast, c, h, w)] += gradOutput[i] * a[i];
        }
    }

    /// <summary>The index into b of element <paramref name="i"/> of a, under the given broadcast.</summary>
    private static int BroadcastIndex(int i, Broadcast broadcast, int c, int h, int w) => broadcast switch
    {
        Broadcast.None => i,
        Broadcast.PerChannel => i / (h * w),
        Broadcast.PerPixel => i / (c * h * w) * (h * w) + i % (h * w),
        _ => throw new ArgumentOutOfRangeException(nameof(broadcast), broadcast, "Invalid broadcast kind."),
    };

    private static int[] BroadcastShape(Broadcast broadcast, int n, int c, int h, int w) => broadcast switch
    {
        Broadcast.None => [n, c, h, w],
        Broadcast.PerChannel => [n, c, 1, 1],
        Broadcast.PerPixel => [n, 1, h, w],
        _ => throw new ArgumentOutOfRangeException(nameof(broadcast), broadcast, "Invalid broadcast kind."),
    };

    private static int ChannelMaxIndex(double[] input, int image, int pixel, int c, int area)
    {
        int bestIndex = image * c * area + pixel;
        for (int channel = 1; channel < c; channel++)
        {
            int index = (image * c + channel) * area + pixel;
            if (PoolingReference.IsNewMax(input[index], input[bestIndex], haveBest: true))
                bestIndex = index;
        }
        return bestIndex;
    }

    private static void ValidateMultiply(string op, double[] a, double[] b, Broadcast broadcast, int n, int c,
        int h, int w)
    {
        ShapeChecks.RequirePositive(op, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(a), a, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(b), b, BroadcastShape(broadcast, n, c, h, w));
    }

    private static void ValidateReduce(string op, double[] input, string inputName, double[] output,
        string outputName, int n, int c, int h, int w)
    {
        ShapeChecks.RequirePositive(op, n, c, h, w);
        ShapeChecks.RequireLength(op, inputName, input, n, c, h, w);
        ShapeChecks.RequireLength(op, outputName, output, n, 1, h, w);
    }

    /// <summary>Checks the sizes of a concatenation and returns the total channel count.</summary>
    private static int ValidateConcat(string op, int count, double[] output, string outputName, int n,
        IReadOnlyList<int> channels, int h, int w)
    {
        if (count == 0 || channels.Count != count)
            throw new ArgumentException(
                $"{op}: {count} tensors with {channels.Count} channel counts; at least one tensor and one count " +
                "per tensor are needed.");
        ShapeChecks.RequirePositive(op, n, h, w);
        ShapeChecks.RequirePositive(op, [.. channels]);
        int total = channels.Sum();
        ShapeChecks.RequireLength(op, outputName, output, n, total, h, w);
        return total;
    }
}
