using FashionCuda.Backends;
using FashionCuda.Onnx;
using FashionCuda.Tensors;

namespace FashionCuda.Autograd;

public static partial class F
{
    /// <summary>Max pooling: (N, C, H, W) → (N, C, P, Q); a tie sends the gradient to the first maximum.</summary>
    public static Tensor MaxPool2d(Tensor input, int kernel, int stride, int padding = 0)
    {
        var g = PoolGeometry(input, kernel, stride, padding, "max_pool2d");
        var backend = input.Backend;
        var result = Unary(input, g.OutputShape, output => backend.MaxPool2dForward(input, output, g),
            (output, gradOutput, gradInput) => backend.MaxPool2dBackward(input, gradOutput, gradInput, g));
        OnnxRecorder.Current?.Pool("MaxPool", input, kernel, stride, padding, result);
        return result;
    }

    /// <summary>Average pooling: (N, C, H, W) → (N, C, P, Q); padded zeros count in the divisor.</summary>
    public static Tensor AvgPool2d(Tensor input, int kernel, int stride, int padding = 0)
    {
        var g = PoolGeometry(input, kernel, stride, padding, "avg_pool2d");
        var backend = input.Backend;
        var result = Unary(input, g.OutputShape, output => backend.AvgPool2dForward(input, output, g),
            (output, gradOutput, gradInput) => backend.AvgPool2dBackward(gradOutput, gradInput, g));
        OnnxRecorder.Current?.Pool("AveragePool", input, kernel, stride, padding, result);
        return result;
    }

    /// <summary>Mean over H×W: (N, C, H, W) → (N, C, 1, 1).</summary>
    public static Tensor GlobalAvgPool2d(Tensor input)
    {
        RequireRank(input, 4, "global_avg_pool2d input");
        var backend = input.Backend;
        var result = Unary(input, [input[0], input[1], 1, 1], output => backend.GlobalAvgPoolForward(input, output),
            (output, gradOutput, gradInput) => backend.GlobalAvgPoolBackward(gradOutput, gradInput));
        OnnxRecorder.Current?.Unary("GlobalAveragePool", input, result);
        return result;
    }

    /// <summary>Max over H×W: (N, C, H, W) → (N, C, 1, 1).</summary>
    public static Tensor GlobalMaxPool2d(Tensor input)
    {
        RequireRank(input, 4, "global_max_pool2d input");
        var backend = input.Backend;
        var result = Unary(input, [input[0], input[1], 1, 1], output => backend.GlobalMaxPoolForward(input, output),
            (output, gradOutput, gradInput) => backend.GlobalMaxPoolBackward(input, gradOutput, gradInput));
        OnnxRecorder.Current?.Unary("GlobalMaxPool", input, result);
        return result;
    }

    /// <summary>Mean over channels: (N, C, H, W) → (N, 1, H, W).</summary>
    public static Tensor ChannelMean(Tensor input)
    {
        RequireRank(input, 4, "channel mean input");
        var backend = input.Backend;
        var result = Unary(input, [input[0], 1, input[2], input[3]],
            output => backend.ChannelMeanForward(input, output),
            (output, gradOutput, gradInput) => backend.ChannelMeanBackward(gradOutput, gradInput));
        OnnxRecorder.Current?.ReduceChannels("ReduceMean", input, result);
        return result;
    }

    /// <summary>Max over channels: (N, C, H, W) → (N, 1, H, W).</summary>
    public static Tensor ChannelMax(Tensor input)
    {
        RequireRank(input, 4, "channel max input");
        var backend = input.Backend;
        var result = Unary(input, [input[0], 1, input[2], input[3]], output => backend.ChannelMaxForward(input, output),
            (output, gradOutput, gradInput) => backend.ChannelMaxBackward(input, gradOutput, gradInput));
        OnnxRecorder.Current?.ReduceChannels("ReduceMax", input, result);
        return result;
    }

    /// <summary>Concatenates (N, Cᵢ, H, W) tensors along channels into (N, ΣCᵢ, H, W).</summary>
    public static Tensor ConcatChannels(params Tensor[] inputs)
    {
        if (inputs.Length == 0)
            throw new ArgumentException("concat needs at least one input.");
        var first = inputs[0];
        int channels = 0;
        foreach (var input in inputs)
        {
            RequireRank(input, 4, "concat input");
            if (input[0] != first[0] || input[2] != first[2] || input[3] != first[3])
                throw new ArgumentException(
                    $"concat: {Shape.Format(input.Dimensions)} and {Shape.Format(first.Dimensions)} differ " +
                    "outside the channel dimension.");
            channels += input[1];
        }
        var backend = first.Backend;
        var output = Tensor.Empty(backend, [first[0], channels, first[2], first[3]]);
        backend.ConcatChannels(inputs, output);
        if (GradMode.NeedsGrad(inputs))
        {
            Tape.Current.Record(output, gradOutput =>
            {
                var grads = new Tensor?[inputs.Length];
                for (int i = 0; i < inputs.Length; i++)
                    grads[i] = GradFor(inputs[i]);
                backend.ConcatChannelsBackward(gradOutput, grads);
                for (int i = 0; i < inputs.Length; i++)
                    Deliver(inputs[i], grads[i]);
            });
        }
        OnnxRecorder.Current?.ConcatChannels(inputs, output);
        return output;
    }

    private static Pool2dGeometry PoolGeometry(Tensor input, int kernel, int stride, int padding, string what)
    {
        RequireRank(input, 4, what + " input");
        var g = new Pool2dGeometry(input[0], input[1], input[2], input[3], kernel, kernel, stride, stride,
            padding, padding);
        g.Validate();
        return g;
    }
}
