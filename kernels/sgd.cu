// One SGD step in place over flat float32 buffers, PyTorch's semantics:
//   g = grad + weight_decay·param; buf = momentum·buf + (1 − dampening)·g (buf = g on the first step);
//   direction = nesterov ? g + momentum·buf : buf; param −= lr·direction.
// momentum_buffer may be null when has_momentum is 0. Launch: 1-D grid, grid-stride loop; 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

extern "C" __global__ void sgd_step_kernel(float* parameter, const float* grad, float* momentum_buffer,
                                           long long length, float learning_rate, float momentum,
                                           float dampening, float weight_decay, int has_momentum, int nesterov,
                                           int first_step)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        float d = grad[i] + weight_decay * parameter[i];
        if (has_momentum)
        {
            float b = first_step ? d : momentum * momentum_buffer[i] + (1.0f - dampening) * d;
            momentum_buffer[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        parameter[i] -= learning_rate * d;
    }
}
