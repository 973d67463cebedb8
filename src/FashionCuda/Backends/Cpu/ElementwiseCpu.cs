using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Tensor = FashionCuda.Tensors.Tensor;

namespace FashionCuda.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void Add(Tensor a, Tensor b, Tensor output)
    {
        RequireSameLength(a, b);
        RequireSameLength(a, output);
        float[] x = Array(a), y = Array(b), z = Array(output);
        ForRanges((int)a.Length, (start, count) =>
            TensorPrimitives.Add(x.AsSpan(start, count), y.AsSpan(start, count), z.AsSpan(start, count)));
    }

    public void AddInPlace(Tensor destination, Tensor source)
    {
        RequireSameLength(destination, source);
        float[] target = Array(destination), addend = Array(source);
        ForRanges((int)destination.Length, (start, count) =>
        {
            var span = target.AsSpan(start, count);
            TensorPrimitives.Add(span, addend.AsSpan(start, count), span);
        });
    }

    public void Multiply(Tensor a, Tensor b, Tensor output, Broadcast broadcast)
    {
        RequireSameLength(a, output);
        float[] x = Array(a), y = Array(b), z = Array(output);
        if (broadcast == Broadcast.None)
        {
            RequireSameLength(a, b);
            ForRanges((int)a.Length, (start, count) =>
                TensorPrimitives.Multiply(x.AsSpan(start, count), y.AsSpan(start, count), z.AsSpan(start, count)));
            return;
        }
        var (n, c, h, w) = Nchw(a, "input a");
        int plane = h * w;
        RequireLength(b, broadcast == Broadcast.PerChannel ? (long)n * c : (long)n * plane, "factor b");
        ForItems(n * c, plane, item =>
        {
            var source = x.AsSpan(item * plane, plane);
            var target = z.AsSpan(item * plane, plane);
            if (broadcast == Broadcast.PerChannel)
                TensorPrimitives.Multiply(source, y[item], target);
            else
                TensorPrimitives.Multiply(source, y.AsSpan(item / c * plane, plane), target);
        });
    }

    public void MultiplyBackward(Tensor a, Tensor b, Tensor gradOutput, Tensor? gradA, Tensor? gradB,
        Broadcast broadcast)
    {
        RequireSameLength(a, gradOutput);
        if (gradA is not null)
        {
            RequireSameLength(a, gradA);
            Multiply(gradOutput, b, gradA, broadcast);
        }
        if (gradB is null)
            return;
        RequireSameLength(b, gradB);
        if (broadcast == Broadcast.None)
        {
            Multiply(gradOutput, a, gradB, Broadcast.None);
            return;
        }
        var (n, c, h, w) = Nchw(a, "input a");
        int plane = h * w;
        float[] x = Array(a), dy = Array(gradOutput), db = Array(gradB);
        if (broadcast == Broadcast.PerChannel)
        {
            ForItems(n * c, plane, item =>
                db[item] = TensorPrimitives.Dot(dy.AsSpan(item * plane, plane), x.AsSpan(item * plane, plane)));
            return;
        }
        // Per pixel: dB[n, hw] = Σ over c of dOutput[n, c, hw] · a[n, c, hw].
        ForItems(n, (long)c * plane, image =>
        {
            var sum = db.AsSpan(image * plane, plane);
            sum.Clear();
            for (int channel = 0; channel < c; channel++)
            {
                int offset = (image * c + channel) * plane;
                TensorPrimitives.FusedMultiplyAdd(dy.AsSpan(offset, plane), x.AsSpan(offset, plane), sum, sum);
            }
        });
    }

    public void ReluForward(Tensor input, Tensor output)
    {
        RequireSameLength(input, output);
        float[] x = Array(input), y = Array(output);
        ForRanges((int)input.Length, (start, count) =>
            TensorPrimitives.Max(x.AsSpan(start, count), 0f, y.AsSpan(start, count)));
    }

    public void ReluBackward(Tensor output, Tensor gradOutput, Tensor gradInput)
    {
        RequireSameLength(output, gradOutput);
        RequireSameLength(output, gradInput);
        float[] y = Array(output), dy = Array(gradOutput), dx = Array(gradInput);
        ForRanges((int)output.Length, (start, count) => ReluBackwardRange(y, dy, dx, start, count));
    }

    private static void ReluBackwardRange(float[] y, float[] dy, float[] dx, int start, int count)
    {
        var output = y.AsSpan(start, count);
        var gradOutput = dy.AsSpan(start, count);
        var gradInput = dx.AsSpan(start, count);
        int i = 0;
        for (; i <= count - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            var positive = Vector512.GreaterThan(Vector512.Create(output.Slice(i)), Vector512<float>.Zero);
            Vector512.ConditionalSelect(positive, Vector512.Create(gradOutput.Slice(i)), Vector512<float>.Zero)
                .CopyTo(gradInput.Slice(i));
        }
        for (; i < count; i++)
            gradInput[i] = output[i] > 0f ? gradOutput[i] : 0f;
    }

    public void SigmoidForward(Tensor input, Tensor output)
    {
        RequireSameLength(input, output);
        float[] x = Array(input), y = Array(output);
        ForRanges((int)input.Length, (start, count) =>
            TensorPrimitives.Sigmoid(x.AsSpan(start, count), y.AsSpan(start, count)));
    }

    public void SigmoidBackward(Tensor output, Tensor gradOutput, Tensor gradInput)
    {
        RequireSameLength(output, gradOutput);
        RequireSameLength(output, gradInput);
        float[] y = Array(output), dy = Array(gradOutput), dx = Array(gradInput);
        ForRanges((int)output.Length, (start, count) => SigmoidBackwardRange(y, dy, dx, start, count));
    }

    private static void SigmoidBackwardRange(float[] y, float[] dy, float[] dx, int start, int count)
    {
        var output = y.AsSpan(start, count);
        var gradOutput = dy.AsSpan(start, count);
        var gradInput = dx.AsSpan(start, count);
        int i = 0;
        for (; i <= count - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            var value = Vector512.Create(output.Slice(i));
            (Vector512.Create(gradOutput.Slice(i)) * value * (Vector512<float>.One - value)).CopyTo(gradInput.Slice(i));
        }
        for (; i < count; i++)
            gradInput[i] = gradOutput[i] * output[i] * (1f - output[i]);
    }
}
