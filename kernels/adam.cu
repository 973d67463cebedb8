// One Adam or AdamW step in place over flat float32 buffers, PyTorch's semantics. The host folds the bias
// corrections into step_size = lr / (1 − beta1^t) and inverse_correction2 = 1 / sqrt(1 − beta2^t); for AdamW
// it passes shrink = 1 − lr·weight_decay and coupled_decay = 0, for Adam shrink = 1 and coupled_decay =
// weight_decay, exactly as the CPU backend does:
//   g = grad + coupled_decay·param; m = beta1·m + (1 − beta1)·g; v = beta2·v + (1 − beta2)·g²;
//   param = param·shrink − step_size · m / (sqrt(v)·inverse_correction2 + eps).
// Launch: 1-D grid, grid-stride loop; 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

extern "C" __global__ void adam_step_kernel(float* parameter, const float* grad, float* first_moment,
                                            float* second_moment, long long length, float step_size,
                                            float inverse_correction2, float beta1, float beta2, float epsilon,
                                            float coupled_decay, float shrink)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        float w = parameter[i];
        float g = grad[i] + coupled_decay * w;
        float m = beta1 * first_moment[i] + (1.0f - beta1) * g;
        float v = beta2 * second_moment[i] + (1.0f - beta2) * g * g;
        first_moment[i] = m;
        second_moment[i] = v;
        parameter[i] = w * shrink - step_size * m / (fc_sqrt(v) * inverse_correction2 + epsilon);
    }
}
