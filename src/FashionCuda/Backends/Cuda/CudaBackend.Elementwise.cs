using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

// Elementwise ops and CBAM's broadcasting multiplies: kernels/add.cu, relu.cu, sigmoid.cu, broadcast_multiply.cu.
public sealed partial class CudaBackend
{
    public void Add(Tensor a, Tensor b, Tensor output)
    {
        RequireSameLength(a, b);
        RequireSameLength(a, output);
        Arguments().Add(Pointer(a)).Add(Pointer(b)).Add(Pointer(output)).Add(a.Length);
        Launch("add_forward_kernel", Elementwise(a.Length));
    }

    public void AddInPlace(Tensor destination, Tensor source)
    {
        RequireSameLength(destination, source);
        Arguments().Add(Pointer(destination)).Add(Pointer(source)).Add(destination.Length);
        Launch("add_in_place_forward_kernel", Elementwise(destination.Length));
    }

    public void Multiply(Tensor a, Tensor b, Tensor output, Broadcast broadcast)
    {
        var (_, c, plane) = MultiplySizes(a, b, broadcast);
        RequireSameLength(a, output);
        Arguments().Add(Pointer(a)).Add(Pointer(b)).Add(Pointer(output)).Add(a.Length).Add((int)broadcast).Add(c)
            .Add(plane);
        Launch("multiply_forward_kernel", Elementwise(a.Length));
    }

    public void MultiplyBackward(Tensor a, Tensor b, Tensor gradOutput, Tensor? gradA, Tensor? gradB,
        Broadcast broadcast)
    {
        var (n, c, plane) = MultiplySizes(a, b, broadcast);
        RequireSameLength(a, gradOutput);
        if (gradA is not null)
        {
            RequireSameLength(a, gradA);
            Arguments().Add(Pointer(b)).Add(Pointer(gradOutput)).Add(Pointer(gradA)).Add(a.Length)
                .Add((int)broadcast).Add(c).Add(plane);
            Launch("multiply_backward_input_kernel", Elementwise(a.Length));
        }
        if (gradB is null)
            return;
        RequireSameLength(b, gradB);
        switch (broadcast)
        {
            case Broadcast.None:
                // dB = dOutput · a is the same elementwise product with the operands swapped.
                Arguments().Add(Pointer(a)).Add(Pointer(gradOutput)).Add(Pointer(gradB)).Add(a.Length)
                    .Add((int)Broadcast.None).Add(c).Add(plane);
                Launch("multiply_backward_input_kernel", Elementwise(a.Length));
                break;
            case Broadcast.PerChannel:
                Arguments().Add(Pointer(a)).Add(Pointer(gradOutput)).Add(Pointer(gradB)).Add(plane);
                Launch("multiply_backward_per_channel_block_per_plane_kernel", BlockPerRow((long)n * c));
                break;
            case Broadcast.PerPixel:
                long pixels = (long)n * plane;
                Arguments().Add(Pointer(a)).Add(Pointer(gradOutput)).Add(Pointer(gradB)).Add(pixels).Add(c)
                    .Add(plane);
                Launch("multiply_backward_per_pixel_kernel", Elementwise(pixels));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(broadcast), broadcast, "Unknown broadcast mode.");
        }
    }

    public void ReluForward(Tensor input, Tensor output)
    {
        RequireSameLength(input, output);
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(input.Length);
        Launch("relu_forward_kernel", Elementwise(input.Length));
    }

    public void ReluBackward(Tensor output, Tensor gradOutput, Tensor gradInput)
    {
        RequireSameLength(output, gradOutput);
        RequireSameLength(output, gradInput);
        Arguments().Add(Pointer(output)).Add(Pointer(gradOutput)).Add(Pointer(gradInput)).Add(output.Length);
        Launch("relu_backward_kernel", Elementwise(output.Length));
    }

    public void SigmoidForward(Tensor input, Tensor output)
    {
        RequireSameLength(input, output);
        Arguments().Add(Pointer(input)).Add(Pointer(output)).Add(input.Length);
        Launch("sigmoid_forward_kernel", Elementwise(input.Length));
    }

    public void SigmoidBackward(Tensor output, Tensor gradOutput, Tensor gradInput)
    {
        RequireSameLength(output, gradOutput);
        RequireSameLength(output, gradInput);
        Arguments().Add(Pointer(output)).Add(Pointer(gradOutput)).Add(Pointer(gradInput)).Add(output.Length);
        Launch("sigmoid_backward_kernel", Elementwise(output.Length));
    }

    /// <summary>Checks a's and b's shapes for the broadcast mode; returns N, C and the plane size H·W.</summary>
    private static (int N, int C, long Plane) MultiplySizes(Tensor a, Tensor b, Broadcast broadcast)
    {
        var (n, c, h, w) = Nchw(a, "first operand");
        int[] expected = broadcast switch
        {
            Broadcast.None => [n, c, h, w],
            Broadcast.PerChannel => [n, c, 1, 1],
            Broadcast.PerPixel => [n, 1, h, w],
            _ => throw new ArgumentOutOfRangeException(nameof(broadcast), broadcast, "Unknown broadcast mode."),
        };
        RequireShape(b, expected, "second operand");
        return (n, c, (long)h * w);
    }
}
