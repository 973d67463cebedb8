using System.Globalization;
using System.Text.Json;

namespace FashionCuda.Training;

/// <summary>An invalid configuration value; the message starts with the JSON path (for example <c>$.optimizer.lr</c>).</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// Reads one JSON object strictly: each key is read at most once by name, and <see cref="RejectUnknownKeys"/>
/// reports any key that no reader asked for, with the keys that are allowed.
/// </summary>
public sealed class ConfigReader
{
    private readonly JsonElement element;
    private readonly HashSet<string> allowed = new(StringComparer.Ordinal);

    public ConfigReader(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new ConfigException($"{path}: expected an object, got {Describe(element)}.");
        this.element = element;
        Path = path;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!names.Add(property.Name))
                throw new ConfigException($"{path}.{property.Name}: the key appears twice; keep one.");
        }
    }

    public string Path { get; }

    public static ConfigReader Parse(string json, string source)
    {
        if (string.IsNullOrWhiteSpace(json))
            throw new ConfigException($"{source} is empty; it should hold one JSON object, {{ ... }}.");
        try
        {
            var options = new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
            return new ConfigReader(JsonDocument.Parse(json, options).RootElement, "$");
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is { } line
                ? $" at line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}"
                : "";
            throw new ConfigException($"{source} is not valid JSON{where}; check for a missing comma, quote or brace.");
        }
    }

    public bool Has(string key)
    {
        allowed.Add(key);
        return element.TryGetProperty(key, out var value) && value.ValueKind != JsonValueKind.Null;
    }

    /// <summary>Whether <paramref name="key"/> is present and not null, without adding it to the allowed keys.</summary>
    public bool IsSet(string key) =>
        element.TryGetProperty(key, out var value) && value.ValueKind != JsonValueKind.Null;

    public ConfigReader? Object(string key)
    {
        if (!Has(key))
            return null;
        return new ConfigReader(element.GetProperty(key), $"{Path}.{key}");
    }

    public string String(string key, string fallback, IReadOnlyList<string>? choices = null)
    {
        if (!Has(key))
            return fallback;
        var value = element.GetProperty(key);
        if (value.ValueKind != JsonValueKind.String)
            throw new ConfigException($"{Path}.{key}: expected a string, got {Describe(value)}.");
        string text = value.GetString()!;
        if (choices is not null && !choices.Contains(text))
            throw new ConfigException(
                $"{Path}.{key}: '{text}' is not allowed; use one of {string.Join(", ", choices.Select(c => $"'{c}'"))}.");
        return text;
    }

    public int Int(string key, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!Has(key))
            return fallback;
        var value = element.GetProperty(key);
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
            throw new ConfigException(
                $"{Path}.{key}: expected an integer" +
                (min == int.MinValue && max == int.MaxValue ? "" : $" ({Range(min, max)})") + $", got {Describe(value)}.");
        if (number < min || number > max)
            throw new ConfigException($"{Path}.{key}: {number} is out of range; use {Range(min, max)}.");
        return number;
    }

    public double Number(string key, double fallback, double min = double.NegativeInfinity,
        double max = double.PositiveInfinity, bool maxExclusive = false, bool minExclusive = false)
    {
        if (!Has(key))
            return fallback;
        var value = element.GetProperty(key);
        if (value.ValueKind != JsonValueKind.Number)
            throw new ConfigException($"{Path}.{key}: expected a number, got {Describe(value)}.");
        double number = value.GetDouble();
        if (double.IsNaN(number) || number < min || number > max || (maxExclusive && number >= max) ||
            (minExclusive && number <= min))
        {
            string low = (minExclusive ? "above " : "from ") + min.ToString(CultureInfo.InvariantCulture);
            string high = (maxExclusive ? "below " : "to ") + max.ToString(CultureInfo.InvariantCulture);
            throw new ConfigException(
                $"{Path}.{key}: {number.ToString(CultureInfo.InvariantCulture)} is out of range; use a value " +
                $"{low} {high}.");
        }
        return number;
    }

    public bool Bool(string key, bool fallback)
    {
        if (!Has(key))
            return fallback;
        var value = element.GetProperty(key);
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ConfigException($"{Path}.{key}: expected true or false, got {Describe(value)}."),
        };
    }

    public IReadOnlyList<int> IntList(string key, IReadOnlyList<int> fallback, int min = int.MinValue)
    {
        if (!Has(key))
            return fallback;
        var value = element.GetProperty(key);
        if (value.ValueKind != JsonValueKind.Array)
            throw new ConfigException($"{Path}.{key}: expected a list of integers, got {Describe(value)}.");
        var list = new List<int>();
        int index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int number) || number < min)
                throw new ConfigException($"{Path}.{key}[{index}]: expected an integer of at least {min}, got {Describe(item)}.");
            list.Add(number);
            index++;
        }
        return list;
    }

    /// <summary>Returns the object at <paramref name="key"/> as raw JSON, unread, or null when it is absent.</summary>
    public JsonElement? RawObject(string key)
    {
        if (!Has(key))
            return null;
        var value = element.GetProperty(key);
        if (value.ValueKind != JsonValueKind.Object)
            throw new ConfigException($"{Path}.{key}: expected an object, got {Describe(value)}.");
        return value.Clone();
    }

    /// <summary>Returns a reader for each object of the list at <paramref name="key"/>, with paths such as <c>$.arms[0]</c>.</summary>
    public IReadOnlyList<ConfigReader> ObjectList(string key)
    {
        if (!Has(key))
            return [];
        var value = element.GetProperty(key);
        if (value.ValueKind != JsonValueKind.Array)
            throw new ConfigException($"{Path}.{key}: expected a list of objects, got {Describe(value)}.");
        var list = new List<ConfigReader>();
        int index = 0;
        foreach (var item in value.EnumerateArray())
        {
            list.Add(new ConfigReader(item, $"{Path}.{key}[{index}]"));
            index++;
        }
        return list;
    }

    /// <summary>Rejects keys that no accessor asked for, naming the allowed ones.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var property in element.EnumerateObject())
        {
            if (!allowed.Contains(property.Name))
                throw new ConfigException(
                    $"{Path}.{property.Name}: unknown key; allowed keys here are " +
                    $"{string.Join(", ", allowed.Order(StringComparer.Ordinal))}.");
        }
    }

    private static string Range(int min, int max) =>
        max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => "null",
    };
}
