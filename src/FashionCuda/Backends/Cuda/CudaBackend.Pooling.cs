using System.Runtime.InteropServices;
using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

// Pooling, CBAM's channel and spatial pooling, and channel concatenation: kernels/pooling.cu, channel_pool.cu,
// spatial_pool.cu and concat.cu.
public sealed partial class CudaBackend
{
    /// <summary>
    /// Planes of at most this many elements use the thread-per-plane global pooling kernels, larger ones the
    /// block-per-plane kernels. NOTE: a guess, untuned; `fashioncuda kernels bench` measures both versions.
    /// </summary>
    private const long ThreadPerPlaneLimit = 256;

    public void MaxPool2dForward(Tensor input, Tensor output, Pool2dGeometry geometry)
    {
        var shape = ValidatePool(input, output, geometry, "output");
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(output.Length).AddValue(shape);
        Launch("max_pool2d_forward_kernel", Elementwise(output.Length));
    }

    public void MaxPool2dBackward(Tensor input, Tensor gradOutput, Tensor gradInput, Pool2dGeometry geometry)
    {
        var shape = ValidatePool(input, gradOutput, geometry, "output gradient");
        RequireSameLength(input, gradInput);
        Arguments().Add(Pointer(input)).Add(Pointer(gradOutput)).Add(Pointer(gradInput)).Add(input.Length)
            .AddValue(shape);
        Launch("max_pool2d_backward_kernel", Elementwise(input.Length));
    }

    public void AvgPool2dForward(Tensor input, Tensor output, Pool2dGeometry geometry)
    {
        var shape = ValidatePool(input, output, geometry, "output");
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(output.Length).AddValue(shape);
        Launch("avg_pool2d_forward_kernel", Elementwise(output.Length));
    }

    public void AvgPool2dBackward(Tensor gradOutput, Tensor gradInput, Pool2dGeometry geometry)
    {
        var shape = ValidatePool(gradInput, gradOutput, geometry, "output gradient");
        Arguments().Add(Pointer(gradOutput)).Add(Pointer(gradInput)).Add(gradInput.Length).AddValue(shape);
        Launch("avg_pool2d_backward_kernel", Elementwise(gradInput.Length));
    }

    public void GlobalAvgPoolForward(Tensor input, Tensor output)
    {
        var (planes, plane) = GlobalPoolSizes(input, output, "output");
        if (plane <= ThreadPerPlaneLimit)
        {
            Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(planes).Add(plane);
            Launch("global_avg_pool_forward_thread_per_plane_kernel", Elementwise(planes));
            return;
        }
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(plane);
        Launch("global_avg_pool_forward_block_per_plane_kernel", BlockPerRow(planes));
    }

    public void GlobalAvgPoolBackward(Tensor gradOutput, Tensor gradInput)
    {
        var (_, plane) = GlobalPoolSizes(gradInput, gradOutput, "output gradient");
        Arguments().Add(Pointer(gradOutput)).Add(Pointer(gradInput)).Add(gradInput.Length).Add(plane);
        Launch("global_avg_pool_backward_kernel", Elementwise(gradInput.Length));
    }

    public void GlobalMaxPoolForward(Tensor input, Tensor output)
    {
        var (planes, plane) = GlobalPoolSizes(input, output, "output");
        if (plane <= ThreadPerPlaneLimit)
        {
            Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(planes).Add(plane);
            Launch("global_max_pool_forward_thread_per_plane_kernel", Elementwise(planes));
            return;
        }
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(plane);
        Launch("global_max_pool_forward_block_per_plane_kernel", BlockPerRow(planes));
    }

    public void GlobalMaxPoolBackward(Tensor input, Tensor gradOutput, Tensor gradInput)
    {
        var (planes, plane) = GlobalPoolSizes(input, gradOutput, "output gradient");
        RequireSameLength(input, gradInput);
        Arguments().Add(Pointer(input)).Add(Pointer(gradOutput)).Add(Pointer(gradInput)).Add(plane);
        Launch("global_max_pool_backward_block_per_plane_kernel", BlockPerRow(planes));
    }

    public void ChannelMeanForward(Tensor input, Tensor output)
    {
        var (pixels, c, plane) = ChannelPoolSizes(input, output, "output");
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(pixels).Add(c).Add(plane);
        Launch("channel_mean_forward_kernel", Elementwise(pixels));
    }

    public void ChannelMeanBackward(Tensor gradOutput, Tensor gradInput)
    {
        var (_, c, plane) = ChannelPoolSizes(gradInput, gradOutput, "output gradient");
        Arguments().Add(Pointer(gradOutput)).Add(Pointer(gradInput)).Add(gradInput.Length).Add(c).Add(plane);
        Launch("channel_mean_backward_kernel", Elementwise(gradInput.Length));
    }

    public void ChannelMaxForward(Tensor input, Tensor output)
    {
        var (pixels, c, plane) = ChannelPoolSizes(input, output, "output");
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(pixels).Add(c).Add(plane);
        Launch("channel_max_forward_kernel", Elementwise(pixels));
    }

    public void ChannelMaxBackward(Tensor input, Tensor gradOutput, Tensor gradInput)
    {
        var (pixels, c, plane) = ChannelPoolSizes(input, gradOutput, "output gradient");
        RequireSameLength(input, gradInput);
        Arguments().Add(Pointer(input)).Add(Pointer(gradOutput)).Add(Pointer(gradInput)).Add(pixels).Add(c)
            .Add(plane);
        Launch("channel_max_backward_kernel", Elementwise(pixels));
    }

    public void ConcatChannels(IReadOnlyList<Tensor> inputs, Tensor output)
    {
        var (total, plane) = ConcatSizes(inputs, output, "output");
        int offset = 0;
        foreach (var part in inputs)
        {
            Arguments().Add(Pointer(part)).Add(Pointer(output)).Add(part.Length).Add(part[1]).Add(total)
                .Add(offset).Add(plane);
            Launch("concat_channels_forward_kernel", Elementwise(part.Length));
            offset += part[1];
        }
    }

    public void ConcatChannelsBackward(Tensor gradOutput, IReadOnlyList<Tensor?> gradInputs)
    {
        var (n, total, h, w) = Nchw(gradOutput, "output gradient");
        var offsets = ConcatBackwardOffsets(gradInputs, n, total, h, w);
        for (int i = 0; i < gradInputs.Count; i++)
        {
            if (gradInputs[i] is not { } part)
                continue;
            Arguments().Add(Pointer(gradOutput)).Add(Pointer(part)).Add(part.Length).Add(part[1]).Add(total)
                .Add(offsets[i]).Add((long)h * w);
            Launch("concat_channels_backward_kernel", Elementwise(part.Length));
        }
    }

    /// <summary>
    /// The first channel of each gradient part. A null part (a skipped gradient) has no known size, so parts
    /// before the first null are placed from channel 0, parts after the last null from the end, and a part
    /// between two nulls cannot be placed, as in the CPU backend.
    /// </summary>
    private static int[] ConcatBackwardOffsets(IReadOnlyList<Tensor?> parts, int n, int total, int h, int w)
    {
        var offsets = new int[parts.Count];
        int firstNull = -1, lastNull = -1, known = 0;
        for (int i = 0; i < parts.Count; i++)
        {
            if (parts[i] is not { } part)
            {
                firstNull = firstNull < 0 ? i : firstNull;
                lastNull = i;
                continue;
            }
            var (pn, pc, ph, pw) = Nchw(part, $"input gradient {i}");
            if (pn != n || ph != h || pw != w)
                throw new ArgumentException($"Input gradient {i} is {part}, but it must be ({n}, ·, {h}, {w}).");
            known += pc;
        }
        if (firstNull < 0 ? known != total : known > total)
            throw new ArgumentException($"The gradient parts have {known} channels in all, but the output has {total}.");
        int offset = 0;
        for (int i = 0; i < parts.Count && (firstNull < 0 || i < firstNull); i++)
        {
            offsets[i] = offset;
            offset += parts[i]![1];
        }
        if (firstNull < 0)
            return offsets;
        offset = total;
        for (int i = parts.Count - 1; i > lastNull; i--)
        {
            offset -= parts[i]![1];
            offsets[i] = offset;
        }
        for (int i = firstNull + 1; i < lastNull; i++)
        {
            if (parts[i] is not null)
                throw new ArgumentException(
                    $"Input gradient {i} lies between two null parts, so its channel offset is unknown.");
        }
        return offsets;
    }

    /// <summary>The pooling sizes as the kernels of pooling.cu take them, by value.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct PoolShape(
        int Height, int Width, int OutHeight, int OutWidth, int KernelH, int KernelW, int StrideH, int StrideW,
        int PadH, int PadW);

    private static PoolShape ValidatePool(Tensor input, Tensor output, Pool2dGeometry g, string outputRole)
    {
        g.Validate();
        RequireShape(input, [g.N, g.C, g.H, g.W], "input");
        RequireShape(output, g.OutputShape, outputRole);
        return new PoolShape(g.H, g.W, g.P, g.Q, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW);
    }

    /// <summary>Checks input (N, C, H, W) against output (N, C, 1, 1); returns the plane count and size.</summary>
    private static (long Planes, long Plane) GlobalPoolSizes(Tensor input, Tensor output, string outputRole)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireShape(output, [n, c, 1, 1], outputRole);
        return ((long)n * c, (long)h * w);
    }

    /// <summary>Checks input (N, C, H, W) against output (N, 1, H, W); returns N·H·W, C and H·W.</summary>
    private static (long Pixels, int C, long Plane) ChannelPoolSizes(Tensor input, Tensor output, string outputRole)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireShape(output, [n, 1, h, w], outputRole);
        return ((long)n * h * w, c, (long)h * w);
    }

    private static (int Total, long Plane) ConcatSizes(IReadOnlyList<Tensor> inputs, Tensor output, string role)
    {
        var (n, total, h, w) = Nchw(output, role);
        int sum = 0;
        foreach (var part in inputs)
        {
            var (pn, pc, ph, pw) = Nchw(part, "input");
            if (pn != n || ph != h || pw != w)
                throw new ArgumentException($"The input {part} does not match the output {output}.");
            sum += pc;
        }
        if (sum != total)
            throw new ArgumentException($"The inputs have {sum} channels in all, but the output {output} has {total}.");
        return (total, (long)h * w);
    }
}
