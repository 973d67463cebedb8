using FashionCuda.Backends;

namespace FashionCuda.Checks;

// The table of compared ops. Tolerances: exact float32 ops (copies, max, dropout masks) get 0 or one rounding;
// sums over up to a few hundred terms get atol 1e-4 and rtol 1e-4, which is about 100× the float32 rounding
// error expected at these sizes.
public static partial class BackendComparisons
{
    private const double SumAtol = 1e-4;
    private const double SumRtol = 1e-4;

    private static OpCase[] BuildCases() =>
    [
        new("add", 0, 0, Add),
        new("add-in-place", 0, 0, AddInPlace),
        new("multiply", 0, 1e-6, p => Multiply(p, Broadcast.None)),
        new("multiply-per-channel", 1e-5, 1e-5, p => Multiply(p, Broadcast.PerChannel)),
        new("multiply-per-pixel", 1e-5, 1e-5, p => Multiply(p, Broadcast.PerPixel)),
        new("relu", 0, 0, Relu),
        new("sigmoid", 1e-6, 1e-5, Sigmoid),
        new("conv2d", SumAtol, SumRtol, p => Conv(p, new Conv2dGeometry(1, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1))),
        new("conv2d-strided", SumAtol, SumRtol, p => Conv(p, new Conv2dGeometry(3, 4, 11, 10, 6, 5, 3, 2, 3, 2, 1))),
        new("conv2d-pointwise", SumAtol, SumRtol, p => Conv(p, new Conv2dGeometry(1, 7, 5, 6, 33, 1, 1, 1, 1, 0, 0))),
        // C·R·S = 288 crosses the GEMM's depth block, and the work is large enough to use every thread.
        new("conv2d-blocked", SumAtol, SumRtol, p => Conv(p, new Conv2dGeometry(4, 32, 9, 9, 40, 3, 3, 1, 1, 1, 1))),
        // Large enough per image that the batch is split into two GEMM groups (dWeight accumulates across them).
        new("conv2d-grouped", SumAtol, SumRtol, p => Conv(p, new Conv2dGeometry(10, 64, 30, 30, 8, 3, 3, 1, 1, 1, 1))),
        // Stride 1 with a non-square kernel and unequal padding, none vertically.
        new("conv2d-asymmetric", SumAtol, SumRtol, p => Conv(p, new Conv2dGeometry(3, 5, 8, 7, 6, 5, 3, 1, 1, 0, 2))),
        new("conv2d-7x7", SumAtol, SumRtol, p => Conv(p, new Conv2dGeometry(2, 6, 7, 7, 9, 7, 7, 1, 1, 3, 3))),
        // Stride 1 with W = Q and C ≥ K, where the fast path computes dInput as a conv of dOutput with the flipped
        // kernel: a 5×3 kernel with no vertical padding (P = H − 4), and a 7×7 kernel.
        new("conv2d-dinput-as-conv", SumAtol, SumRtol,
            p => Conv(p, new Conv2dGeometry(3, 9, 8, 7, 6, 5, 3, 1, 1, 0, 1))),
        new("conv2d-7x7-dinput-as-conv", SumAtol, SumRtol,
            p => Conv(p, new Conv2dGeometry(2, 9, 7, 7, 6, 7, 7, 1, 1, 3, 3))),
        // A kernel taller than the input row plus its padding on one side, so some taps read only padding at
        // every output row: stride 1 with W = Q, and stride 2 along W.
        new("conv2d-short-map", SumAtol, SumRtol, p => Conv(p, new Conv2dGeometry(1, 1, 1, 8, 2, 5, 5, 1, 1, 2, 2))),
        new("conv2d-short-map-strided", SumAtol, SumRtol,
            p => Conv(p, new Conv2dGeometry(2, 2, 1, 8, 3, 5, 5, 1, 2, 2, 2))),
        new("conv2d-random", SumAtol, SumRtol, p => Conv(p, RandomConv(p.Rng))),
        // One output channel at stride 1, which the fast CPU path convolves directly: CBAM's spatial conv (2 → 1,
        // 7×7, "same"), and a kernel with unequal sides, no row padding and more column padding than "same".
        new("conv2d-single-output", SumAtol, SumRtol, p => Conv(p, new Conv2dGeometry(3, 2, 9, 11, 1, 7, 7, 1, 1, 3, 3))),
        // 3×3 stride-1 convs with K ≤ 48, whose dWeight the fast CPU path sums from bordered planes: "same"
        // padding with a vector tail, and unequal paddings with more images than one group.
        new("conv2d-3x3-few-outputs", SumAtol, SumRtol,
            p => Conv(p, new Conv2dGeometry(3, 6, 11, 10, 16, 3, 3, 1, 1, 1, 1))),
        new("conv2d-3x3-few-outputs-padding", SumAtol, SumRtol,
            p => Conv(p, new Conv2dGeometry(10, 4, 12, 13, 8, 3, 3, 1, 1, 0, 2))),
        new("conv2d-single-output-asymmetric", SumAtol, SumRtol,
            p => Conv(p, new Conv2dGeometry(2, 3, 6, 8, 1, 5, 3, 1, 1, 0, 2))),
        new("linear", SumAtol, SumRtol, p => Linear(p, 1, 7, 5)),
        new("linear-blocked", SumAtol, SumRtol, p => Linear(p, 33, 300, 70)),
        new("max-pool2d", 0, 0, p => MaxPool(p, new Pool2dGeometry(1, 3, 7, 9, 3, 3, 2, 2, 1, 1))),
        new("max-pool2d-random", 0, 0, p => MaxPool(p, RandomPool(p.Rng))),
        // The 2×2 stride-2 window of AlexNet-FM, which the fast CPU path special-cases; odd sizes drop a row.
        new("max-pool2d-2x2", 0, 0, p => MaxPool(p, new Pool2dGeometry(3, 5, 7, 9, 2, 2, 2, 2, 0, 0))),
        // Rows of 14 and 10 windows: vector steps of four windows, then scalar ones; the odd width leaves a column.
        new("max-pool2d-2x2-wide", 0, 0, p => MaxPool(p, new Pool2dGeometry(2, 3, 28, 28, 2, 2, 2, 2, 0, 0))),
        new("max-pool2d-2x2-odd-width", 0, 0, p => MaxPool(p, new Pool2dGeometry(1, 2, 6, 21, 2, 2, 2, 2, 0, 0))),
        new("avg-pool2d", 1e-6, 1e-5, p => AvgPool(p, new Pool2dGeometry(2, 3, 7, 9, 3, 3, 2, 2, 1, 1))),
        new("avg-pool2d-random", 1e-6, 1e-5, p => AvgPool(p, RandomPool(p.Rng))),
        new("avg-pool2d-2x2", 1e-6, 1e-5, p => AvgPool(p, new Pool2dGeometry(3, 5, 7, 9, 2, 2, 2, 2, 0, 0))),
        new("global-avg-pool", 1e-6, 1e-5, GlobalAvgPool),
        new("global-max-pool", 0, 0, GlobalMaxPool),
        new("channel-mean", 1e-6, 1e-5, ChannelMean),
        new("channel-max", 0, 0, p => ChannelMax(p, [2, 5, 7, 3])),
        // Planes of 323 pixels: the fast CPU path takes them in runs of 256.
        new("channel-max-runs", 0, 0, p => ChannelMax(p, [2, 4, 19, 17])),
        new("concat-channels", 0, 0, Concat),
        new("batch-norm2d-training", SumAtol, SumRtol, BatchNormTraining),
        new("batch-norm2d-inference", 1e-5, 1e-5, BatchNormInference),
        new("dropout", 0, 1e-6, Dropout),
        new("local-response-norm", 1e-5, 1e-4, p => Lrn(p, size: 5)),
        new("local-response-norm-even", 1e-5, 1e-4, p => Lrn(p, size: 4)),
        new("softmax-cross-entropy", 1e-6, 1e-5, SoftmaxCrossEntropy),
        new("sgd", 1e-6, 1e-5, p => Sgd(p, momentum: 0.9f, dampening: 0.1f, nesterov: false)),
        new("sgd-nesterov", 1e-6, 1e-5, p => Sgd(p, momentum: 0.9f, dampening: 0f, nesterov: true)),
        new("sgd-plain", 1e-6, 1e-5, p => Sgd(p, momentum: 0f, dampening: 0f, nesterov: false)),
        new("adam", 1e-6, 1e-5, p => Adam(p, decoupled: false)),
        new("adamw", 1e-6, 1e-5, p => Adam(p, decoupled: true)),
        new("cbam", SumAtol, SumRtol, CbamBlock),
        new("basic-block", SumAtol, SumRtol, BasicBlockWithCbam),
    ];
}
