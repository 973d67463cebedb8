using System.Numerics.Tensors;
using Tensor = FashionCuda.Tensors.Tensor;

namespace FashionCuda.Backends.Cpu;

// Local response normalization across the channels of (N, C, H, W), one task per image. With
// D_c = k + alpha/size · Σ_{j ∈ window(c)} a_j² and window(c) = [c − size/2, c + (size − 1)/2] ∩ [0, C):
//   forward   b_c = a_c · D_c^(−beta)
//   backward  da_j = db_j · D_j^(−beta) − (2·alpha·beta/size) · a_j · Σ_{c : j ∈ window(c)} db_c·b_c / D_c
public sealed partial class CpuBackend
{
    public void LocalResponseNormForward(Tensor input, Tensor output, int size, float alpha, float beta, float k)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, output);
        ValidateLrnSize(size);
        int plane = h * w;
        float[] x = Array(input), y = Array(output);
        ForItems(n, (long)c * plane * size, image =>
        {
            float[] denominator = RentScratch(c * plane);
            try
            {
                var a = x.AsSpan(image * c * plane, c * plane);
                LrnDenominators(a, c, plane, size, alpha, k, denominator);
                var b = y.AsSpan(image * c * plane, c * plane);
                TensorPrimitives.Pow(denominator.AsSpan(0, c * plane), -beta, b);
                TensorPrimitives.Multiply(a, b, b);
            }
            finally
            {
                ReturnScratch(denominator);
            }
        });
    }

    public void LocalResponseNormBackward(Tensor input, Tensor output, Tensor gradOutput, Tensor gradInput, int size,
        float alpha, float beta, float k)
    {
        var (n, c, h, w) = Nchw(input, "input");
        RequireSameLength(input, output);
        RequireSameLength(input, gradOutput);
        RequireSameLength(input, gradInput);
        ValidateLrnSize(size);
        int plane = h * w, imageLength = c * plane;
        float[] x = Array(input), y = Array(output), dy = Array(gradOutput), dx = Array(gradInput);
        float coefficient = -2f * alpha * beta / size;
        ForItems(n, (long)imageLength * size, image =>
        {
            float[] denominator = RentScratch(imageLength);
            float[] ratio = RentScratch(imageLength);
            try
            {
                int offset = image * imageLength;
                var a = x.AsSpan(offset, imageLength);
                var d = denominator.AsSpan(0, imageLength);
                var t = ratio.AsSpan(0, imageLength);
                var gradIn = dx.AsSpan(offset, imageLength);
                LrnDenominators(a, c, plane, size, alpha, k, denominator);
                // t_c = db_c·b_c / D_c, then da_j = db_j·D_j^(−beta) + coefficient·a_j·Σ t over the window.
                TensorPrimitives.Multiply(dy.AsSpan(offset, imageLength), y.AsSpan(offset, imageLength), t);
                TensorPrimitives.Divide(t, d, t);
                TensorPrimitives.Pow(d, -beta, gradIn);
                TensorPrimitives.Multiply(gradIn, dy.AsSpan(offset, imageLength), gradIn);
                float[] windowSum = RentScratch(plane);
                try
                {
                    var sum = windowSum.AsSpan(0, plane);
                    for (int j = 0; j < c; j++)
                    {
                        sum.Clear();
                        int first = Math.Max(0, j - (size - 1) / 2), last = Math.Min(c - 1, j + size / 2);
                        for (int channel = first; channel <= last; channel++)
                            TensorPrimitives.Add(sum, t.Slice(channel * plane, plane), sum);
                        TensorPrimitives.Multiply(sum, a.Slice(j * plane, plane), sum);
                        var target = gradIn.Slice(j * plane, plane);
                        TensorPrimitives.MultiplyAdd(sum, coefficient, target, target);
                    }
                }
                finally
                {
                    ReturnScratch(windowSum);
                }
            }
            finally
            {
                ReturnScratch(denominator);
                ReturnScratch(ratio);
            }
        });
    }

    /// <summary>Writes D_c = k + alpha/size · Σ a_j² over window(c) for every channel of one image.</summary>
    private static void LrnDenominators(ReadOnlySpan<float> a, int c, int plane, int size, float alpha, float k,
        float[] denominator)
    {
        var squares = denominator.AsSpan(0, c * plane);
        for (int channel = 0; channel < c; channel++)
        {
            var target = squares.Slice(channel * plane, plane);
            target.Clear();
            int first = Math.Max(0, channel - size / 2), last = Math.Min(c - 1, channel + (size - 1) / 2);
            for (int j = first; j <= last; j++)
            {
                var source = a.Slice(j * plane, plane);
                TensorPrimitives.FusedMultiplyAdd(source, source, target, target);
            }
            ScaleShift(target, alpha / size, k, target);
        }
    }

    private static void ValidateLrnSize(int size)
    {
        if (size < 1)
            throw new ArgumentOutOfRangeException(nameof(size), size, "The LRN window size must be at least 1.");
    }
}
