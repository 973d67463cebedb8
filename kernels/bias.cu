// Bias add and bias-gradient reduction, float32.
// NCHW form: output (N, K, P, Q) with bias (K), used after convolutions.
// Rows form: output (rows, columns) with bias (columns), used after linear layers.
// Launch shapes are given above each kernel. 64-bit indices throughout.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

// output[n, k, p, q] += bias[k]. Launch: 1-D grid, grid-stride loop over N·K·P·Q.
extern "C" __global__ void bias_add_nchw_forward_kernel(float* output, const float* bias, long long length,
                                                        int channels, long long plane)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        output[i] += bias[(i / plane) % channels];
}

// output[r, c] += bias[c]. Launch: 1-D grid, grid-stride loop over rows·columns.
extern "C" __global__ void bias_add_rows_forward_kernel(float* output, const float* bias, long long length,
                                                        int columns)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        output[i] += bias[i % columns];
}

// grad_bias[c] = Σ_r grad_output[r, c]. Launch: 1-D grid over columns, one thread per column walking down the
// rows (neighbouring threads read neighbouring columns, so loads coalesce). Naive, but deterministic.
extern "C" __global__ void bias_backward_rows_thread_per_column_kernel(const float* grad_output,
                                                                       float* grad_bias, int rows, int columns)
{
    for (long long c = fc_thread_index(); c < columns; c += fc_grid_stride())
    {
        float sum = 0.0f;
        for (long long r = 0; r < rows; r++)
            sum += grad_output[r * columns + c];
        grad_bias[c] = sum;
    }
}

// grad_bias[k] = Σ over N, P, Q of grad_output[n, k, p, q]. Launch: one block per channel k (grid K) of any
// multiple of 32 threads. The block walks the N planes of its channel and sums in double.
extern "C" __global__ void bias_backward_nchw_block_per_channel_kernel(const float* grad_output,
                                                                       float* grad_bias, int batch,
                                                                       int channels, long long plane)
{
    int k = blockIdx.x;
    double sum = 0.0;
    for (long long j = threadIdx.x; j < (long long)batch * plane; j += blockDim.x)
    {
        long long n = j / plane, offset = j % plane;
        sum += grad_output[(n * channels + k) * plane + offset];
    }
    sum = fc_block_sum_double(sum);
    if (threadIdx.x == 0)
        grad_bias[k] = (float)sum;
}
