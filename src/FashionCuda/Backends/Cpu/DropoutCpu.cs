using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void DropoutForward(Tensor input, Tensor output, Tensor mask, float probability, ulong seed)
    {
        RequireSameLength(input, output);
        RequireSameLength(input, mask);
        if (!(probability >= 0f && probability <= 1f))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout p must be in [0, 1].");
        float[] x = Array(input), y = Array(output), m = Array(mask);
        float keepScale = 1f / (1f - probability);
        ForRanges((int)input.Length, (start, count) =>
        {
            int end = start + count;
            for (int i = start; i < end; i++)
            {
                // The same (seed, index) draw as every other backend, so the masks agree bit for bit.
                float factor = CounterRandom.Uniform(seed, (ulong)i) < probability ? 0f : keepScale;
                m[i] = factor;
                y[i] = x[i] * factor;
            }
        });
    }
}
