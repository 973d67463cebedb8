// Minimal CUDA prelude for compile-checking kernels with clang when no CUDA toolkit is installed:
//   clang-14 -x cuda --cuda-device-only -nocudainc -nocudalib --cuda-gpu-arch=sm_80 -S \
//            -include kernels/prelude.h kernels/X.cu -o X.ptx
// nvcc defines these itself, so the kernels include nothing and both compilers take them.
#pragma once
#ifndef __CUDACC_VER_MAJOR__
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __host__ __attribute__((host))
#include <__clang_cuda_builtin_vars.h>
#endif
