using System.Diagnostics;
using FashionCuda.Autograd;
using FashionCuda.Nn;
using FashionCuda.Onnx;
using FashionCuda.Tensors;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace FashionCuda.Cli.Commands;

/// <summary>
/// The <c>bench --onnx</c> measurement: the model exported to ONNX and run by ONNX Runtime's CPU provider on the
/// same batch as the engine's inference, timed the same way.
/// </summary>
public static class OnnxBench
{
    /// <param name="ImagesPerSecond">ONNX Runtime inference throughput, warm-up excluded.</param>
    /// <param name="MaxAbsDifference">Largest |engine − ONNX Runtime| over the batch's outputs.</param>
    public sealed record Result(double ImagesPerSecond, double MaxAbsDifference, string RuntimeVersion);

    /// <summary>
    /// Opens an ONNX Runtime session, or raises a <see cref="UserException"/> when the native library is absent,
    /// as in the device-check publish made with <c>-p:FashionCudaWithoutOnnxRuntime=true</c>.
    /// </summary>
    private static InferenceSession OpenSession(string path)
    {
        try
        {
            return new InferenceSession(path);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw new UserException(
                "--onnx: ONNX Runtime's native library is not in this build (it was published without it); run " +
                "bench --onnx from a normal build, e.g. dotnet run --project src/FashionCuda.Cli -c Release.");
        }
    }

    public static Result Measure(Module model, float[] images, int[] shape, int warmup, int steps)
    {
        string path = Path.Combine(Path.GetTempPath(), $"fashioncuda-bench-{Environment.ProcessId}.onnx");
        try
        {
            OnnxExporter.Export(model, shape[1], shape[2], path);
            using var session = OpenSession(path);
            var input = new DenseTensor(images, shape);
            var inputs = new[] { NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, input) };
            float[] runtimeOutput = [];
            void Step()
            {
                using var results = session.Run(inputs);
                runtimeOutput = results.First().AsTensor<float>().ToArray();
            }

            for (int i = 0; i < warmup; i++)
                Step();
            var timer = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
                Step();
            double rate = steps * shape[0] / timer.Elapsed.TotalSeconds;
            return new Result(rate, MaxDifference(model, images, shape, runtimeOutput),
                OrtEnv.Instance().GetVersionString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double MaxDifference(Module model, float[] images, int[] shape, float[] runtimeOutput)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = new TensorScope();
        var backend = model.Parameters().First().Backend;
        var engineOutput = model.Call(Tensor.FromArray(backend, images, shape)).ToArray();
        double max = 0;
        for (int i = 0; i < engineOutput.Length; i++)
            max = Math.Max(max, Math.Abs(engineOutput[i] - runtimeOutput[i]));
        return max;
    }
}
