namespace FashionCuda.Backends.Cuda;

/// <summary>
/// Every hand-written kernel the backend launches and the <c>kernels/NAME.cu</c> module that defines it. A test
/// reads the .cu files and checks that each entry exists there, so a rename cannot break a launch unnoticed.
/// </summary>
public static class KernelCatalog
{
    private static readonly (string Module, string[] Kernels)[] Modules =
    [
        ("add", ["add_forward_kernel", "add_in_place_forward_kernel"]),
        ("relu", ["relu_forward_kernel", "relu_backward_kernel"]),
        ("sigmoid", ["sigmoid_forward_kernel", "sigmoid_backward_kernel"]),
        ("broadcast_multiply", ["multiply_forward_kernel", "multiply_backward_input_kernel",
            "multiply_backward_per_channel_block_per_plane_kernel", "multiply_backward_per_pixel_kernel"]),
        ("bias", ["bias_add_nchw_forward_kernel", "bias_add_rows_forward_kernel",
            "bias_backward_rows_thread_per_column_kernel", "bias_backward_nchw_block_per_channel_kernel"]),
        ("channel_pool", ["global_avg_pool_forward_thread_per_plane_kernel",
            "global_avg_pool_forward_block_per_plane_kernel", "global_avg_pool_backward_kernel",
            "global_max_pool_forward_thread_per_plane_kernel", "global_max_pool_forward_block_per_plane_kernel",
            "global_max_pool_backward_block_per_plane_kernel"]),
        ("spatial_pool", ["channel_mean_forward_kernel", "channel_mean_backward_kernel",
            "channel_max_forward_kernel", "channel_max_backward_kernel"]),
        ("pooling", ["max_pool2d_forward_kernel", "max_pool2d_backward_kernel", "avg_pool2d_forward_kernel",
            "avg_pool2d_backward_kernel"]),
        ("batch_norm", ["batch_norm2d_forward_statistics_block_per_channel_kernel", "batch_norm2d_forward_kernel",
            "batch_norm2d_inference_forward_kernel", "batch_norm2d_backward_reduce_block_per_channel_kernel",
            "batch_norm2d_backward_kernel"]),
        ("lrn", ["lrn_forward_kernel", "lrn_backward_kernel"]),
        ("concat", ["concat_channels_forward_kernel", "concat_channels_backward_kernel"]),
        ("dropout", ["dropout_forward_kernel"]),
        ("softmax_cross_entropy", ["softmax_cross_entropy_forward_thread_per_row_kernel",
            "softmax_cross_entropy_forward_warp_per_row_kernel", "softmax_cross_entropy_mean_forward_kernel",
            "softmax_cross_entropy_backward_kernel"]),
        ("sgd", ["sgd_step_kernel"]),
        ("adam", ["adam_step_kernel"]),
        ("augment", ["augment_forward_kernel", "gather_labels_forward_kernel"]),
    ];

    private static readonly Dictionary<string, string> ModuleOfKernel =
        Modules.SelectMany(m => m.Kernels.Select(k => (Kernel: k, m.Module))).ToDictionary(e => e.Kernel, e => e.Module);

    /// <summary>Module names, one per kernels/*.cu file.</summary>
    public static IEnumerable<string> ModuleNames => Modules.Select(m => m.Module);

    public static IReadOnlyList<string> KernelsOf(string module) =>
        Modules.First(m => m.Module == module).Kernels;

    /// <summary>The module that defines <paramref name="kernel"/>.</summary>
    public static string ModuleOf(string kernel) =>
        ModuleOfKernel.TryGetValue(kernel, out var module)
            ? module
            : throw new ArgumentException($"Kernel '{kernel}' is not in the kernel catalog.", nameof(kernel));
}
