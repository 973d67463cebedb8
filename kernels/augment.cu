// Device augmentation of a training batch gathered from a dataset that lives on the device: byte images
// (count, H, W) with one channel, normalized through a 256-entry table, then crop with zero padding, horizontal
// flip and random erasing, in torchvision's order (crop, flip, normalize, erase). The random choices are drawn
// on the host, 7 ints per sample: offset_y, offset_x, flip, erase_top, erase_left, erase_height, erase_width
// (the engine's SampleTransform), so GPU batches equal the CPU pipeline's for the same seed.
// Output: (batch, 1, H, W) float32. Launch: 1-D grid, grid-stride loop over batch·H·W; 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

extern "C" __global__ void augment_forward_kernel(const unsigned char* images, const int* sample_indices,
                                                  const int* transforms, const float* table, float* output,
                                                  int batch, int height, int width)
{
    long long plane = (long long)height * width, length = batch * plane;
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        int b = (int)(i / plane), y = (int)((i % plane) / width), x = (int)(i % width);
        const int* t = transforms + 7 * b;
        float value;
        if (y >= t[3] && y < t[3] + t[5] && x >= t[4] && x < t[4] + t[6])
            value = 0.0f; // erased after normalization, so it is the dataset mean
        else
        {
            // The crop shifts by (offset_y, offset_x); flipping the cropped image reads column W−1−x of the crop.
            int source_y = y + t[0];
            int source_x = (t[2] ? width - 1 - x : x) + t[1];
            bool inside = source_y >= 0 && source_y < height && source_x >= 0 && source_x < width;
            const unsigned char* image = images + (long long)sample_indices[b] * plane;
            value = inside ? table[image[source_y * width + source_x]] : table[0];
        }
        output[i] = value;
    }
}

// labels_out[b] = labels[sample_indices[b]]. Launch: 1-D grid over the batch.
extern "C" __global__ void gather_labels_forward_kernel(const float* labels, const int* sample_indices,
                                                        float* labels_out, int batch)
{
    for (long long b = fc_thread_index(); b < batch; b += fc_grid_stride())
        labels_out[b] = labels[sample_indices[b]];
}
