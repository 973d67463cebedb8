namespace FashionCuda.Optim;

/// <summary>Kinds of learning-rate decay after the optional warm-up.</summary>
public enum ScheduleKind
{
    Constant,

    /// <summary>Multiply by gamma every <c>StepEpochs</c> epochs (torch StepLR).</summary>
    Step,

    /// <summary>Multiply by gamma at each epoch in <c>Milestones</c> (torch MultiStepLR).</summary>
    MultiStep,

    /// <summary>Cosine from the base rate to <c>MinLearningRate</c> over the epochs after warm-up.</summary>
    Cosine,
}

/// <summary>
/// The learning rate as a function of training progress, measured in epochs as a fraction (epoch 2.5 is half
/// way through the third epoch), so it can change every step. A linear warm-up from
/// <c>WarmupStartFactor</c>·base over <c>WarmupEpochs</c> comes first when set.
/// </summary>
public sealed record LearningRateSchedule
{
    public ScheduleKind Kind { get; init; } = ScheduleKind.Constant;

    public float BaseLearningRate { get; init; } = 0.01f;

    public float Gamma { get; init; } = 0.1f;

    public int StepEpochs { get; init; } = 10;

    public IReadOnlyList<int> Milestones { get; init; } = [];

    public float MinLearningRate { get; init; }

    public double WarmupEpochs { get; init; }

    public float WarmupStartFactor { get; init; } = 0.1f;

    /// <summary>Total epochs of the run, which the cosine schedule spans.</summary>
    public int TotalEpochs { get; init; } = 1;

    public float At(double epoch)
    {
        if (WarmupEpochs > 0 && epoch < WarmupEpochs)
        {
            double t = epoch / WarmupEpochs;
            return (float)(BaseLearningRate * (WarmupStartFactor + (1 - WarmupStartFactor) * t));
        }
        int whole = (int)Math.Floor(epoch);
        switch (Kind)
        {
            case ScheduleKind.Step:
                return (float)(BaseLearningRate * Math.Pow(Gamma, whole / Math.Max(1, StepEpochs)));
            case ScheduleKind.MultiStep:
                return (float)(BaseLearningRate * Math.Pow(Gamma, Milestones.Count(m => whole >= m)));
            case ScheduleKind.Cosine:
                double span = Math.Max(1e-9, TotalEpochs - WarmupEpochs);
                double progress = Math.Clamp((epoch - WarmupEpochs) / span, 0, 1);
                return (float)(MinLearningRate + (BaseLearningRate - MinLearningRate) * 0.5 *
                    (1 + Math.Cos(Math.PI * progress)));
            default:
                return BaseLearningRate;
        }
    }
}
