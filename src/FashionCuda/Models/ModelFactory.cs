using FashionCuda.Backends;
using FashionCuda.Nn;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Models;

/// <summary>Builds the network a config names, with its parameters on <paramref name="backend"/>.</summary>
public static class ModelFactory
{
    public static Module Create(TrainConfig config, IBackend backend, Rng rng) => Create(config.Model, backend, rng);

    public static Module Create(ModelConfig model, IBackend backend, Rng rng) => model.Name switch
    {
        ModelConfig.AlexNetFm => new AlexNetFm(backend, rng, model.ToAlexNetFmOptions()),
        ModelConfig.ResNet18 or ModelConfig.ResNetNarrow => new ResNet(backend, rng, model.ToResNetOptions()),
        _ => throw new ConfigException(
            $"$.model.name: unknown model '{model.Name}'; use one of {string.Join(", ", ModelConfig.Names)}."),
    };

    /// <summary>The input shape (1, channels, size, size) of one image for <paramref name="model"/>.</summary>
    public static int[] ImageShape(ModelConfig model) => [1, model.InputChannels, model.InputSize, model.InputSize];
}
