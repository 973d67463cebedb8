// Device helpers shared by the kernels: math functions, warp and block reductions, 64-bit loop indices.
// nvcc provides its math library and intrinsics; clang compile-checks without CUDA headers (prelude.h,
// -nocudainc -nocudalib), so that branch maps the same names onto NVVM builtins and inline PTX. Only the
// nvcc branch is meant to run: the clang branch uses approximate exp/log and exists to catch compile errors.
#pragma once

#ifdef __CUDACC_VER_MAJOR__
static __device__ inline float fc_exp(float x) { return expf(x); }
static __device__ inline float fc_log(float x) { return logf(x); }
static __device__ inline float fc_sqrt(float x) { return sqrtf(x); }
static __device__ inline float fc_pow(float x, float y) { return powf(x, y); }
static __device__ inline double fc_log_double(double x) { return log(x); }
static __device__ inline double fc_sqrt_double(double x) { return sqrt(x); }
static __device__ inline float fc_nan() { return __int_as_float(0x7fc00000); }
static __device__ inline float fc_infinity() { return __int_as_float(0x7f800000); }
static __device__ inline float fc_shfl_down(float v, int offset)
{
    return __shfl_down_sync(0xffffffffu, v, offset);
}
static __device__ inline int fc_shfl_down_int(int v, int offset)
{
    return __shfl_down_sync(0xffffffffu, v, offset);
}
static __device__ inline double fc_shfl_down_double(double v, int offset)
{
    return __shfl_down_sync(0xffffffffu, v, offset);
}
static __device__ inline float fc_shfl_xor(float v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
#else
static __device__ inline float fc_exp(float x) { return __nvvm_ex2_approx_f(x * 1.44269504f); }
static __device__ inline float fc_log(float x) { return __nvvm_lg2_approx_f(x) * 0.693147181f; }
static __device__ inline float fc_sqrt(float x) { return __nvvm_sqrt_rn_f(x); }
static __device__ inline float fc_pow(float x, float y) { return __nvvm_ex2_approx_f(y * __nvvm_lg2_approx_f(x)); }
static __device__ inline double fc_log_double(double x) { return (double)fc_log((float)x); }
static __device__ inline double fc_sqrt_double(double x) { return __nvvm_sqrt_rn_d(x); }
static __device__ inline float fc_nan() { return __builtin_nanf(""); }
static __device__ inline float fc_infinity() { return __builtin_inff(); }
static __device__ inline float fc_shfl_down(float v, int offset)
{
    float r;
    asm volatile("shfl.sync.down.b32 %0, %1, %2, 31, -1;" : "=f"(r) : "f"(v), "r"(offset));
    return r;
}
static __device__ inline float fc_shfl_xor(float v, int mask)
{
    float r;
    asm volatile("shfl.sync.bfly.b32 %0, %1, %2, 31, -1;" : "=f"(r) : "f"(v), "r"(mask));
    return r;
}
static __device__ inline int fc_shfl_down_int(int v, int offset)
{
    int r;
    asm volatile("shfl.sync.down.b32 %0, %1, %2, 31, -1;" : "=r"(r) : "r"(v), "r"(offset));
    return r;
}
static __device__ inline double fc_shfl_down_double(double v, int offset)
{
    int lo = (int)(__builtin_bit_cast(unsigned long long, v) & 0xffffffffu);
    int hi = (int)(__builtin_bit_cast(unsigned long long, v) >> 32);
    lo = fc_shfl_down_int(lo, offset);
    hi = fc_shfl_down_int(hi, offset);
    unsigned long long bits = ((unsigned long long)(unsigned)hi << 32) | (unsigned)lo;
    return __builtin_bit_cast(double, bits);
}
#endif

// The larger of two floats; a NaN in either gives NaN, as the CPU paths' max does.
static __device__ inline float fc_fmax(float a, float b) { return (a > b || a != a) ? a : b; }

// Whether value replaces best as a running maximum, the rule of the reference (PoolingReference.IsNewMax): a
// strictly larger value does, so the first of equal maxima stays, and so does a NaN after a number.
static __device__ inline bool fc_is_new_max(float value, float best)
{
    return value > best || (value != value && best == best);
}

// First index of the global thread in a 1-D grid, and the grid-stride, both 64-bit.
static __device__ inline long long fc_thread_index()
{
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}
static __device__ inline long long fc_grid_stride() { return (long long)blockDim.x * gridDim.x; }

// Sum over the 32 lanes of a warp; lane 0 holds the result.
static __device__ inline float fc_warp_sum(float v)
{
    for (int offset = 16; offset > 0; offset /= 2)
        v += fc_shfl_down(v, offset);
    return v;
}

static __device__ inline double fc_warp_sum_double(double v)
{
    for (int offset = 16; offset > 0; offset /= 2)
        v += fc_shfl_down_double(v, offset);
    return v;
}

// Maximum and sum over the 32 lanes of a warp by butterfly shuffles; every lane gets the result.
static __device__ inline float fc_warp_max_all(float v)
{
    for (int mask = 16; mask > 0; mask /= 2)
        v = fc_fmax(v, fc_shfl_xor(v, mask));
    return v;
}

static __device__ inline float fc_warp_sum_all(float v)
{
    for (int mask = 16; mask > 0; mask /= 2)
        v += fc_shfl_xor(v, mask);
    return v;
}

// Block-wide sum for blockDim.x a multiple of 32 (at most 1024). Every thread gets the result. The order of
// additions is fixed by the block size, so results repeat bit for bit from run to run.
static __device__ double fc_block_sum_double(double v)
{
    __shared__ double warp_sums[32];
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    v = fc_warp_sum_double(v);
    __syncthreads(); // warp_sums may still be read by a previous call
    if (lane == 0)
        warp_sums[warp] = v;
    __syncthreads();
    v = threadIdx.x < warps ? warp_sums[threadIdx.x] : 0.0;
    if (warp == 0)
        v = fc_warp_sum_double(v);
    if (threadIdx.x == 0)
        warp_sums[0] = v;
    __syncthreads();
    return warp_sums[0];
}

// Keeps the candidate that a scan in index order by fc_is_new_max would end on. A NaN beats a number, and a larger
// value a smaller one. Between two NaNs or two equal values, the smaller index wins.
static __device__ inline void fc_argmax_merge(float& value, long long& index, float other_value,
                                                       long long other_index)
{
    bool value_nan = value != value, other_nan = other_value != other_value;
    bool other_first = value_nan != other_nan ? other_nan
                       : (value_nan || other_value == value) ? other_index < index
                       : other_value > value;
    if (other_index >= 0 && (index < 0 || other_first))
    {
        value = other_value;
        index = other_index;
    }
}

// Block-wide first argmax: each thread passes its candidate (index -1 for none); every thread gets the winner.
static __device__ long long fc_block_argmax(float value, long long index)
{
    __shared__ float values[1024];
    __shared__ long long indices[1024];
    values[threadIdx.x] = value;
    indices[threadIdx.x] = index;
    __syncthreads();
    // Tree reduction that also handles block sizes that are not powers of two: each round folds the upper
    // half of the active range onto the lower half.
    for (unsigned active = blockDim.x; active > 1;)
    {
        unsigned half = (active + 1) / 2;
        if (threadIdx.x < active - half)
        {
            float v = values[threadIdx.x];
            long long i = indices[threadIdx.x];
            fc_argmax_merge(v, i, values[threadIdx.x + half], indices[threadIdx.x + half]);
            values[threadIdx.x] = v;
            indices[threadIdx.x] = i;
        }
        __syncthreads();
        active = half;
    }
    long long winner = indices[0];
    __syncthreads();
    return winner;
}
