using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Tensors;

namespace FashionCuda.Tests.Backends.Cpu;

public sealed class CpuScratchMemoryTests : IDisposable
{
    private readonly CpuBackend backend = new(threadCount: 2);

    public void Dispose() => backend.Dispose();

    [Fact]
    public void GemmWorkspacesCountFromStart()
    {
        using var single = new CpuBackend(threadCount: 1);

        Assert.True(single.ScratchBytesInUse > 0, "A one-thread backend counts no GEMM workspace.");
        Assert.Equal(single.ScratchBytesInUse, single.BytesInUse);
        Assert.Equal(single.BytesInUse, single.PeakBytesInUse);
        // One packing workspace per thread.
        Assert.Equal(2 * single.ScratchBytesInUse, backend.ScratchBytesInUse);
    }

    [Fact]
    public void ConvBuffersCountInPeak()
    {
        // 3×3 taps over 3 channels (C·R·S = 27) at stride 2, so 5×5 outputs and im2col through the columns buffer.
        // Four images fit in one group (27·100 floats is far below the 4 MiB cap), so columns hold 27 × 100 and
        // staging 5 × 100 floats.
        var geometry = new Conv2dGeometry(N: 4, C: 3, H: 10, W: 10, K: 5, R: 3, S: 3, StrideH: 2, StrideW: 2,
            PadH: 1, PadW: 1);
        const long expectedScratch = 4L * (27 * 100 + 5 * 100);
        using var input = Tensor.Full(backend, geometry.InputShape, 0.5f);
        using var weight = Tensor.Full(backend, geometry.WeightShape, 0.25f);
        using var output = Tensor.Empty(backend, geometry.OutputShape);
        long bytesBefore = backend.BytesInUse;
        long scratchBefore = backend.ScratchBytesInUse;
        backend.ResetPeakMemory();

        backend.Conv2dForward(input, weight, null, output, geometry);

        Assert.Equal(scratchBefore + expectedScratch, backend.ScratchBytesInUse);
        Assert.Equal(bytesBefore + expectedScratch, backend.BytesInUse);
        Assert.Equal(bytesBefore + expectedScratch, backend.PeakBytesInUse);

        // The buffers are kept, so a second call with the same shapes adds nothing.
        backend.Conv2dForward(input, weight, null, output, geometry);
        Assert.Equal(scratchBefore + expectedScratch, backend.ScratchBytesInUse);
    }

    [Fact]
    public void ImplicitIm2ColTablesCountInPeak()
    {
        // Stride 1 with W = Q: the GEMM reads im2col from the input, so there is no columns buffer, only staging
        // (5 × 400 floats) and the tables: 3·3 masks of 100 outputs, and 27 tap offsets (long) and mask starts.
        var geometry = new Conv2dGeometry(N: 4, C: 3, H: 10, W: 10, K: 5, R: 3, S: 3, StrideH: 1, StrideW: 1,
            PadH: 1, PadW: 1);
        const long expectedScratch = 4L * 5 * 400 + 4L * 9 * 100 + 8L * 27 + 4L * 27;
        using var input = Tensor.Full(backend, geometry.InputShape, 0.5f);
        using var weight = Tensor.Full(backend, geometry.WeightShape, 0.25f);
        using var output = Tensor.Empty(backend, geometry.OutputShape);
        long scratchBefore = backend.ScratchBytesInUse;

        backend.Conv2dForward(input, weight, null, output, geometry);

        Assert.Equal(scratchBefore + expectedScratch, backend.ScratchBytesInUse);
    }

    [Fact]
    public void LrnTemporariesCountInPeak()
    {
        const int n = 2, c = 4, h = 5, w = 5;
        using var input = Tensor.Full(backend, [n, c, h, w], 0.5f);
        using var output = Tensor.Empty(backend, [n, c, h, w]);
        using var gradOutput = Tensor.Full(backend, [n, c, h, w], 1f);
        using var gradInput = Tensor.Empty(backend, [n, c, h, w]);
        long bytesBefore = backend.BytesInUse;
        backend.ResetPeakMemory();

        backend.LocalResponseNormForward(input, output, size: 3, alpha: 1e-4f, beta: 0.75f, k: 2f);

        // Each image rents a C·H·W denominator, at least, and returns it before the call ends.
        Assert.True(backend.PeakBytesInUse >= bytesBefore + 4L * c * h * w,
            $"Peak {backend.PeakBytesInUse} B does not cover {bytesBefore} B of tensors plus one denominator.");
        Assert.Equal(bytesBefore, backend.BytesInUse);

        backend.ResetPeakMemory();
        backend.LocalResponseNormBackward(input, output, gradOutput, gradInput, size: 3, alpha: 1e-4f, beta: 0.75f,
            k: 2f);

        // Backward keeps a denominator, a ratio and a window sum of H·W in use at once.
        Assert.True(backend.PeakBytesInUse >= bytesBefore + 4L * (2 * c * h * w + h * w),
            $"Peak {backend.PeakBytesInUse} B does not cover {bytesBefore} B of tensors plus three temporaries.");
        Assert.Equal(bytesBefore, backend.BytesInUse);
    }
}
