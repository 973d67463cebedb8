// CBAM spatial pooling: mean and max over the C channels of each pixel of an NCHW float32 input (N, C, H, W),
// giving (N, 1, H, W), and the backward passes. Launch for all four: 1-D grid with a grid-stride loop, one
// thread per output pixel (N·H·W) or per input element (N·C·H·W for the mean's backward). Threads next to each
// other handle pixels next to each other, so every channel's loads coalesce. A tie in the max goes to the first
// channel. 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

extern "C" __global__ void channel_mean_forward_kernel(const float* input, float* output, long long pixels,
                                                       int channels, long long plane)
{
    for (long long p = fc_thread_index(); p < pixels; p += fc_grid_stride())
    {
        long long base = (p / plane) * channels * plane + p % plane;
        float sum = 0.0f;
        for (int c = 0; c < channels; c++)
            sum += input[base + c * plane];
        output[p] = sum / channels;
    }
}

// grad_input[n, c, h, w] = grad_output[n, 0, h, w] / C.
extern "C" __global__ void channel_mean_backward_kernel(const float* grad_output, float* grad_input,
                                                        long long length, int channels, long long plane)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        long long pixel = (i / (channels * plane)) * plane + i % plane;
        grad_input[i] = grad_output[pixel] / channels;
    }
}

extern "C" __global__ void channel_max_forward_kernel(const float* input, float* output, long long pixels,
                                                      int channels, long long plane)
{
    for (long long p = fc_thread_index(); p < pixels; p += fc_grid_stride())
    {
        long long base = (p / plane) * channels * plane + p % plane;
        float best = input[base];
        for (int c = 1; c < channels; c++)
            best = fc_fmax(best, input[base + c * plane]);
        output[p] = best;
    }
}

// Sends grad_output of each pixel to its first maximal channel and writes 0 to the other channels.
extern "C" __global__ void channel_max_backward_kernel(const float* input, const float* grad_output,
                                                       float* grad_input, long long pixels, int channels,
                                                       long long plane)
{
    for (long long p = fc_thread_index(); p < pixels; p += fc_grid_stride())
    {
        long long base = (p / plane) * channels * plane + p % plane;
        int best_channel = 0;
        float best = input[base];
        for (int c = 1; c < channels; c++)
        {
            float value = input[base + c * plane];
            if (fc_is_new_max(value, best))
            {
                best = value;
                best_channel = c;
            }
        }
        for (int c = 0; c < channels; c++)
            grad_input[base + c * plane] = c == best_channel ? grad_output[p] : 0.0f;
    }
}
