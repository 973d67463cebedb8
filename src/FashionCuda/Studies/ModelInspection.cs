using FashionCuda.Autograd;
using FashionCuda.Data;
using FashionCuda.Nn;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Studies;

/// <summary>
/// A module that scales its input by a per-pixel gate, as CBAM's spatial attention does, and keeps the gate of
/// its latest forward pass so that <c>inspect</c> can draw it over the image.
/// </summary>
public interface ISpatialAttentionMap
{
    /// <summary>Whether forward passes keep their gate in <see cref="LastSpatialAttention"/>.</summary>
    bool KeepSpatialAttention { get; set; }

    /// <summary>The gate of the latest forward pass, (N, 1, H, W) with values in [0, 1]; null before the first.</summary>
    Tensor? LastSpatialAttention { get; }
}

/// <summary>One layer's output for one image: C maps of H×W, channel-major.</summary>
public sealed record FeatureMap(string Layer, int Channels, int Height, int Width, float[] Values);

/// <summary>A spatial attention gate for one image, H×W values in [0, 1].</summary>
public sealed record AttentionMap(string Module, int Height, int Width, float[] Values);

public readonly record struct Prediction(int Class, double Probability);

/// <summary>Filters of a conv layer: K filters of C×k×k weights, filter-major as stored.</summary>
public sealed record ConvFilters(string Layer, int Filters, int Channels, int Kernel, float[] Weights);

/// <summary>What one forward pass shows about an image.</summary>
public sealed record Inspection(IReadOnlyList<Prediction> Top, IReadOnlyList<FeatureMap> Features,
    IReadOnlyList<AttentionMap> Attention);

/// <summary>A test image the model gets wrong.</summary>
public readonly record struct Misclassified(int Index, int Actual, int Predicted, double Confidence);

/// <summary>Looks inside a trained model for learners: filters, feature maps, attention maps and mistakes.</summary>
public static class ModelInspection
{
    /// <summary>Returns the weights of the first conv layer in registration order, or null if there is none.</summary>
    public static ConvFilters? FirstConvFilters(Module model)
    {
        foreach (var (name, module) in model.NamedModules())
        {
            if (module is Conv2d conv)
                return new ConvFilters(name, conv.OutChannels, conv.InChannels, conv.Kernel, conv.Weight.ToArray());
        }
        return null;
    }

    /// <summary>
    /// Runs one C×H×W image (CHW bytes, C = pixels / (H·W)) through <paramref name="model"/> in evaluation mode.
    /// Feature maps are the outputs of every ReLU call with an (N, C, H, W) output, the end of each conv block.
    /// A ReLU module called more than once per forward pass (as in a ResNet block) gets its call number appended
    /// to its name, from "-1". Attention maps come from modules that implement <see cref="ISpatialAttentionMap"/>.
    /// With <paramref name="featureMaps"/> false the ReLU outputs are not kept and the feature map list is empty.
    /// </summary>
    public static Inspection Inspect(Module model, Normalization normalization, ReadOnlySpan<byte> pixels,
        int height, int width, int top = 5, bool featureMaps = true)
    {
        var names = model.NamedModules().ToDictionary(entry => entry.Module, entry => entry.Name);
        var backend = model.Parameters().First().Backend;
        int channels = pixels.Length / (height * width);
        if (channels * height * width != pixels.Length || channels != normalization.Channels)
            throw new ArgumentException(
                $"{pixels.Length} pixels are not {normalization.Channels}×{height}×{width}.", nameof(pixels));
        var values = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
            values[i] = normalization.Apply(pixels[i], i / (height * width));
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            using var scope = new TensorScope();
            using var trace = featureMaps ? new ModuleTrace(keepOutputs: true) : null;
            foreach (var (_, module) in model.NamedModules())
            {
                if (module is ISpatialAttentionMap map)
                    map.KeepSpatialAttention = true;
            }
            var logits = model.Call(Tensor.FromArray(backend, values, [1, channels, height, width])).ToArray();
            var records = (trace?.Records ?? [])
                .Where(r => r.Module is ReLU && r.OutputShape.Length == 4 && r.Output is not null)
                .ToList();
            var callCounts = records.GroupBy(r => r.Module).ToDictionary(g => g.Key, g => g.Count());
            var callNumbers = new Dictionary<Module, int>();
            var features = new List<FeatureMap>(records.Count);
            foreach (var record in records)
            {
                string name = names.GetValueOrDefault(record.Module, "?");
                if (callCounts[record.Module] > 1)
                {
                    int call = callNumbers.GetValueOrDefault(record.Module) + 1;
                    callNumbers[record.Module] = call;
                    name += $"-{call}";
                }
                features.Add(new FeatureMap(name, record.OutputShape[1], record.OutputShape[2], record.OutputShape[3],
                    record.Output!.ToArray()));
            }
            var attention = new List<AttentionMap>();
            foreach (var (name, module) in model.NamedModules())
            {
                if (module is ISpatialAttentionMap { LastSpatialAttention: { Rank: 4 } gate })
                    attention.Add(new AttentionMap(name, gate[2], gate[3], gate.ToArray()[..(gate[2] * gate[3])]));
            }
            return new Inspection(TopK(Softmax(logits), top), features, attention);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>Finds up to <paramref name="limit"/> misclassified images of <paramref name="dataset"/>, in index order.</summary>
    public static List<Misclassified> FindErrors(Module model, ImageDataset dataset, Normalization normalization,
        int batchSize, int limit)
    {
        var backend = model.Parameters().First().Backend;
        bool wasTraining = model.Training;
        model.Eval();
        var errors = new List<Misclassified>();
        try
        {
            using var noGrad = GradMode.NoGrad();
            using var loader = new DataLoader(dataset, normalization,
                new DataLoaderOptions { BatchSize = batchSize, Shuffle = false });
            foreach (var batch in loader.Epoch(0))
            {
                using var scope = new TensorScope();
                var input = Tensor.FromArray(backend, batch.Images,
                    [batch.Count, batch.Channels, batch.Height, batch.Width]);
                var logits = model.Call(input).ToArray();
                int classes = logits.Length / batch.Count;
                for (int i = 0; i < batch.Count && errors.Count < limit; i++)
                {
                    var probabilities = Softmax(logits.AsSpan(i * classes, classes).ToArray());
                    int predicted = Trainer.ArgMax(probabilities.Select(p => (float)p).ToArray());
                    int actual = (int)batch.Labels[i];
                    if (predicted != actual)
                        errors.Add(new Misclassified(batch.SampleIndices[i], actual, predicted, probabilities[predicted]));
                }
                if (errors.Count >= limit)
                    break;
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return errors;
    }

    /// <summary>Softmax in double precision, shifted by the maximum so large logits do not overflow.</summary>
    public static double[] Softmax(IReadOnlyList<float> logits)
    {
        double max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = exp.Sum();
        return exp.Select(e => e / sum).ToArray();
    }

    private static List<Prediction> TopK(double[] probabilities, int k) =>
        probabilities.Select((p, i) => new Prediction(i, p))
            .OrderByDescending(p => p.Probability)
            .ThenBy(p => p.Class)
            .Take(k)
            .ToList();
}
