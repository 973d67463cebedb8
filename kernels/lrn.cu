// Local response normalization across the channels of NCHW float32 input (N, C, H, W), as PyTorch's
// LocalResponseNorm. With D_c = k + alpha/size · Σ_{j ∈ window(c)} a_j² and
// window(c) = [c − size/2, c + (size − 1)/2] ∩ [0, C):
//   forward   b_c = a_c · D_c^(−beta)
//   backward  da_j = db_j · D_j^(−beta) − (2·alpha·beta/size) · a_j · Σ_{c : j ∈ window(c)} db_c · b_c / D_c
// Launch: 1-D grid, grid-stride loop, one thread per element (N·C·H·W). Naive: each thread recomputes the
// window sums it needs, O(size) per output and O(size²) per gradient. 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

static __device__ float lrn_denominator(const float* input, long long image_base, long long offset, int c,
                                        int channels, long long plane, int size, float alpha, float k)
{
    int first = c - size / 2, last = c + (size - 1) / 2;
    if (first < 0)
        first = 0;
    if (last > channels - 1)
        last = channels - 1;
    float sum = 0.0f;
    for (int j = first; j <= last; j++)
    {
        float a = input[image_base + j * plane + offset];
        sum += a * a;
    }
    return k + alpha / size * sum;
}

extern "C" __global__ void lrn_forward_kernel(const float* input, float* output, long long length, int channels,
                                              long long plane, int size, float alpha, float beta, float k)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        long long image_base = (i / (channels * plane)) * channels * plane, offset = i % plane;
        int c = (int)((i / plane) % channels);
        float d = lrn_denominator(input, image_base, offset, c, channels, plane, size, alpha, k);
        output[i] = input[i] * fc_pow(d, -beta);
    }
}

extern "C" __global__ void lrn_backward_kernel(const float* input, const float* output, const float* grad_output,
                                               float* grad_input, long long length, int channels, long long plane,
                                               int size, float alpha, float beta, float k)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        long long image_base = (i / (channels * plane)) * channels * plane, offset = i % plane;
        int j = (int)((i / plane) % channels);
        float d_j = lrn_denominator(input, image_base, offset, j, channels, plane, size, alpha, k);
        // Channels c whose window contains j: j − (size − 1)/2 ≤ c ≤ j + size/2.
        int first = j - (size - 1) / 2, last = j + size / 2;
        if (first < 0)
            first = 0;
        if (last > channels - 1)
            last = channels - 1;
        float ratio_sum = 0.0f;
        for (int c = first; c <= last; c++)
        {
            long long at = image_base + c * plane + offset;
            float d_c = lrn_denominator(input, image_base, offset, c, channels, plane, size, alpha, k);
            ratio_sum += grad_output[at] * output[at] / d_c;
        }
        grad_input[i] = grad_output[i] * fc_pow(d_j, -beta) - 2.0f * alpha * beta / size * input[i] * ratio_sum;
    }
}
