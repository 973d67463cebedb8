// Elementwise sums over flat float32 buffers of any shape.
// Launch: 1-D grid of blockDim.x threads with a grid-stride loop, so any grid size covers any length.
// Indices are 64-bit because a buffer can hold more than 2^31 elements.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

// output = a + b; output may alias a or b.
extern "C" __global__ void add_forward_kernel(const float* a, const float* b, float* output, long long length)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        output[i] = a[i] + b[i];
}

// destination += source, used to accumulate gradients.
extern "C" __global__ void add_in_place_forward_kernel(float* destination, const float* source,
                                                       long long length)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        destination[i] += source[i];
}
