using System.Diagnostics;
using FashionCuda.Backends.Cuda.Interop;
using FashionCuda.Tensors;

namespace FashionCuda.Backends.Cuda;

/// <summary>One kernel version at one block size: whether it matched the host reference, and its speed.</summary>
public sealed record KernelBenchResult(
    string Kernel, int BlockSize, bool Passed, double MaxAbsError, double Milliseconds, double GigabytesPerSecond);

/// <summary>
/// Validates each kernel version against a host reference at several block sizes, then times it with CUDA
/// events and reports the achieved memory bandwidth, in the manner of llm.c's dev/cuda benchmarks. An element
/// passes when |gpu − reference| ≤ 1e-5 + 1e-5·|reference|.
/// </summary>
/// <remarks>NOTE: never run on a GPU.</remarks>
public sealed class CudaKernelBench
{
    public static readonly int[] BlockSizes = [64, 128, 256, 512, 1024];

    private const int TimedRepeats = 20;

    private readonly CudaBackend backend;
    private readonly Rng rng = new(11);

    public CudaKernelBench(CudaBackend backend)
    {
        this.backend = backend;
    }

    /// <summary>Runs every case; <paramref name="progress"/> receives each result as it is measured.</summary>
    public IReadOnlyList<KernelBenchResult> Run(Action<KernelBenchResult>? progress = null)
    {
        var results = new List<KernelBenchResult>();
        foreach (var benchCase in Cases())
        {
            using var scope = new TensorScope();
            var inputs = benchCase.Inputs.Select(shape => Random(shape)).ToArray();
            var output = Tensor.Zeros(backend, benchCase.OutputShape);
            float[] expected = benchCase.Reference(inputs.Select(t => t.ToArray()).ToArray());
            foreach (int block in BlockSizes)
            {
                var shape = benchCase.Shape(block);
                void Launch()
                {
                    var arguments = backend.KernelArgumentsForBench();
                    benchCase.Arguments(arguments, inputs, output);
                    backend.LaunchForBench(benchCase.Kernel, shape);
                }
                backend.Fill(output, float.NaN);
                Launch();
                double error = MaxError(output.ToArray(), expected, out bool passed);
                double milliseconds = Time(Launch);
                double gigabytes = benchCase.Bytes / 1e9;
                var result = new KernelBenchResult(benchCase.Kernel, block, passed, error, milliseconds,
                    gigabytes / (milliseconds / 1e3));
                results.Add(result);
                progress?.Invoke(result);
            }
        }
        return results;
    }

    private Tensor Random(int[] shape)
    {
        var values = new float[Shape.Elements(shape)];
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)rng.NextNormal();
        return Tensor.FromArray(backend, values, shape);
    }

    private double Time(Action launch)
    {
        using var start = CudaEventHandle.Create(CudaFlags.EventDefault);
        using var end = CudaEventHandle.Create(CudaFlags.EventDefault);
        launch(); // warm-up
        backend.RecordEvent(start);
        for (int i = 0; i < TimedRepeats; i++)
            launch();
        backend.RecordEvent(end);
        CudaDriver.Check(CudaDriver.cuEventSynchronize(end), "cuEventSynchronize");
        CudaDriver.Check(CudaDriver.cuEventElapsedTime(out float milliseconds, start, end), "cuEventElapsedTime");
        return milliseconds / TimedRepeats;
    }

    private static double MaxError(float[] actual, float[] expected, out bool passed)
    {
        double worst = 0;
        passed = actual.Length == expected.Length;
        for (int i = 0; i < Math.Min(actual.Length, expected.Length); i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(error))
                error = double.PositiveInfinity;
            worst = Math.Max(worst, error);
            passed &= error <= 1e-5 + 1e-5 * Math.Abs(expected[i]);
        }
        return worst;
    }

    /// <summary>A kernel launch to validate and time, with its host reference and the bytes it moves.</summary>
    private sealed record BenchCase(
        string Kernel, int[][] Inputs, int[] OutputShape, Func<int, LaunchShape> Shape,
        Action<KernelArguments, Tensor[], Tensor> Arguments, Func<float[][], float[]> Reference, long Bytes);

    private IEnumerable<BenchCase> Cases()
    {
        const int elements = 1 << 24;
        yield return new BenchCase("relu_forward_kernel", [[elements]], [elements],
            block => LaunchShape.Elementwise(elements, block),
            (a, x, y) => a.Add(Address(x[0])).Add(Address(y)).Add((long)elements),
            x => x[0].Select(v => v > 0 ? v : 0f).ToArray(), 8L * elements);
        yield return new BenchCase("sigmoid_forward_kernel", [[elements]], [elements],
            block => LaunchShape.Elementwise(elements, block),
            (a, x, y) => a.Add(Address(x[0])).Add(Address(y)).Add((long)elements),
            x => x[0].Select(v => (float)(1.0 / (1.0 + Math.Exp(-v)))).ToArray(), 8L * elements);
        foreach (var (planes, plane) in new[] { (128 * 256, 9L), (128 * 64, 196L), (64 * 32, 4096L) })
        {
            int[] input = [(int)(planes * plane)];
            long bytes = 4L * planes * (plane + 1);
            yield return new BenchCase("global_avg_pool_forward_thread_per_plane_kernel", [input], [planes],
                block => LaunchShape.Elementwise(planes, block),
                (a, x, y) => a.Add(Address(x[0])).Add(Address(y)).Add((long)planes).Add(plane),
                x => PlaneMeans(x[0], plane), bytes);
            yield return new BenchCase("global_avg_pool_forward_block_per_plane_kernel", [input], [planes],
                block => LaunchShape.BlockPerRow(planes, block),
                (a, x, y) => a.Add(Address(x[0])).Add(Address(y)).Add(plane),
                x => PlaneMeans(x[0], plane), bytes);
            yield return new BenchCase("global_max_pool_forward_thread_per_plane_kernel", [input], [planes],
                block => LaunchShape.Elementwise(planes, block),
                (a, x, y) => a.Add(Address(x[0])).Add(Address(y)).Add((long)planes).Add(plane),
                x => PlaneMaxima(x[0], plane), bytes);
            yield return new BenchCase("global_max_pool_forward_block_per_plane_kernel", [input], [planes],
                block => LaunchShape.BlockPerRow(planes, block),
                (a, x, y) => a.Add(Address(x[0])).Add(Address(y)).Add(plane),
                x => PlaneMaxima(x[0], plane), bytes);
        }
        foreach (var (rows, classes) in new[] { (8192, 10), (1024, 1000) })
        {
            long bytes = 8L * rows * classes;
            foreach (string kernel in new[] { "softmax_cross_entropy_forward_thread_per_row_kernel",
                "softmax_cross_entropy_forward_warp_per_row_kernel" })
            {
                var labels = LabelTensor(rows, classes);
                var rowLosses = Tensor.Zeros(backend, [rows]);
                yield return new BenchCase(kernel, [[rows, classes]], [rows, classes],
                    block => kernel.Contains("warp", StringComparison.Ordinal)
                        ? LaunchShape.WarpPerRow(rows, block)
                        : LaunchShape.Elementwise(rows, block),
                    (a, x, y) => a.Add(Address(x[0])).Add(Address(labels)).Add(Address(y)).Add(Address(rowLosses))
                        .Add((long)rows).Add(classes).Add(0f),
                    x => Softmax(x[0], classes), bytes);
            }
        }
    }

    private Tensor LabelTensor(int rows, int classes)
    {
        var labels = new float[rows];
        for (int i = 0; i < rows; i++)
            labels[i] = rng.NextInt(classes);
        return Tensor.FromArray(backend, labels, [rows]);
    }

    private static ulong Address(Tensor tensor) => ((DeviceStorage)tensor.Storage).Address;

    private static float[] PlaneMeans(float[] x, long plane)
    {
        var result = new float[x.Length / plane];
        for (long p = 0; p < result.Length; p++)
        {
            double sum = 0;
            for (long j = 0; j < plane; j++)
                sum += x[p * plane + j];
            result[p] = (float)(sum / plane);
        }
        return result;
    }

    private static float[] PlaneMaxima(float[] x, long plane)
    {
        var result = new float[x.Length / plane];
        for (long p = 0; p < result.Length; p++)
            result[p] = x.AsSpan((int)(p * plane), (int)plane).ToArray().Max();
        return result;
    }

    private static float[] Softmax(float[] z, int classes)
    {
        var p = new float[z.Length];
        for (int row = 0; row < z.Length / classes; row++)
        {
            var scores = z.AsSpan(row * classes, classes);
            float max = float.NegativeInfinity;
            foreach (float v in scores)
                max = Math.Max(max, v);
            double sum = 0;
            for (int j = 0; j < classes; j++)
                sum += Math.Exp(scores[j] - max);
            for (int j = 0; j < classes; j++)
                p[row * classes + j] = (float)(Math.Exp(scores[j] - max) / sum);
        }
        Debug.Assert(p.Length == z.Length);
        return p;
    }
}
