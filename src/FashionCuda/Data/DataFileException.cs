namespace FashionCuda.Data;

/// <summary>
/// A dataset file or folder that is missing, damaged or not what it should be. The message is meant for the user:
/// it names the path, says what is wrong and what to do, and contains no stack-trace detail.
/// </summary>
public sealed class DataFileException : Exception
{
    public DataFileException(string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>The file or folder the problem is about.</summary>
    public string Path { get; }
}
