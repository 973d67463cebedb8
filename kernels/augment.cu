// Device augmentation of a training batch gathered from a dataset that lives on the device. The
// dataset is byte images (count, C, H, W) and float32 labels (count). Each channel is normalized
// through its own 256-entry slice of table (C·256 floats, the host's Normalization table). Per output
// pixel, in torchvision's order: crop with zero padding in pixel space (so the pad value is entry 0 of
// the channel's table), flip the crop horizontally, normalize, then erase to 0 after normalization.
// The host draws the random choices (the engine's SampleTransform) and packs them with the dataset
// index into one fc_batch_sample per image, so GPU batches equal the CPU pipeline's for the same seed.
// Output: (batch, C, H, W) float32.
// Launch: 1-D grid, grid-stride loop over batch·C·H·W; 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

// 8 ints (32 bytes). The C# struct DeviceBatchSample has the same fields in the same order.
struct fc_batch_sample
{
    int index;        // image in the dataset
    int offset_y;     // crop: output row y reads input row y + offset_y
    int offset_x;     // crop: column shift, applied before the flip
    int flip;         // 1 mirrors the crop left to right
    int erase_top;    // erased rectangle in output coordinates, empty when erase_height is 0
    int erase_left;
    int erase_height;
    int erase_width;
};

extern "C" __global__ void augment_forward_kernel(
    const unsigned char* images, const fc_batch_sample* samples, const float* table, float* output,
    int batch, int channels, int height, int width)
{
    long long plane = (long long)height * width, image_size = channels * plane;
    long long length = batch * image_size;
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        int b = (int)(i / image_size), c = (int)((i / plane) % channels);
        int y = (int)((i % plane) / width), x = (int)(i % width);
        const fc_batch_sample s = samples[b];
        const float* channel_table = table + 256 * c;
        float value;
        if (y >= s.erase_top && y < s.erase_top + s.erase_height && x >= s.erase_left &&
            x < s.erase_left + s.erase_width)
            value = 0.0f; // erased after normalization, so it is the dataset mean
        else
        {
            // Flipping the cropped image reads column W−1−x of the crop.
            int source_y = y + s.offset_y;
            int source_x = (s.flip ? width - 1 - x : x) + s.offset_x;
            bool inside = source_y >= 0 && source_y < height && source_x >= 0 && source_x < width;
            const unsigned char* image = images + (long long)s.index * image_size + c * plane;
            long long source = (long long)source_y * width + source_x;
            value = inside ? channel_table[image[source]] : channel_table[0];
        }
        output[i] = value;
    }
}

// labels_out[b] = labels[samples[b].index]. Launch: 1-D grid over the batch.
extern "C" __global__ void gather_labels_forward_kernel(
    const float* labels, const fc_batch_sample* samples, float* labels_out, int batch)
{
    for (long long b = fc_thread_index(); b < batch; b += fc_grid_stride())
        labels_out[b] = labels[samples[b].index];
}
