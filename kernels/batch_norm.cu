// Batch norm over NCHW float32 input (N, C, H, W) with per-channel statistics over N·H·W values, matching
// PyTorch's BatchNorm2d: biased variance for normalizing, unbiased variance for the running estimate.
// Launch for the reductions: one block per channel (grid C), any multiple of 32 threads, sums in double in a
// fixed order.
// Launch for the elementwise passes: 1-D grid, grid-stride loop over N·C·H·W. 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

// Element j (0 ≤ j < N·H·W) of channel c, in the (n, h, w) order that walks each plane contiguously.
static __device__ inline long long channel_element(long long j, int c, int channels, long long plane)
{
    return ((j / plane) * channels + c) * plane + j % plane;
}

// pass 1: mean; pass 2: biased variance around it. Writes save_mean, save_inv_std = 1/sqrt(var + eps), and
// updates running_mean and running_var in place with the given momentum.
extern "C" __global__ void batch_norm2d_forward_statistics_block_per_channel_kernel(
    const float* input, float* save_mean, float* save_inv_std, float* running_mean, float* running_var,
    int batch, int channels, long long plane, float momentum, float epsilon)
{
    int c = blockIdx.x;
    long long count = (long long)batch * plane;
    double sum = 0.0;
    for (long long j = threadIdx.x; j < count; j += blockDim.x)
        sum += input[channel_element(j, c, channels, plane)];
    float mean = (float)(fc_block_sum_double(sum) / count);
    double squares = 0.0;
    for (long long j = threadIdx.x; j < count; j += blockDim.x)
    {
        float deviation = input[channel_element(j, c, channels, plane)] - mean;
        squares += (double)deviation * deviation;
    }
    squares = fc_block_sum_double(squares);
    if (threadIdx.x == 0)
    {
        double variance = squares / count;
        save_mean[c] = mean;
        save_inv_std[c] = (float)(1.0 / fc_sqrt_double(variance + epsilon));
        double unbiased = squares / (count - 1);
        running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean;
        running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
}

// output = (x − mean)·inv_std·weight + bias, written as scale·x + shift per channel.
extern "C" __global__ void batch_norm2d_forward_kernel(const float* input, const float* weight, const float* bias,
                                                       const float* mean, const float* inv_std, float* output,
                                                       long long length, int channels, long long plane)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        int c = (int)((i / plane) % channels);
        float scale = weight[c] * inv_std[c];
        output[i] = scale * input[i] + (bias[c] - mean[c] * scale);
    }
}

// Evaluation mode: the running statistics instead of the batch's.
extern "C" __global__ void batch_norm2d_inference_forward_kernel(const float* input, const float* weight,
                                                                 const float* bias, const float* running_mean,
                                                                 const float* running_var, float* output,
                                                                 long long length, int channels, long long plane,
                                                                 float epsilon)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        int c = (int)((i / plane) % channels);
        float scale = (float)(weight[c] / fc_sqrt_double((double)running_var[c] + epsilon));
        output[i] = scale * input[i] + (bias[c] - running_mean[c] * scale);
    }
}

// grad_bias[c] = Σ dy and grad_weight[c] = Σ dy·x̂, with x̂ = (x − mean)·inv_std.
extern "C" __global__ void batch_norm2d_backward_reduce_block_per_channel_kernel(
    const float* input, const float* grad_output, const float* mean, const float* inv_std, float* grad_weight,
    float* grad_bias, int batch, int channels, long long plane)
{
    int c = blockIdx.x;
    long long count = (long long)batch * plane;
    float channel_mean = mean[c];
    double sum_dy = 0.0, sum_dy_centered = 0.0;
    for (long long j = threadIdx.x; j < count; j += blockDim.x)
    {
        long long i = channel_element(j, c, channels, plane);
        sum_dy += grad_output[i];
        sum_dy_centered += (double)grad_output[i] * (input[i] - channel_mean);
    }
    sum_dy = fc_block_sum_double(sum_dy);
    sum_dy_centered = fc_block_sum_double(sum_dy_centered);
    if (threadIdx.x == 0)
    {
        grad_bias[c] = (float)sum_dy;
        grad_weight[c] = (float)(sum_dy_centered * inv_std[c]);
    }
}

// dx = weight·inv_std·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) with M = N·H·W, from the sums of the reduce kernel.
extern "C" __global__ void batch_norm2d_backward_kernel(const float* input, const float* weight,
                                                        const float* grad_output, const float* mean,
                                                        const float* inv_std, const float* grad_weight,
                                                        const float* grad_bias, float* grad_input,
                                                        long long length, int channels, long long plane,
                                                        long long count)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        int c = (int)((i / plane) % channels);
        float k1 = weight[c] * inv_std[c];
        float x_hat = (input[i] - mean[c]) * inv_std[c];
        grad_input[i] = k1 * (grad_output[i] - grad_bias[c] / count - x_hat * grad_weight[c] / count);
    }
}
