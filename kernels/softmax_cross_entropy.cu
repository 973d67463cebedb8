// Mean softmax cross-entropy of logits (N, classes) against labels (N, class indices stored as float32) with
// label smoothing eps: the target is (1 − eps) on the label plus eps/classes everywhere. Row-major float32.
// The forward pass writes the softmax and one loss per row. A single-block kernel then averages the rows in a
// fixed order, so the loss repeats bit for bit. A label that is not a whole number in [0, classes) makes its row's
// loss NaN (and its gradient NaN), since a kernel cannot raise an error. Launch shapes per kernel:
//   *_thread_per_row_kernel: naive; 1-D grid over rows, one thread per row, three passes over the row.
//   *_warp_per_row_kernel: one 32-lane warp per row, blockDim.x/32 rows per block, shuffle reductions.
// 64-bit indices.
// NOTE: compile-checked to PTX only; no kernel in this file has run on a GPU yet.
#include "common.cuh"

static __device__ inline int row_label(const float* labels, long long row, int classes)
{
    float value = labels[row];
    int label = (int)value;
    return ((float)label == value && label >= 0 && label < classes) ? label : -1;
}

// The row loss from log Σ exp and the sums it needs: lse − (1 − eps)·z[label] − eps/classes · Σ z.
static __device__ inline float row_loss(double log_sum_exp, float label_logit, double logit_sum, int label,
                                        int classes, float smoothing)
{
    if (label < 0)
        return fc_nan();
    return (float)(log_sum_exp - (1.0 - smoothing) * label_logit - smoothing / (double)classes * logit_sum);
}

extern "C" __global__ void softmax_cross_entropy_forward_thread_per_row_kernel(
    const float* logits, const float* labels, float* probabilities, float* row_losses, long long rows, int classes,
    float smoothing)
{
    for (long long row = fc_thread_index(); row < rows; row += fc_grid_stride())
    {
        const float* z = logits + row * classes;
        float* p = probabilities + row * classes;
        // pass 1: max, so exp stays in range; pass 2: exp and sums; pass 3: normalize.
        float max = z[0];
        for (int j = 1; j < classes; j++)
            max = fc_fmax(max, z[j]);
        double sum = 0.0, logit_sum = 0.0;
        for (int j = 0; j < classes; j++)
        {
            p[j] = fc_exp(z[j] - max);
            sum += p[j];
            logit_sum += z[j];
        }
        float inverse = (float)(1.0 / sum);
        for (int j = 0; j < classes; j++)
            p[j] *= inverse;
        int label = row_label(labels, row, classes);
        row_losses[row] = row_loss(max + fc_log_double(sum), label >= 0 ? z[label] : 0.0f, logit_sum, label,
                                   classes, smoothing);
    }
}

extern "C" __global__ void softmax_cross_entropy_forward_warp_per_row_kernel(
    const float* logits, const float* labels, float* probabilities, float* row_losses, long long rows, int classes,
    float smoothing)
{
    int lane = threadIdx.x % 32;
    long long row = (long long)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= rows)
        return; // whole warps leave together, so the shuffles below see full warps
    const float* z = logits + row * classes;
    float* p = probabilities + row * classes;
    float max = -fc_infinity();
    for (int j = lane; j < classes; j += 32)
        max = fc_fmax(max, z[j]);
    max = fc_warp_max_all(max);
    float sum = 0.0f, logit_sum = 0.0f;
    for (int j = lane; j < classes; j += 32)
    {
        float e = fc_exp(z[j] - max);
        p[j] = e;
        sum += e;
        logit_sum += z[j];
    }
    sum = fc_warp_sum_all(sum);
    logit_sum = fc_warp_sum_all(logit_sum);
    float inverse = 1.0f / sum;
    for (int j = lane; j < classes; j += 32)
        p[j] *= inverse;
    if (lane == 0)
    {
        int label = row_label(labels, row, classes);
        row_losses[row] = row_loss(max + fc_log_double(sum), label >= 0 ? z[label] : 0.0f, logit_sum, label,
                                   classes, smoothing);
    }
}

// loss[0] = mean of the row losses. Launch: exactly one block, any multiple of 32 threads.
extern "C" __global__ void softmax_cross_entropy_mean_forward_kernel(const float* row_losses, float* loss,
                                                                     long long rows)
{
    double sum = 0.0;
    for (long long row = threadIdx.x; row < rows; row += blockDim.x)
        sum += row_losses[row];
    sum = fc_block_sum_double(sum);
    if (threadIdx.x == 0)
        loss[0] = (float)(sum / rows);
}

// grad_logits = grad_loss[0] · (softmax − target) / N. Launch: 1-D grid, grid-stride loop over N·classes.
extern "C" __global__ void softmax_cross_entropy_backward_kernel(const float* probabilities, const float* labels,
                                                                 const float* grad_loss, float* grad_logits,
                                                                 long long rows, int classes, float smoothing)
{
    float scale = grad_loss[0] / (float)rows;
    float smooth_share = smoothing / classes;
    long long length = rows * classes;
    for (long long i = fc_thread_index(); i < length; i += fc_grid_stride())
    {
        long long row = i / classes;
        int j = (int)(i % classes);
        int label = row_label(labels, row, classes);
        float g = probabilities[i] - smooth_share;
        if (j == label)
            g -= 1.0f - smoothing;
        grad_logits[i] = label < 0 ? fc_nan() : g * scale;
    }
}
