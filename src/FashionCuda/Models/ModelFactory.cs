using FashionCuda.Backends;
using FashionCuda.Nn;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Models;

/// <summary>Builds the network a config names, with its parameters on <paramref name="backend"/>.</summary>
public static class ModelFactory
{
    public static Module Create(TrainConfig config, IBackend backend, Rng rng) => config.Model switch
    {
        "alexnet-fm" => new AlexNetFm(backend, rng, config.AlexNet),
        _ => throw new ConfigException(
            $"$.model.name: unknown model '{config.Model}'; use one of {string.Join(", ", TrainConfig.ModelNames)}."),
    };
}
