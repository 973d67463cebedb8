// Channel concatenation of NCHW float32 tensors: input (N, C_i, H, W) is the channel slice
// [offset, offset + C_i) of output (N, C_total, H, W). The backward pass copies the slice back out.
// Launch: 1-D grid, grid-stride loop over the N·C_i·H·W elements of the part; 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

extern "C" __global__ void concat_channels_forward_kernel(const float* part, float* output, long long length,
                                                          int part_channels, int total_channels,
                                                          int channel_offset, long long plane)
{
    long long part_image = (long long)part_channels * plane, total_image = (long long)total_channels * plane;
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        output[(i / part_image) * total_image + channel_offset * plane + i % part_image] = part[i];
}

extern "C" __global__ void concat_channels_backward_kernel(const float* grad_output, float* grad_part,
                                                           long long length, int part_channels,
                                                           int total_channels, int channel_offset,
                                                           long long plane)
{
    long long part_image = (long long)part_channels * plane, total_image = (long long)total_channels * plane;
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
        grad_part[i] = grad_output[(i / part_image) * total_image + channel_offset * plane + i % part_image];
}
