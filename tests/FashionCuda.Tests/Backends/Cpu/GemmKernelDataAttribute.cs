using System.Reflection;
using FashionCuda.Backends.Cpu;
using Xunit.Sdk;

namespace FashionCuda.Tests.Backends.Cpu;

/// <summary>
/// Rows of a GEMM theory for one micro-kernel, skipped with the reason where this CPU cannot run that kernel.
/// Each row starts with the kernel's name, because a public test method cannot take the internal enum.
/// </summary>
internal abstract class GemmKernelDataAttribute : DataAttribute
{
    protected GemmKernelDataAttribute(GemmKernel kernel)
    {
        Kernel = kernel;
        if (!Gemm.IsSupported(kernel))
            Skip = $"This CPU does not accelerate the vector width that the {kernel} GEMM kernel needs.";
    }

    protected GemmKernel Kernel { get; }
}

/// <summary>One row per kernel: (kernel name).</summary>
internal sealed class GemmKernelAttribute(GemmKernel kernel) : GemmKernelDataAttribute(kernel)
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[Kernel.ToString()]];
}

/// <summary>One row per shape of <see cref="GemmTests.Shapes"/>: (kernel name, m, n, k).</summary>
internal sealed class GemmKernelShapesAttribute(GemmKernel kernel) : GemmKernelDataAttribute(kernel)
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) =>
        GemmTests.Shapes.Select(shape => new object[] { Kernel.ToString(), shape.M, shape.N, shape.K });
}

/// <summary>
/// One row per conv geometry of <see cref="Im2ColOperandTests.Geometries"/>: (kernel name, N, C, H, W, K, R = S,
/// PadH, PadW).
/// </summary>
internal sealed class GemmKernelConvsAttribute(GemmKernel kernel) : GemmKernelDataAttribute(kernel)
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) =>
        Im2ColOperandTests.Geometries.Select(shape => new object[]
        {
            Kernel.ToString(), shape.N, shape.C, shape.H, shape.W, shape.K, shape.Size, shape.PadH, shape.PadW,
        });
}
