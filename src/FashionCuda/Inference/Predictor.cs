using FashionCuda.Autograd;
using FashionCuda.Data;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Inference;

/// <summary>One class of a prediction, with its softmax probability.</summary>
public readonly record struct ClassProbability(int Index, string Label, float Probability);

/// <summary>
/// Classifies photos with a loaded checkpoint, preprocessing them exactly as its training data was: the
/// checkpoint's <see cref="ImageTransform"/> (for Fashion-MNIST models, the centre square in 1×28×28) and normalization.
/// </summary>
public sealed class Predictor
{
    private readonly Checkpoint.Loaded checkpoint;
    private readonly ImagePipeline pipeline;

    public Predictor(Checkpoint.Loaded checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        this.checkpoint = checkpoint;
        Transform = TransformOf(checkpoint.Config);
        pipeline = new ImagePipeline(AugmentationOptions.None, checkpoint.Normalization, Transform.Size,
            Transform.Size, Transform.Channels);
        checkpoint.Model.Eval();
    }

    public ImageTransform Transform { get; }

    /// <summary>
    /// Returns the decoding settings a model trained with <paramref name="config"/> expects. Fashion-MNIST models
    /// get the centre square of a photo as grey 28×28, so that <see cref="InvertLightBackground"/> measures the
    /// photo's own background and not the black bars that padding would add.
    /// </summary>
    public static ImageTransform TransformOf(TrainConfig config) => config.Data.IsFolder
        ? config.Data.ToTransform()
        : new ImageTransform { Channels = 1, Size = 28, Resize = ResizeMode.Crop };

    /// <summary>
    /// Prepares a decoded photo (C·S·S bytes) for a model trained with <paramref name="config"/> and returns
    /// whether it was inverted. Fashion-MNIST shows light garments on black, so for its models a photo whose
    /// border is mostly light is inverted. A photo-folder model gets the photo unchanged, as it trained.
    /// </summary>
    public static bool PreparePhoto(TrainConfig config, byte[] pixels, int size) =>
        !config.Data.IsFolder && InvertLightBackground(pixels, size);

    /// <summary>
    /// Inverts a grey S×S image in place when the mean of its border pixels is above 127, and returns whether it
    /// did.
    /// </summary>
    public static bool InvertLightBackground(byte[] pixels, int size)
    {
        double border = 0;
        int borderCount = 0;
        for (int row = 0; row < size; row++)
        {
            for (int column = 0; column < size; column++)
            {
                if (row == 0 || column == 0 || row == size - 1 || column == size - 1)
                {
                    border += pixels[row * size + column];
                    borderCount++;
                }
            }
        }
        if (border / borderCount <= 127)
            return false;
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)(255 - pixels[i]);
        return true;
    }

    /// <summary>Class names by label; labels without a stored name get their index as text.</summary>
    public string LabelOf(int index) =>
        index < checkpoint.ClassNames.Length && checkpoint.ClassNames[index].Length > 0
            ? checkpoint.ClassNames[index]
            : index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Normalizes decoded images (C·S·S bytes each) into one NCHW batch of float32 values.</summary>
    public float[] ToBatch(IReadOnlyList<byte[]> images)
    {
        int imageSize = Transform.Channels * Transform.Size * Transform.Size;
        var batch = new float[images.Count * imageSize];
        for (int i = 0; i < images.Count; i++)
            pipeline.Apply(images[i], batch.AsSpan(i * imageSize, imageSize), default);
        return batch;
    }

    /// <summary>Runs the model on a normalized NCHW batch and returns the logits, row-major (N, classes).</summary>
    public float[] Logits(float[] batch, int count)
    {
        var backend = checkpoint.Model.Parameters().First().Backend;
        using var noGrad = GradMode.NoGrad();
        using var scope = new TensorScope();
        var input = Tensor.FromArray(backend, batch, [count, Transform.Channels, Transform.Size, Transform.Size]);
        return checkpoint.Model.Call(input).ToArray();
    }

    /// <summary>Returns the <paramref name="top"/> most probable classes of each image, most probable first.</summary>
    public List<ClassProbability[]> Predict(IReadOnlyList<byte[]> images, int top)
    {
        var results = new List<ClassProbability[]>(images.Count);
        const int batchSize = 64;
        for (int start = 0; start < images.Count; start += batchSize)
        {
            var chunk = images.Skip(start).Take(batchSize).ToList();
            var logits = Logits(ToBatch(chunk), chunk.Count);
            int classes = logits.Length / chunk.Count;
            for (int i = 0; i < chunk.Count; i++)
            {
                var probabilities = Softmax(logits.AsSpan(i * classes, classes));
                results.Add(Enumerable.Range(0, classes)
                    .OrderByDescending(c => probabilities[c]).ThenBy(c => c)
                    .Take(top)
                    .Select(c => new ClassProbability(c, LabelOf(c), probabilities[c]))
                    .ToArray());
            }
        }
        return results;
    }

    /// <summary>Softmax in double precision, shifted by the maximum so large logits do not overflow.</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float value in logits)
            max = Math.Max(max, value);
        var result = new float[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
            sum += Math.Exp(logits[i] - max);
        for (int i = 0; i < logits.Length; i++)
            result[i] = (float)(Math.Exp(logits[i] - max) / sum);
        return result;
    }
}
