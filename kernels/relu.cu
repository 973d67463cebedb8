// ReLU forward and backward over a flat float32 buffer of any shape (NCHW tensors included).
// Launch: 1-D grid, blockDim.x threads, grid-stride loop, so any grid size covers any length.
// Indices are 64-bit because a buffer can hold more than 2^31 elements.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

extern "C" __global__ void relu_forward_kernel(const float* input, float* output, long long length)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        float x = input[i];
        output[i] = x > 0.0f ? x : 0.0f;
    }
}

// grad_input = grad_output where the forward output was positive, else 0 (the gradient at 0 is 0).
extern "C" __global__ void relu_backward_kernel(const float* output, const float* grad_output, float* grad_input,
                                                long long length)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        grad_input[i] = output[i] > 0.0f ? grad_output[i] : 0.0f;
}
