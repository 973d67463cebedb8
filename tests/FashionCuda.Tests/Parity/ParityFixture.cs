using FashionCuda.Backends;
using FashionCuda.Backends.Cpu;
using FashionCuda.Backends.Reference;
using FashionCuda.Tensors;
using FashionCuda.Training;

namespace FashionCuda.Tests.Parity;

/// <summary>The tensors of one PyTorch fixture file from tests/FashionCuda.Tests/Fixtures, read once per run.</summary>
internal sealed class ParityFixture
{
    private readonly string fileName;
    private readonly string generator;

    private ParityFixture(string fileName, string generator, Dictionary<string, (int[] Shape, float[] Values)> tensors)
    {
        this.fileName = fileName;
        this.generator = generator;
        Tensors = tensors;
    }

    public IReadOnlyDictionary<string, (int[] Shape, float[] Values)> Tensors { get; }

    /// <summary>Reads <paramref name="fileName"/>; <paramref name="generator"/> is the script that writes it.</summary>
    public static ParityFixture Load(string fileName, string generator)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"Parity fixture not found at {path}. It is copied from tests/FashionCuda.Tests/Fixtures at " +
                $"build time; regenerate it with /usr/bin/python3 {generator}.", path);
        return new ParityFixture(fileName, generator, SafeTensors.Read(path).Tensors);
    }

    public float[] Values(string key) => Get(key).Values;

    public int[] Shape(string key) => Get(key).Shape;

    /// <summary>Uploads a fixture tensor as a new persistent tensor on <paramref name="backend"/>.</summary>
    public Tensor Upload(IBackend backend, string key)
    {
        var (shape, values) = Get(key);
        return Tensor.FromArray(backend, values, shape, persistent: true);
    }

    /// <summary>
    /// Returns null when every value is within absolute + relative·|expected|, otherwise a message with the
    /// number of mismatches, the first one and the largest difference. NaN in <paramref name="actual"/> fails.
    /// </summary>
    public string? Compare(string key, float[] actual, float absolute, float relative)
    {
        var (shape, expected) = Get(key);
        if (actual.Length != expected.Length)
            return $"{key}: {actual.Length} values, but the fixture has {expected.Length}.";
        int mismatches = 0;
        int first = -1;
        int largest = 0;
        double largestDifference = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double difference = Math.Abs((double)actual[i] - expected[i]);
            if (!(difference <= absolute + relative * Math.Abs((double)expected[i])))
            {
                mismatches++;
                if (first < 0)
                    first = i;
            }
            if (!(difference <= largestDifference))
            {
                largestDifference = difference;
                largest = i;
            }
        }
        if (mismatches == 0)
            return null;
        return $"{key} {FashionCuda.Tensors.Shape.Format(shape)}: {mismatches} of {expected.Length} values differ by more " +
               $"than {absolute:g} + {relative:g}·|expected|. First at {FormatIndex(shape, first)}: expected " +
               $"{expected[first]:g9}, actual {actual[first]:g9}. Largest difference {largestDifference:g3} at " +
               $"{FormatIndex(shape, largest)}: expected {expected[largest]:g9}, actual {actual[largest]:g9}.";
    }

    /// <summary>Formats a row-major flat index as a multi-index, e.g. [2, 0, 1, 1].</summary>
    private static string FormatIndex(int[] shape, int flatIndex)
    {
        var index = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flatIndex % shape[d];
            flatIndex /= shape[d];
        }
        return "[" + string.Join(", ", index) + "]";
    }

    private (int[] Shape, float[] Values) Get(string key) =>
        Tensors.TryGetValue(key, out var tensor)
            ? tensor
            : throw new KeyNotFoundException(
                $"The parity fixture {fileName} has no tensor '{key}'; regenerate it with {generator}.");
}

/// <summary>A backend created by name for one test, disposed with it where the backend owns threads.</summary>
internal sealed class ParityBackend : IDisposable
{
    public ParityBackend(string name)
    {
        Backend = name switch
        {
            "reference" => new ReferenceBackend(),
            "cpu" => new CpuBackend(),
            _ => throw new ArgumentException($"Unknown backend '{name}': use reference or cpu.", nameof(name)),
        };
    }

    public IBackend Backend { get; }

    public void Dispose() => (Backend as IDisposable)?.Dispose();
}
