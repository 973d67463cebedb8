using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FashionCuda.Backends.Cpu;

// Micro-kernels: C[Mr×Nr] = alpha·(A sliver · B sliver) + beta·C, with beta = 0 meaning C is not read.
// A sliver: kc steps of Mr values; B sliver: kc steps of Nr values (see PackA and PackB).
internal sealed unsafe partial class Gemm
{
    /// <summary>
    /// A micro-kernel and its tile size. MultiplyBlock, PackA and PackB are generic over it, so each kernel gets
    /// its own compiled loops with Mr and Nr as constants and a direct call to the kernel.
    /// </summary>
    private interface IMicroKernel
    {
        static abstract int Mr { get; }

        static abstract int Nr { get; }

        static abstract void Run(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta);
    }

    private readonly struct Avx512Kernel : IMicroKernel
    {
        public static int Mr => 12;

        public static int Nr => 32;

        public static void Run(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta) =>
            Kernel12x32(kc, a, b, c, ldc, alpha, beta);
    }

    private readonly struct Avx2Kernel : IMicroKernel
    {
        public static int Mr => 6;

        public static int Nr => 16;

        public static void Run(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta) =>
            Kernel6x16(kc, a, b, c, ldc, alpha, beta);
    }

    private readonly struct ScalarKernel : IMicroKernel
    {
        public static int Mr => 4;

        public static int Nr => 4;

        public static void Run(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta) =>
            Kernel4x4(kc, a, b, c, ldc, alpha, beta);
    }

    /// <summary>AVX-512: 12 rows × 32 columns, 24 zmm accumulators, two B loads and 12 broadcasts per step.</summary>
    private static void Kernel12x32(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        Vector512<float> c000 = default, c001 = default;
        Vector512<float> c010 = default, c011 = default;
        Vector512<float> c020 = default, c021 = default;
        Vector512<float> c030 = default, c031 = default;
        Vector512<float> c040 = default, c041 = default;
        Vector512<float> c050 = default, c051 = default;
        Vector512<float> c060 = default, c061 = default;
        Vector512<float> c070 = default, c071 = default;
        Vector512<float> c080 = default, c081 = default;
        Vector512<float> c090 = default, c091 = default;
        Vector512<float> c100 = default, c101 = default;
        Vector512<float> c110 = default, c111 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a00 = Vector512.Create(a[0]);
            c000 = Vector512.FusedMultiplyAdd(a00, b0, c000);
            c001 = Vector512.FusedMultiplyAdd(a00, b1, c001);
            var a01 = Vector512.Create(a[1]);
            c010 = Vector512.FusedMultiplyAdd(a01, b0, c010);
            c011 = Vector512.FusedMultiplyAdd(a01, b1, c011);
            var a02 = Vector512.Create(a[2]);
            c020 = Vector512.FusedMultiplyAdd(a02, b0, c020);
            c021 = Vector512.FusedMultiplyAdd(a02, b1, c021);
            var a03 = Vector512.Create(a[3]);
            c030 = Vector512.FusedMultiplyAdd(a03, b0, c030);
            c031 = Vector512.FusedMultiplyAdd(a03, b1, c031);
            var a04 = Vector512.Create(a[4]);
            c040 = Vector512.FusedMultiplyAdd(a04, b0, c040);
            c041 = Vector512.FusedMultiplyAdd(a04, b1, c041);
            var a05 = Vector512.Create(a[5]);
            c050 = Vector512.FusedMultiplyAdd(a05, b0, c050);
            c051 = Vector512.FusedMultiplyAdd(a05, b1, c051);
            var a06 = Vector512.Create(a[6]);
            c060 = Vector512.FusedMultiplyAdd(a06, b0, c060);
            c061 = Vector512.FusedMultiplyAdd(a06, b1, c061);
            var a07 = Vector512.Create(a[7]);
            c070 = Vector512.FusedMultiplyAdd(a07, b0, c070);
            c071 = Vector512.FusedMultiplyAdd(a07, b1, c071);
            var a08 = Vector512.Create(a[8]);
            c080 = Vector512.FusedMultiplyAdd(a08, b0, c080);
            c081 = Vector512.FusedMultiplyAdd(a08, b1, c081);
            var a09 = Vector512.Create(a[9]);
            c090 = Vector512.FusedMultiplyAdd(a09, b0, c090);
            c091 = Vector512.FusedMultiplyAdd(a09, b1, c091);
            var a10 = Vector512.Create(a[10]);
            c100 = Vector512.FusedMultiplyAdd(a10, b0, c100);
            c101 = Vector512.FusedMultiplyAdd(a10, b1, c101);
            var a11 = Vector512.Create(a[11]);
            c110 = Vector512.FusedMultiplyAdd(a11, b0, c110);
            c111 = Vector512.FusedMultiplyAdd(a11, b1, c111);
            a += 12;
            b += 32;
        }
        var alphaV = Vector512.Create(alpha);
        if (beta == 0f)
        {
            StoreRow512(c + 0 * (long)ldc, c000, c001, alphaV);
            StoreRow512(c + 1 * (long)ldc, c010, c011, alphaV);
            StoreRow512(c + 2 * (long)ldc, c020, c021, alphaV);
            StoreRow512(c + 3 * (long)ldc, c030, c031, alphaV);
            StoreRow512(c + 4 * (long)ldc, c040, c041, alphaV);
            StoreRow512(c + 5 * (long)ldc, c050, c051, alphaV);
            StoreRow512(c + 6 * (long)ldc, c060, c061, alphaV);
            StoreRow512(c + 7 * (long)ldc, c070, c071, alphaV);
            StoreRow512(c + 8 * (long)ldc, c080, c081, alphaV);
            StoreRow512(c + 9 * (long)ldc, c090, c091, alphaV);
            StoreRow512(c + 10 * (long)ldc, c100, c101, alphaV);
            StoreRow512(c + 11 * (long)ldc, c110, c111, alphaV);
        }
        else
        {
            var betaV = Vector512.Create(beta);
            UpdateRow512(c + 0 * (long)ldc, c000, c001, alphaV, betaV);
            UpdateRow512(c + 1 * (long)ldc, c010, c011, alphaV, betaV);
            UpdateRow512(c + 2 * (long)ldc, c020, c021, alphaV, betaV);
            UpdateRow512(c + 3 * (long)ldc, c030, c031, alphaV, betaV);
            UpdateRow512(c + 4 * (long)ldc, c040, c041, alphaV, betaV);
            UpdateRow512(c + 5 * (long)ldc, c050, c051, alphaV, betaV);
            UpdateRow512(c + 6 * (long)ldc, c060, c061, alphaV, betaV);
            UpdateRow512(c + 7 * (long)ldc, c070, c071, alphaV, betaV);
            UpdateRow512(c + 8 * (long)ldc, c080, c081, alphaV, betaV);
            UpdateRow512(c + 9 * (long)ldc, c090, c091, alphaV, betaV);
            UpdateRow512(c + 10 * (long)ldc, c100, c101, alphaV, betaV);
            UpdateRow512(c + 11 * (long)ldc, c110, c111, alphaV, betaV);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow512(float* c, Vector512<float> left, Vector512<float> right, Vector512<float> alpha)
    {
        (left * alpha).Store(c);
        (right * alpha).Store(c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow512(float* c, Vector512<float> left, Vector512<float> right, Vector512<float> alpha,
        Vector512<float> beta)
    {
        Vector512.FusedMultiplyAdd(Vector512.Load(c), beta, left * alpha).Store(c);
        Vector512.FusedMultiplyAdd(Vector512.Load(c + 16), beta, right * alpha).Store(c + 16);
    }

    /// <summary>AVX2: 6 rows × 16 columns, 12 ymm accumulators, for CPUs without AVX-512.</summary>
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default;
        Vector256<float> c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default;
        Vector256<float> c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.MultiplyAddEstimate(a0, b0, c00);
            c01 = Vector256.MultiplyAddEstimate(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.MultiplyAddEstimate(a1, b0, c10);
            c11 = Vector256.MultiplyAddEstimate(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.MultiplyAddEstimate(a2, b0, c20);
            c21 = Vector256.MultiplyAddEstimate(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.MultiplyAddEstimate(a3, b0, c30);
            c31 = Vector256.MultiplyAddEstimate(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Vector256.MultiplyAddEstimate(a4, b0, c40);
            c41 = Vector256.MultiplyAddEstimate(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Vector256.MultiplyAddEstimate(a5, b0, c50);
            c51 = Vector256.MultiplyAddEstimate(a5, b1, c51);
            a += 6;
            b += 16;
        }
        var alphaV = Vector256.Create(alpha);
        var betaV = Vector256.Create(beta);
        StoreRow256(c + 0 * (long)ldc, c00, c01, alphaV, betaV, beta != 0f);
        StoreRow256(c + 1 * (long)ldc, c10, c11, alphaV, betaV, beta != 0f);
        StoreRow256(c + 2 * (long)ldc, c20, c21, alphaV, betaV, beta != 0f);
        StoreRow256(c + 3 * (long)ldc, c30, c31, alphaV, betaV, beta != 0f);
        StoreRow256(c + 4 * (long)ldc, c40, c41, alphaV, betaV, beta != 0f);
        StoreRow256(c + 5 * (long)ldc, c50, c51, alphaV, betaV, beta != 0f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow256(float* c, Vector256<float> left, Vector256<float> right, Vector256<float> alpha,
        Vector256<float> beta, bool readC)
    {
        left *= alpha;
        right *= alpha;
        if (readC)
        {
            left = Vector256.MultiplyAddEstimate(Vector256.Load(c), beta, left);
            right = Vector256.MultiplyAddEstimate(Vector256.Load(c + 8), beta, right);
        }
        left.Store(c);
        right.Store(c + 8);
    }

    /// <summary>Portable 4×4 kernel for CPUs without 256-bit SIMD.</summary>
    private static void Kernel4x4(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        float* sums = stackalloc float[16];
        for (int i = 0; i < 16; i++)
            sums[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < 4; r++)
            {
                float ar = a[r];
                for (int col = 0; col < 4; col++)
                    sums[r * 4 + col] += ar * b[col];
            }
            a += 4;
            b += 4;
        }
        for (int r = 0; r < 4; r++)
        {
            for (int col = 0; col < 4; col++)
            {
                float* target = c + r * (long)ldc + col;
                float value = alpha * sums[r * 4 + col];
                *target = beta == 0f ? value : value + beta * *target;
            }
        }
    }
}
