// CBAM channel pooling: average and max over H×W of each (n, c) plane of an NCHW float32 input, giving
// (N, C, 1, 1), and the backward passes. Two forward versions each, with their launch shapes:
//   *_thread_per_plane_kernel: naive; 1-D grid over the N·C planes, one thread walks a whole plane.
//   *_block_per_plane_kernel: one block per plane (grid N·C), the threads stride over it and reduce.
// A tie in the max goes to the first maximal element in row-major order, as in every backend.
// 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

extern "C" __global__ void global_avg_pool_forward_thread_per_plane_kernel(const float* input, float* output,
                                                                           long long planes, long long plane)
{
    for (long long p = fc_thread_index(); p < planes; p += fc_grid_stride())
    {
        double sum = 0.0;
        for (long long j = 0; j < plane; j++)
            sum += input[p * plane + j];
        output[p] = (float)(sum / plane);
    }
}

extern "C" __global__ void global_avg_pool_forward_block_per_plane_kernel(const float* input, float* output,
                                                                          long long plane)
{
    long long base = (long long)blockIdx.x * plane;
    double sum = 0.0;
    for (long long j = threadIdx.x; j < plane; j += blockDim.x)
        sum += input[base + j];
    sum = fc_block_sum_double(sum);
    if (threadIdx.x == 0)
        output[blockIdx.x] = (float)(sum / plane);
}

// grad_input[p, j] = grad_output[p] / (H·W). Launch: 1-D grid, grid-stride loop over N·C·H·W.
extern "C" __global__ void global_avg_pool_backward_kernel(const float* grad_output, float* grad_input,
                                                           long long length, long long plane)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        grad_input[i] = grad_output[i / plane] / (float)plane;
}

extern "C" __global__ void global_max_pool_forward_thread_per_plane_kernel(const float* input, float* output,
                                                                           long long planes, long long plane)
{
    for (long long p = fc_thread_index(); p < planes; p += fc_grid_stride())
    {
        float best = input[p * plane];
        for (long long j = 1; j < plane; j++)
            best = fc_fmax(best, input[p * plane + j]);
        output[p] = best;
    }
}

extern "C" __global__ void global_max_pool_forward_block_per_plane_kernel(const float* input, float* output,
                                                                          long long plane)
{
    long long base = (long long)blockIdx.x * plane;
    float best = 0.0f;
    long long best_index = -1;
    for (long long j = threadIdx.x; j < plane; j += blockDim.x)
        fc_argmax_merge(best, best_index, input[base + j], j);
    long long winner = fc_block_argmax(best, best_index);
    if (threadIdx.x == 0)
        output[blockIdx.x] = input[base + winner];
}

// Recomputes each plane's first maximum and sends grad_output to it; every other element gets 0.
// Launch: one block per plane (grid N·C), any multiple of 32 threads.
extern "C" __global__ void global_max_pool_backward_block_per_plane_kernel(const float* input,
                                                                           const float* grad_output,
                                                                           float* grad_input, long long plane)
{
    long long base = (long long)blockIdx.x * plane;
    float best = 0.0f;
    long long best_index = -1;
    for (long long j = threadIdx.x; j < plane; j += blockDim.x)
        fc_argmax_merge(best, best_index, input[base + j], j);
    long long winner = fc_block_argmax(best, best_index);
    float gradient = grad_output[blockIdx.x];
    for (long long j = threadIdx.x; j < plane; j += blockDim.x)
        grad_input[base + j] = j == winner ? gradient : 0.0f;
}
