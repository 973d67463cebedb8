using System.Text;

namespace FashionCuda.Backends.Cuda.Interop;

/// <summary>The native libraries the CUDA backend binds.</summary>
public enum NativeLibraryKind
{
    /// <summary>The CUDA driver API, <c>libcuda.so.1</c>, installed with the NVIDIA driver.</summary>
    Driver,

    /// <summary>cuBLAS, <c>libcublas.so.13</c> or <c>.12</c>.</summary>
    CuBlas,

    /// <summary>cuDNN, <c>libcudnn.so.9</c> (or <c>.8</c>, whose legacy API matches for the calls used here).</summary>
    CuDnn,
}

/// <summary>
/// A failed CUDA, cuBLAS or cuDNN call: the call, the numeric status, its name in the vendor header and the
/// library's description of it.
/// </summary>
public sealed class CudaException : Exception
{
    internal CudaException(NativeLibraryKind library, string call, int status, string statusName,
        string libraryMessage)
        : base($"{call} failed with {statusName} ({status}): {libraryMessage}")
    {
        Library = library;
        Call = call;
        Status = status;
        StatusName = statusName;
        LibraryMessage = libraryMessage;
    }

    public NativeLibraryKind Library { get; }

    /// <summary>The native function that failed, as the vendor header names it.</summary>
    public string Call { get; }

    public int Status { get; }

    public string StatusName { get; }

    public string LibraryMessage { get; }
}

/// <summary>Vendor-header names of the status enums, derived from the C# member names.</summary>
internal static class CudaStatusNames
{
    public static string Driver(CudaResult result) =>
        result == CudaResult.Success ? "CUDA_SUCCESS" : "CUDA_ERROR_" + ToUpperSnake(result.ToString());

    public static string CuBlas(CublasStatus status) => "CUBLAS_STATUS_" + ToUpperSnake(status.ToString());

    public static string CuDnn(CudnnStatus status) => "CUDNN_STATUS_" + ToUpperSnake(status.ToString());

    /// <summary>"InvalidPtx" → "INVALID_PTX".</summary>
    public static string ToUpperSnake(string pascalCase)
    {
        var text = new StringBuilder(pascalCase.Length + 8);
        for (int i = 0; i < pascalCase.Length; i++)
        {
            char ch = pascalCase[i];
            if (i > 0 && char.IsUpper(ch))
                text.Append('_');
            text.Append(char.ToUpperInvariant(ch));
        }
        return text.ToString();
    }
}
