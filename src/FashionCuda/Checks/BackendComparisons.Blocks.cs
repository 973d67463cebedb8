using FashionCuda.Autograd;
using FashionCuda.Backends;
using FashionCuda.Models;
using FashionCuda.Nn;
using FashionCuda.Tensors;

namespace FashionCuda.Checks;

// Whole blocks through the autograd: the same weights on both backends, one forward and one backward pass in
// training mode with L = Σ output·G. A block chains a dozen ops whose rounding differences add up, yet the
// largest difference measured on the CPU backend is 5e-6, so the tolerance of single sums holds.
public static partial class BackendComparisons
{

    private static void CbamBlock(Pair p) =>
        CompareBlock(p, (backend, rng) => new Cbam(backend, rng, 12, new CbamOptions { Reduction = 4 }),
            [3, 12, 9, 7]);

    /// <summary>Stride 2 and a change of width, so the projection shortcut runs too.</summary>
    private static void BasicBlockWithCbam(Pair p) =>
        CompareBlock(p, (backend, rng) => new BasicBlock(backend, rng, 6, 12, 2, new CbamOptions { Reduction = 4 }),
            [2, 6, 10, 10]);

    private static void CompareBlock(Pair p, Func<IBackend, Rng, Module> build, int[] inputShape)
    {
        ulong seed = p.Rng.NextUInt64();
        var candidate = build(p.CandidateBackend, new Rng(seed));
        var reference = build(p.ReferenceBackend, new Rng(seed));
        // The spatial batch norm's weight starts at 0, which would make the spatial conv's gradient 0 on both sides.
        foreach (var module in new[] { candidate, reference })
        {
            foreach (var (_, child) in module.NamedModules())
            {
                if (child is SpatialAttention spatial)
                    spatial.Bn.Weight.Backend.Fill(spatial.Bn.Weight, 1f);
            }
        }
        var input = p.Normal(inputShape);
        input.Candidate.RequiresGrad = true;
        input.Reference.RequiresGrad = true;
        // One backward pass clears the thread's tape, so each side runs forward and backward before the other.
        var candidateOutput = candidate.Call(input.Candidate);
        var weights = p.Normal([1, checked((int)candidateOutput.Length)]);
        F.Linear(F.Reshape(candidateOutput, 1, -1), weights.Candidate, null).Backward();
        var referenceOutput = reference.Call(input.Reference);
        F.Linear(F.Reshape(referenceOutput, 1, -1), weights.Reference, null).Backward();
        p.Compare("output", new Twin(candidateOutput, referenceOutput));
        p.Compare("dInput", new Twin(input.Candidate.Grad!, input.Reference.Grad!));
        var candidateParameters = candidate.NamedParameters().ToDictionary(e => e.Name, e => e.Parameter);
        foreach (var (name, parameter) in reference.NamedParameters())
            p.Compare("d " + name, new Twin(candidateParameters[name].Grad!, parameter.Grad!));
    }
}
