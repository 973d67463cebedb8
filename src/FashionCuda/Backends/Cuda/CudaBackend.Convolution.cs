using FashionCuda.Backends.Cuda.Interop;
using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

// Convolutions through cuDNN's legacy API. Descriptors and chosen algorithms are cached per geometry, and one
// workspace, grown to the largest size any cached algorithm needs, is shared by all of them.
public sealed partial class CudaBackend
{
    private readonly Dictionary<Conv2dGeometry, ConvolutionEntry> convolutions = new();
    private ulong workspace;
    private long workspaceBytes;

    public unsafe void Conv2dForward(Tensor input, Tensor weight, Tensor? bias, Tensor output, Conv2dGeometry geometry)
    {
        ValidateConvolution(input, weight, bias, output, geometry, "output");
        var entry = Convolution(geometry);
        ulong x = Pointer(input), w = Pointer(weight), y = Pointer(output);
        if (entry.Forward is null)
            entry.Forward = ChooseForward(entry, x, w, y);
        EnsureWorkspace((long)entry.Forward.Value.MemoryBytes);
        float alpha = 1f, beta = 0f;
        CuDnn.Check(CuDnn.cudnnConvolutionForward(dnn, &alpha, entry.Input, x, entry.Filter, w, entry.Descriptor,
            entry.Forward.Value.Algorithm, workspace, (nuint)workspaceBytes, &beta, entry.Output, y),
            "cudnnConvolutionForward");
        if (bias is null)
            return;
        Arguments().Add(y).Add(Pointer(bias)).Add(output.Length).Add(geometry.K).Add((long)geometry.P * geometry.Q);
        Launch("bias_add_nchw_forward_kernel", Elementwise(output.Length));
    }

    public unsafe void Conv2dBackward(Tensor input, Tensor weight, Tensor gradOutput, Tensor? gradInput,
        Tensor? gradWeight, Tensor? gradBias, Conv2dGeometry geometry)
    {
        ValidateConvolution(input, weight, gradBias, gradOutput, geometry, "output gradient");
        var entry = Convolution(geometry);
        ulong x = Pointer(input), w = Pointer(weight), dy = Pointer(gradOutput);
        float alpha = 1f, beta = 0f;
        if (gradInput is not null)
        {
            RequireShape(gradInput, geometry.InputShape, "input gradient");
            ulong dx = Pointer(gradInput);
            entry.BackwardData ??= ChooseBackwardData(entry, w, dy, dx);
            EnsureWorkspace((long)entry.BackwardData.Value.MemoryBytes);
            CuDnn.Check(CuDnn.cudnnConvolutionBackwardData(dnn, &alpha, entry.Filter, w, entry.Output, dy,
                entry.Descriptor, entry.BackwardData.Value.Algorithm, workspace, (nuint)workspaceBytes, &beta,
                entry.Input, dx), "cudnnConvolutionBackwardData");
        }
        if (gradWeight is not null)
        {
            RequireShape(gradWeight, geometry.WeightShape, "weight gradient");
            ulong dw = Pointer(gradWeight);
            entry.BackwardFilter ??= ChooseBackwardFilter(entry, x, dy, dw);
            EnsureWorkspace((long)entry.BackwardFilter.Value.MemoryBytes);
            CuDnn.Check(CuDnn.cudnnConvolutionBackwardFilter(dnn, &alpha, entry.Input, x, entry.Output, dy,
                entry.Descriptor, entry.BackwardFilter.Value.Algorithm, workspace, (nuint)workspaceBytes, &beta,
                entry.Filter, dw), "cudnnConvolutionBackwardFilter");
        }
        if (gradBias is not null)
            CuDnn.Check(CuDnn.cudnnConvolutionBackwardBias(dnn, &alpha, entry.Output, dy, &beta, entry.Bias,
                Pointer(gradBias)), "cudnnConvolutionBackwardBias");
    }

    private static void ValidateConvolution(Tensor input, Tensor weight, Tensor? bias, Tensor output,
        Conv2dGeometry geometry, string outputRole)
    {
        geometry.Validate();
        RequireShape(input, geometry.InputShape, "input");
        RequireShape(weight, geometry.WeightShape, "weight");
        RequireShape(output, geometry.OutputShape, outputRole);
        if (bias is not null)
            RequireLength(bias, geometry.K, "bias");
    }

    private ConvolutionEntry Convolution(Conv2dGeometry geometry)
    {
        if (convolutions.TryGetValue(geometry, out var entry))
            return entry;
        entry = new ConvolutionEntry(CudnnConvolutionPlan.From(geometry, Options.AllowTf32));
        convolutions[geometry] = entry;
        return entry;
    }

    private AlgorithmRequirements Requirements =>
        new(!Options.AllowNondeterministic, Options.AllowTf32, Options.WorkspaceLimitBytes);

    private const int AlgorithmSlots = 8; // at least every algorithm count of cuDNN 9 (forward has 8)

    private unsafe CudnnAlgorithmPerf ChooseForward(ConvolutionEntry entry, ulong x, ulong w, ulong y)
    {
        var ranked = stackalloc CudnnAlgorithmPerf[AlgorithmSlots];
        int count;
        if (Options.AlgorithmSearch == AlgorithmSearch.Benchmark)
        {
            ulong scratch = SearchWorkspace();
            CuDnn.Check(CuDnn.cudnnFindConvolutionForwardAlgorithmEx(dnn, entry.Input, x, entry.Filter, w,
                entry.Descriptor, entry.Output, y, AlgorithmSlots, out count, ranked, scratch,
                (nuint)workspaceBytes), "cudnnFindConvolutionForwardAlgorithmEx");
        }
        else
            CuDnn.Check(CuDnn.cudnnGetConvolutionForwardAlgorithm_v7(dnn, entry.Input, entry.Filter,
                entry.Descriptor, entry.Output, AlgorithmSlots, out count, ranked),
                "cudnnGetConvolutionForwardAlgorithm_v7");
        return CudnnAlgorithmChooser.Choose(new ReadOnlySpan<CudnnAlgorithmPerf>(ranked, count), Requirements,
            "forward");
    }

    private unsafe CudnnAlgorithmPerf ChooseBackwardData(ConvolutionEntry entry, ulong w, ulong dy, ulong dx)
    {
        var ranked = stackalloc CudnnAlgorithmPerf[AlgorithmSlots];
        int count;
        if (Options.AlgorithmSearch == AlgorithmSearch.Benchmark)
        {
            ulong scratch = SearchWorkspace();
            CuDnn.Check(CuDnn.cudnnFindConvolutionBackwardDataAlgorithmEx(dnn, entry.Filter, w, entry.Output, dy,
                entry.Descriptor, entry.Input, dx, AlgorithmSlots, out count, ranked, scratch,
                (nuint)workspaceBytes), "cudnnFindConvolutionBackwardDataAlgorithmEx");
        }
        else
            CuDnn.Check(CuDnn.cudnnGetConvolutionBackwardDataAlgorithm_v7(dnn, entry.Filter, entry.Output,
                entry.Descriptor, entry.Input, AlgorithmSlots, out count, ranked),
                "cudnnGetConvolutionBackwardDataAlgorithm_v7");
        return CudnnAlgorithmChooser.Choose(new ReadOnlySpan<CudnnAlgorithmPerf>(ranked, count), Requirements,
            "backward-data");
    }

    private unsafe CudnnAlgorithmPerf ChooseBackwardFilter(ConvolutionEntry entry, ulong x, ulong dy, ulong dw)
    {
        var ranked = stackalloc CudnnAlgorithmPerf[AlgorithmSlots];
        int count;
        if (Options.AlgorithmSearch == AlgorithmSearch.Benchmark)
        {
            ulong scratch = SearchWorkspace();
            CuDnn.Check(CuDnn.cudnnFindConvolutionBackwardFilterAlgorithmEx(dnn, entry.Input, x, entry.Output, dy,
                entry.Descriptor, entry.Filter, dw, AlgorithmSlots, out count, ranked, scratch,
                (nuint)workspaceBytes), "cudnnFindConvolutionBackwardFilterAlgorithmEx");
        }
        else
            CuDnn.Check(CuDnn.cudnnGetConvolutionBackwardFilterAlgorithm_v7(dnn, entry.Input, entry.Output,
                entry.Descriptor, entry.Filter, AlgorithmSlots, out count, ranked),
                "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
        return CudnnAlgorithmChooser.Choose(new ReadOnlySpan<CudnnAlgorithmPerf>(ranked, count), Requirements,
            "backward-filter");
    }

    /// <summary>The workspace for a benchmark search: grown to the configured limit so every algorithm can be tried.</summary>
    private ulong SearchWorkspace()
    {
        EnsureWorkspace(Options.WorkspaceLimitBytes);
        return workspace;
    }

    /// <summary>Grows the shared workspace to at least <paramref name="bytes"/>; it never shrinks.</summary>
    private void EnsureWorkspace(long bytes)
    {
        if (bytes <= workspaceBytes)
            return;
        // The stream may still be using the old workspace; returning it to the cache is safe because any later
        // user of that block is queued on the same stream.
        if (workspace != 0)
            allocator.Return(workspace);
        (workspace, workspaceBytes) = allocator.Rent(bytes);
    }

    private void DisposeConvolutionCaches()
    {
        foreach (var entry in convolutions.Values)
            entry.Dispose();
        convolutions.Clear();
    }

    /// <summary>The cuDNN descriptors of one convolution geometry and the algorithms chosen for it so far.</summary>
    private sealed class ConvolutionEntry : IDisposable
    {
        public ConvolutionEntry(CudnnConvolutionPlan plan)
        {
            Input = CudnnTensorDescriptorHandle.Create(plan.Input);
            Output = CudnnTensorDescriptorHandle.Create(plan.Output);
            Bias = CudnnTensorDescriptorHandle.Create(plan.Bias);
            Filter = CudnnFilterDescriptorHandle.Create(plan.Filter);
            Descriptor = CudnnConvolutionDescriptorHandle.Create(plan.Convolution);
        }

        public CudnnTensorDescriptorHandle Input { get; }

        public CudnnTensorDescriptorHandle Output { get; }

        public CudnnTensorDescriptorHandle Bias { get; }

        public CudnnFilterDescriptorHandle Filter { get; }

        public CudnnConvolutionDescriptorHandle Descriptor { get; }

        public CudnnAlgorithmPerf? Forward { get; set; }

        public CudnnAlgorithmPerf? BackwardData { get; set; }

        public CudnnAlgorithmPerf? BackwardFilter { get; set; }

        public void Dispose()
        {
            Input.Dispose();
            Output.Dispose();
            Bias.Dispose();
            Filter.Dispose();
            Descriptor.Dispose();
        }
    }
}
