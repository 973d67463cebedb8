using FashionCuda.Tensors;

namespace FashionCuda.Backends.Reference;

/// <summary>
/// The backend that defines what every op computes: each call copies its float32 tensors to double arrays, runs
/// the naive kernel of the matching <c>*Reference</c> class in double precision and rounds the results back to
/// float32. It is slow by design and serves as the ground truth for the fast CPU and CUDA backends.
/// </summary>
/// <remarks>This class checks tensor shapes, and the kernels check array lengths again.</remarks>
public sealed partial class ReferenceBackend : IBackend
{
    private readonly HostBufferPool pool = new();

    public string Name => "reference";

    public long BytesInUse => pool.BytesInUse;

    public long PeakBytesInUse => pool.PeakBytesInUse;

    public void ResetPeakMemory() => pool.ResetPeak();

    // ---- memory ----

    public Storage Allocate(long length) => pool.Rent(length);

    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        var span = HostSpan(destination, nameof(Upload), nameof(destination));
        if (source.Length != span.Length)
            throw new ArgumentException(
                $"Upload: {source.Length} values do not fill a tensor of shape {Format(destination)}.",
                nameof(source));
        source.CopyTo(span);
    }

    public void Download(Tensor source, Span<float> destination)
    {
        var span = HostSpan(source, nameof(Download), nameof(source));
        if (destination.Length != span.Length)
            throw new ArgumentException(
                $"Download: a tensor of shape {Format(source)} does not fit {destination.Length} values.",
                nameof(destination));
        span.CopyTo(destination);
    }

    public void Fill(Tensor tensor, float value) => HostSpan(tensor, nameof(Fill), nameof(tensor)).Fill(value);

    public void Copy(Tensor source, Tensor destination)
    {
        RequireSameLength(nameof(Copy), nameof(destination), destination, nameof(source), source);
        HostSpan(source, nameof(Copy), nameof(source)).CopyTo(HostSpan(destination, nameof(Copy), nameof(destination)));
    }

    // ---- elementwise ----

    public void Add(Tensor a, Tensor b, Tensor output)
    {
        RequireSameShape(nameof(Add), nameof(b), b, nameof(a), a);
        RequireSameShape(nameof(Add), nameof(output), output, nameof(a), a);
        var result = new double[output.Length];
        ActivationReference.AddForward(Read(a, nameof(Add)), Read(b, nameof(Add)), result);
        Write(result, output);
    }

    public void AddInPlace(Tensor destination, Tensor source)
    {
        RequireSameLength(nameof(AddInPlace), nameof(source), source, nameof(destination), destination);
        var sum = Read(destination, nameof(AddInPlace));
        ActivationReference.AddForward(sum, Read(source, nameof(AddInPlace)), sum);
        Write(sum, destination);
    }

    public void Multiply(Tensor a, Tensor b, Tensor output, Broadcast broadcast)
    {
        var (n, c, h, w) = Nchw(nameof(Multiply), nameof(a), a);
        RequireShape(nameof(Multiply), nameof(b), b, BroadcastShape(broadcast, n, c, h, w));
        RequireShape(nameof(Multiply), nameof(output), output, n, c, h, w);
        var result = new double[output.Length];
        ChannelReference.MultiplyForward(Read(a, nameof(Multiply)), Read(b, nameof(Multiply)), result, broadcast,
            n, c, h, w);
        Write(result, output);
    }

    public void MultiplyBackward(Tensor a, Tensor b, Tensor gradOutput, Tensor? gradA, Tensor? gradB,
        Broadcast broadcast)
    {
        const string op = nameof(MultiplyBackward);
        var (n, c, h, w) = Nchw(op, nameof(a), a);
        RequireShape(op, nameof(b), b, BroadcastShape(broadcast, n, c, h, w));
        RequireShape(op, nameof(gradOutput), gradOutput, n, c, h, w);
        if (gradA is not null)
            RequireShape(op, nameof(gradA), gradA, n, c, h, w);
        if (gradB is not null)
            RequireShape(op, nameof(gradB), gradB, BroadcastShape(broadcast, n, c, h, w));
        var resultA = gradA is null ? null : new double[gradA.Length];
        var resultB = gradB is null ? null : new double[gradB.Length];
        ChannelReference.MultiplyBackward(Read(a, op), Read(b, op), Read(gradOutput, op), resultA, resultB,
            broadcast, n, c, h, w);
        WriteIfPresent(resultA, gradA);
        WriteIfPresent(resultB, gradB);
    }

    public void ReluForward(Tensor input, Tensor output)
    {
        RequireSameShape(nameof(ReluForward), nameof(output), output, nameof(input), input);
        var result = new double[output.Length];
        ActivationReference.ReluForward(Read(input, nameof(ReluForward)), result);
        Write(result, output);
    }

    public void ReluBackward(Tensor output, Tensor gradOutput, Tensor gradInput)
    {
        const string op = nameof(ReluBackward);
        RequireSameShape(op, nameof(gradOutput), gradOutput, nameof(output), output);
        RequireSameShape(op, nameof(gradInput), gradInput, nameof(output), output);
        var result = new double[gradInput.Length];
        ActivationReference.ReluBackward(Read(output, op), Read(gradOutput, op), result);
        Write(result, gradInput);
    }

    public void SigmoidForward(Tensor input, Tensor output)
    {
        RequireSameShape(nameof(SigmoidForward), nameof(output), output, nameof(input), input);
        var result = new double[output.Length];
        ActivationReference.SigmoidForward(Read(input, nameof(SigmoidForward)), result);
        Write(result, output);
    }

    public void SigmoidBackward(Tensor output, Tensor gradOutput, Tensor gradInput)
    {
        const string op = nameof(SigmoidBackward);
        RequireSameShape(op, nameof(gradOutput), gradOutput, nameof(output), output);
        RequireSameShape(op, nameof(gradInput), gradInput, nameof(output), output);
        var result = new double[gradInput.Length];
        ActivationReference.SigmoidBackward(Read(output, op), Read(gradOutput, op), result);
        Write(result, gradInput);
    }

    // ---- convolution and matrix products ----

    public void Conv2dForward(Tensor input, Tensor weight, Tensor? bias, Tensor output, Conv2dGeometry geometry)
    {
        const string op = nameof(Conv2dForward);
        geometry.Validate();
        RequireShape(op, nameof(input), input, geometry.InputShape);
        RequireShape(op, nameof(weight), weight, geometry.WeightShape);
        if (bias is not null)
            RequireShape(op, nameof(bias), bias, geometry.K);
        RequireShape(op, nameof(output), output, geometry.OutputShape);
        var result = new double[output.Length];
        Conv2dReference.Forward(Read(input, op), Read(weight, op), ReadIfPresent(bias, op), result, geometry);
        Write(result, output);
    }

    public void Conv2dBackward(Tensor input, Tensor weight, Tensor gradOutput, Tensor? gradInput, Tensor? gradWeight,
        Tensor? gradBias, Conv2dGeometry geometry)
    {
        const string op = nameof(Conv2dBackward);
        geometry.Validate();
        RequireShape(op, nameof(input), input, geometry.InputShape);
        RequireShape(op, nameof(weight), weight, geometry.WeightShape);
        RequireShape(op, nameof(gradOutput), gradOutput, geometry.OutputShape);
        if (gradInput is not null)
            RequireShape(op, nameof(gradInput), gradInput, geometry.InputShape);
        if (gradWeight is not null)
            RequireShape(op, nameof(gradWeight), gradWeight, geometry.WeightShape);
        if (gradBias is not null)
            RequireShape(op, nameof(gradBias), gradBias, geometry.K);
        var resultInput = gradInput is null ? null : new double[gradInput.Length];
        var resultWeight = gradWeight is null ? null : new double[gradWeight.Length];
        var resultBias = gradBias is null ? null : new double[gradBias.Length];
        Conv2dReference.Backward(Read(input, op), Read(weight, op), Read(gradOutput, op), resultInput, resultWeight,
            resultBias, geometry);
        WriteIfPresent(resultInput, gradInput);
        WriteIfPresent(resultWeight, gradWeight);
        WriteIfPresent(resultBias, gradBias);
    }

    public void LinearForward(Tensor input, Tensor weight, Tensor? bias, Tensor output)
    {
        const string op = nameof(LinearForward);
        var (batch, inFeatures, outFeatures) = LinearSizes(op, input, weight);
        if (bias is not null)
            RequireShape(op, nameof(bias), bias, outFeatures);
        RequireShape(op, nameof(output), output, batch, outFeatures);
        var result = new double[output.Length];
        LinearReference.Forward(Read(input, op), Read(weight, op), ReadIfPresent(bias, op), result, batch,
            inFeatures, outFeatures);
        Write(result, output);
    }

    public void LinearBackward(Tensor input, Tensor weight, Tensor gradOutput, Tensor? gradInput, Tensor? gradWeight,
        Tensor? gradBias)
    {
        const string op = nameof(LinearBackward);
        var (batch, inFeatures, outFeatures) = LinearSizes(op, input, weight);
        RequireShape(op, nameof(gradOutput), gradOutput, batch, outFeatures);
        if (gradInput is not null)
            RequireShape(op, nameof(gradInput), gradInput, batch, inFeatures);
        if (gradWeight is not null)
            RequireShape(op, nameof(gradWeight), gradWeight, outFeatures, inFeatures);
        if (gradBias is not null)
            RequireShape(op, nameof(gradBias), gradBias, outFeatures);
        var resultInput = gradInput is null ? null : new double[gradInput.Length];
        var resultWeight = gradWeight is null ? null : new double[gradWeight.Length];
        var resultBias = gradBias is null ? null : new double[gradBias.Length];
        LinearReference.Backward(Read(input, op), Read(weight, op), Read(gradOutput, op), resultInput, resultWeight,
            resultBias, batch, inFeatures, outFeatures);
        WriteIfPresent(resultInput, gradInput);
        WriteIfPresent(resultWeight, gradWeight);
        WriteIfPresent(resultBias, gradBias);
    }
}
