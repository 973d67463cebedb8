namespace FashionCuda.Backends.Reference;

/// <summary>
/// 2-D batch normalization as PyTorch's BatchNorm2d: per channel c of an (N, C, H, W) NCHW input, over the
/// M = N·H·W values of that channel. weight, bias, running statistics and saved statistics are (C).
/// </summary>
public static class BatchNormReference
{
    /// <summary>
    /// Normalizes with the batch statistics: mean = Σx / M, var = Σ(x − mean)² / M (biased), output =
    /// (x − mean)·invStd·weight + bias with invStd = 1 / sqrt(var + epsilon). Saves mean and invStd for
    /// <see cref="Backward"/> and updates running = (1 − momentum)·running + momentum·batch, where the running
    /// variance takes the unbiased var·M / (M − 1).
    /// </summary>
    /// <exception cref="ArgumentException">M is 1, because then the unbiased variance is undefined (PyTorch also
    /// rejects a single value per channel in training mode).</exception>
    public static void ForwardTraining(double[] input, double[] weight, double[] bias, double[] output,
        double[] saveMean, double[] saveInvStd, double[] runningMean, double[] runningVar, double momentum,
        double epsilon, int n, int c, int h, int w)
    {
        const string op = "BatchNorm2dForwardTraining";
        ValidateCommon(op, input, weight, bias, output, nameof(output), n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(saveMean), saveMean, c);
        ShapeChecks.RequireLength(op, nameof(saveInvStd), saveInvStd, c);
        ShapeChecks.RequireLength(op, nameof(runningMean), runningMean, c);
        ShapeChecks.RequireLength(op, nameof(runningVar), runningVar, c);
        int count = n * h * w;
        if (count < 2)
            throw new ArgumentException(
                $"{op}: input shape ({n}, {c}, {h}, {w}) has {count} value per channel; training mode needs at " +
                "least 2 to estimate the variance.", nameof(input));

        for (int channel = 0; channel < c; channel++)
        {
            // pass 1: mean
            double sum = 0;
            foreach (int i in ChannelIndices(channel, n, c, h, w))
                sum += input[i];
            double mean = sum / count;

            // pass 2: variance about the mean, which stays accurate when the mean is large
            double squares = 0;
            foreach (int i in ChannelIndices(channel, n, c, h, w))
                squares += (input[i] - mean) * (input[i] - mean);
            double variance = squares / count;
            double invStd = 1.0 / Math.Sqrt(variance + epsilon);

            // pass 3: normalize, scale and shift
            foreach (int i in ChannelIndices(channel, n, c, h, w))
                output[i] = (input[i] - mean) * invStd * weight[channel] + bias[channel];

            saveMean[channel] = mean;
            saveInvStd[channel] = invStd;
            runningMean[channel] = (1 - momentum) * runningMean[channel] + momentum * mean;
            runningVar[channel] = (1 - momentum) * runningVar[channel] + momentum * squares / (count - 1);
        }
    }

    /// <summary>Computes output = (x − runningMean) / sqrt(runningVar + epsilon)·weight + bias per channel.</summary>
    public static void ForwardInference(double[] input, double[] weight, double[] bias, double[] runningMean,
        double[] runningVar, double[] output, double epsilon, int n, int c, int h, int w)
    {
        const string op = "BatchNorm2dForwardInference";
        ValidateCommon(op, input, weight, bias, output, nameof(output), n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(runningMean), runningMean, c);
        ShapeChecks.RequireLength(op, nameof(runningVar), runningVar, c);
        for (int channel = 0; channel < c; channel++)
        {
            double invStd = 1.0 / Math.Sqrt(runningVar[channel] + epsilon);
            foreach (int i in ChannelIndices(channel, n, c, h, w))
                output[i] = (input[i] - runningMean[channel]) * invStd * weight[channel] + bias[channel];
        }
    }

    /// <summary>
    /// Computes the training-mode gradients with the saved batch statistics. With x̂ = (x − mean)·invStd and
    /// g = gradOutput: gradBias = Σg, gradWeight = Σg·x̂, and gradInput = weight·invStd / M ·
    /// (M·g − Σg − x̂·Σg·x̂), which includes the paths through the batch mean and variance.
    /// </summary>
    public static void Backward(double[] input, double[] weight, double[] saveMean, double[] saveInvStd,
        double[] gradOutput, double[] gradInput, double[] gradWeight, double[] gradBias, int n, int c, int h, int w)
    {
        const string op = "BatchNorm2dBackward";
        ShapeChecks.RequirePositive(op, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(input), input, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(weight), weight, c);
        ShapeChecks.RequireLength(op, nameof(saveMean), saveMean, c);
        ShapeChecks.RequireLength(op, nameof(saveInvStd), saveInvStd, c);
        ShapeChecks.RequireLength(op, nameof(gradOutput), gradOutput, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(gradInput), gradInput, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(gradWeight), gradWeight, c);
        ShapeChecks.RequireLength(op, nameof(gradBias), gradBias, c);
        int count = n * h * w;

        for (int channel = 0; channel < c; channel++)
        {
            double mean = saveMean[channel];
            double invStd = saveInvStd[channel];
            double sumGrad = 0;
            double sumGradXHat = 0;
            foreach (int i in ChannelIndices(channel, n, c, h, w))
            {
                sumGrad += gradOutput[i];
                sumGradXHat += gradOutput[i] * (input[i] - mean) * invStd;
            }
            gradBias[channel] = sumGrad;
            gradWeight[channel] = sumGradXHat;

            double scale = weight[channel] * invStd / count;
            foreach (int i in ChannelIndices(channel, n, c, h, w))
            {
                double xHat = (input[i] - mean) * invStd;
                gradInput[i] = scale * (count * gradOutput[i] - sumGrad - xHat * sumGradXHat);
            }
        }
    }

    /// <summary>Flat indices of every element of one channel, image by image.</summary>
    private static IEnumerable<int> ChannelIndices(int channel, int n, int c, int h, int w)
    {
        for (int image = 0; image < n; image++)
        for (int pixel = 0; pixel < h * w; pixel++)
            yield return (image * c + channel) * h * w + pixel;
    }

    private static void ValidateCommon(string op, double[] input, double[] weight, double[] bias, double[] output,
        string outputName, int n, int c, int h, int w)
    {
        ShapeChecks.RequirePositive(op, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(input), input, n, c, h, w);
        ShapeChecks.RequireLength(op, nameof(weight), weight, c);
        ShapeChecks.RequireLength(op, nameof(bias), bias, c);
        ShapeChecks.RequireLength(op, outputName, output, n, c, h, w);
    }
}
