// Max and average pooling over NCHW float32 input (N, C, H, W) → (N, C, P, Q) with a kernel_h × kernel_w window,
// strides and zero padding. Padded positions never win a max; for the average they count in the divisor
// (PyTorch's count_include_pad=True), which is therefore always kernel_h · kernel_w.
// Forward launch: 1-D grid, grid-stride loop, one thread per output element (N·C·P·Q).
// Backward launch: one thread per input element (N·C·H·W) that gathers from every window containing it, so no
// two threads write one element and no atomics are needed; the result is deterministic.
// 64-bit indices for the flat positions; per-plane coordinates fit in int.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

struct pool_shape
{
    int height, width, out_height, out_width, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

// Row-major index within the plane of the first maximum of window (p, q), skipping padded positions.
static __device__ int window_argmax(const float* plane, pool_shape s, int p, int q)
{
    int h0 = p * s.stride_h - s.pad_h, w0 = q * s.stride_w - s.pad_w;
    int best = -1;
    float best_value = 0.0f;
    for (int kh = 0; kh < s.kernel_h; kh++)
    {
        int ih = h0 + kh;
        if (ih < 0 || ih >= s.height)
            continue;
        for (int kw = 0; kw < s.kernel_w; kw++)
        {
            int iw = w0 + kw;
            if (iw < 0 || iw >= s.width)
                continue;
            int index = ih * s.width + iw;
            if (best < 0 || fc_is_new_max(plane[index], best_value))
            {
                best = index;
                best_value = plane[index];
            }
        }
    }
    return best;
}

// First and last output row (or column) whose window covers input row i: p·stride − pad ≤ i ≤ p·stride − pad + k − 1.
static __device__ inline void covering_range(int i, int kernel, int stride, int pad, int outputs, int& first,
                                             int& last)
{
    int numerator = i + pad - kernel + 1;
    first = numerator <= 0 ? 0 : (numerator + stride - 1) / stride;
    last = (i + pad) / stride;
    if (last > outputs - 1)
        last = outputs - 1;
}

extern "C" __global__ void max_pool2d_forward_kernel(const float* input, float* output, long long length,
                                                     pool_shape s)
{
    long long out_plane = (long long)s.out_height * s.out_width, in_plane = (long long)s.height * s.width;
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        long long plane_index = i / out_plane;
        int pq = (int)(i % out_plane);
        const float* plane = input + plane_index * in_plane;
        output[i] = plane[window_argmax(plane, s, pq / s.out_width, pq % s.out_width)];
    }
}

extern "C" __global__ void max_pool2d_backward_kernel(const float* input, const float* grad_output,
                                                      float* grad_input, long long length, pool_shape s)
{
    long long out_plane = (long long)s.out_height * s.out_width, in_plane = (long long)s.height * s.width;
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        long long plane_index = i / in_plane;
        int hw = (int)(i % in_plane), ih = hw / s.width, iw = hw % s.width;
        const float* plane = input + plane_index * in_plane;
        const float* grad_plane = grad_output + plane_index * out_plane;
        int p_first, p_last, q_first, q_last;
        covering_range(ih, s.kernel_h, s.stride_h, s.pad_h, s.out_height, p_first, p_last);
        covering_range(iw, s.kernel_w, s.stride_w, s.pad_w, s.out_width, q_first, q_last);
        float sum = 0.0f;
        for (int p = p_first; p <= p_last; p++)
            for (int q = q_first; q <= q_last; q++)
                if (window_argmax(plane, s, p, q) == hw)
                    sum += grad_plane[p * s.out_width + q];
        grad_input[i] = sum;
    }
}

extern "C" __global__ void avg_pool2d_forward_kernel(const float* input, float* output, long long length,
                                                     pool_shape s)
{
    long long out_plane = (long long)s.out_height * s.out_width, in_plane = (long long)s.height * s.width;
    float divisor = (float)(s.kernel_h * s.kernel_w);
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        const float* plane = input + (i / out_plane) * in_plane;
        int pq = (int)(i % out_plane);
        int h0 = (pq / s.out_width) * s.stride_h - s.pad_h, w0 = (pq % s.out_width) * s.stride_w - s.pad_w;
        float sum = 0.0f;
        for (int kh = 0; kh < s.kernel_h; kh++)
        {
            int ih = h0 + kh;
            if (ih < 0 || ih >= s.height)
                continue;
            for (int kw = 0; kw < s.kernel_w; kw++)
            {
                int iw = w0 + kw;
                if (iw >= 0 && iw < s.width)
                    sum += plane[ih * s.width + iw];
            }
        }
        output[i] = sum / divisor;
    }
}

extern "C" __global__ void avg_pool2d_backward_kernel(const float* grad_output, float* grad_input,
                                                      long long length, pool_shape s)
{
    long long out_plane = (long long)s.out_height * s.out_width, in_plane = (long long)s.height * s.width;
    float divisor = (float)(s.kernel_h * s.kernel_w);
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        const float* grad_plane = grad_output + (i / in_plane) * out_plane;
        int hw = (int)(i % in_plane), ih = hw / s.width, iw = hw % s.width;
        int p_first, p_last, q_first, q_last;
        covering_range(ih, s.kernel_h, s.stride_h, s.pad_h, s.out_height, p_first, p_last);
        covering_range(iw, s.kernel_w, s.stride_w, s.pad_w, s.out_width, q_first, q_last);
        float sum = 0.0f;
        for (int p = p_first; p <= p_last; p++)
            for (int q = q_first; q <= q_last; q++)
                sum += grad_plane[p * s.out_width + q];
        grad_input[i] = sum / divisor;
    }
}
