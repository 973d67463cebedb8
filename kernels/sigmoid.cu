// Logistic sigmoid forward and backward over a flat float32 buffer of any shape.
// Launch: 1-D grid, blockDim.x threads, grid-stride loop; 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

// y = 1 / (1 + e^-x). For very negative x, e^-x overflows to +inf and y correctly becomes 0.
extern "C" __global__ void sigmoid_forward_kernel(const float* input, float* output, long long length)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        output[i] = 1.0f / (1.0f + fc_exp(-input[i]));
}

// grad_input = grad_output · y · (1 − y), with y the forward output.
extern "C" __global__ void sigmoid_backward_kernel(const float* output, const float* grad_output,
                                                   float* grad_input, long long length)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        float y = output[i];
        grad_input[i] = grad_output[i] * y * (1.0f - y);
    }
}
