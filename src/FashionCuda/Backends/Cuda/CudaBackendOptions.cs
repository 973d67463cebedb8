namespace FashionCuda.Backends.Cuda;

/// <summary>How cuDNN picks convolution algorithms.</summary>
public enum AlgorithmSearch
{
    /// <summary>cuDNN's heuristic ranking (<c>cudnnGet*Algorithm_v7</c>): no trial runs, the same choice every run.</summary>
    Heuristic,

    /// <summary>Times every algorithm once per shape (<c>cudnnFind*AlgorithmEx</c>) and keeps the fastest usable.</summary>
    Benchmark,
}

/// <summary>Settings of a <see cref="CudaBackend"/>.</summary>
public sealed record CudaBackendOptions
{
    /// <summary>The CUDA device ordinal.</summary>
    public int Device { get; init; }

    /// <summary>
    /// Whether cuBLAS and cuDNN may run float32 products as TF32 (10-bit mantissa inputs). Off by default, so
    /// results stay within the float32 tolerances of the CPU comparisons.
    /// </summary>
    public bool AllowTf32 { get; init; }

    /// <summary>
    /// Whether cuDNN may use algorithms whose results vary from run to run (atomic accumulation). Off by default,
    /// so the same seed gives the same losses.
    /// </summary>
    public bool AllowNondeterministic { get; init; }

    public AlgorithmSearch AlgorithmSearch { get; init; } = AlgorithmSearch.Heuristic;

    /// <summary>Largest cuDNN workspace an algorithm may use, in bytes.</summary>
    public long WorkspaceLimitBytes { get; init; } = 512L << 20;

    /// <summary>Threads per block for the hand-written kernels; a multiple of 32 up to 1024.</summary>
    public int BlockSize { get; init; } = 256;
}
