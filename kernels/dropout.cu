// Inverted dropout over a flat float32 buffer: mask[i] is 0 with probability p and 1/(1 − p) otherwise, and
// output = input · mask. The draw for element i hashes (seed, i) with the same SplitMix64 finalizer as the
// engine's CounterRandom, so the GPU mask equals the CPU mask bit for bit.
// Launch: 1-D grid, grid-stride loop; 64-bit indices (the hash takes the 64-bit element index).
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

static __device__ inline unsigned long long counter_hash(unsigned long long seed, unsigned long long index)
{
    unsigned long long z = seed * 0x9E3779B97F4A7C15ULL + index * 0xD1B54A32D192ED03ULL + 0x632BE59BD9B4E019ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// keep_scale is 1/(1 − p), computed once on the host in float32 as the CPU backend does.
extern "C" __global__ void dropout_forward_kernel(const float* input, float* output, float* mask, long long length,
                                                  float probability, float keep_scale, unsigned long long seed)
{
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        // The top 24 bits of the hash give a float in [0, 1) exactly.
        float uniform = (float)(counter_hash(seed, (unsigned long long)i) >> 40) * (1.0f / 16777216.0f);
        float factor = uniform < probability ? 0.0f : keep_scale;
        mask[i] = factor;
        output[i] = input[i] * factor;
    }
}
