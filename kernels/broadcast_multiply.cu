// Broadcasting multiplies of CBAM's attention, all NCHW float32: a (N, C, H, W) times b. The operand b is
// (N, C, H, W) in mode 0, (N, C, 1, 1) in mode 1 (per channel) and (N, 1, H, W) in mode 2 (per pixel).
// Launch: the elementwise kernels use a 1-D grid with a grid-stride loop over N·C·H·W; the reductions state
// their shape above each kernel. 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

// Index into b of element i of a, for plane = H·W and channels = C.
static __device__ inline long long broadcast_index(long long i, int mode, int channels, long long plane)
{
    if (mode == 1)
        return i / plane;
    if (mode == 2)
        return (i / (channels * plane)) * plane + i % plane;
    return i;
}

// output = a · b, with b broadcast as mode selects.
extern "C" __global__ void multiply_forward_kernel(const float* a, const float* b, float* output,
                                                   long long length, int mode, int channels, long long plane)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        output[i] = a[i] * b[broadcast_index(i, mode, channels, plane)];
}

// grad_a = grad_output · b, with b broadcast as mode selects. For mode 0 this kernel also computes grad_b = grad_output · a
// with the operands swapped.
extern "C" __global__ void multiply_backward_input_kernel(const float* b, const float* grad_output, float* grad_a,
                                                          long long length, int mode, int channels,
                                                          long long plane)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        grad_a[i] = grad_output[i] * b[broadcast_index(i, mode, channels, plane)];
}

// Per-channel grad_b[n, c] = Σ over H·W of grad_output · a. Launch: one block per (n, c) plane (grid N·C) of
// any multiple of 32 threads. Each thread strides over the plane, then the block sums in double.
extern "C" __global__ void multiply_backward_per_channel_block_per_plane_kernel(const float* a,
                                                                                const float* grad_output,
                                                                                float* grad_b, long long plane)
{
    long long base = (long long)blockIdx.x * plane;
    double sum = 0.0;
    for (long long j = threadIdx.x; j < plane; j += blockDim.x)
        sum += (double)grad_output[base + j] * a[base + j];
    sum = fc_block_sum_double(sum);
    if (threadIdx.x == 0)
        grad_b[blockIdx.x] = (float)sum;
}

// Per-pixel grad_b[n, 0, h, w] = Σ over C of grad_output · a. Launch: 1-D grid over N·H·W pixels, one thread
// each, looping over C; neighbouring threads read neighbouring pixels, so the loads coalesce.
extern "C" __global__ void multiply_backward_per_pixel_kernel(const float* a, const float* grad_output,
                                                              float* grad_b, long long pixels, int channels,
                                                              long long plane)
{
    for (long long p = fc_thread_index(); p < pixels; p += fc_grid_stride())
    {
        long long n = p / plane, offset = p % plane;
        long long base = n * channels * plane + offset;
        float sum = 0.0f;
        for (int c = 0; c < channels; c++)
            sum += grad_output[base + c * plane] * a[base + c * plane];
        grad_b[p] = sum;
    }
}
