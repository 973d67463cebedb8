<#
.SYNOPSIS
Builds, tests and benchmarks FashionCuda.

.DESCRIPTION
Run through the local PowerShell tool: `dotnet tool restore`, then `dotnet pwsh build.ps1 TARGET`.
Targets:
  build          Release build of the solution.
  test           The test suite (the same command as the README).
  bench          bench/compare-pytorch.sh: fashioncuda bench beside PyTorch (AlexNet-FM w=32 and w=64, narrow
                 ResNet w=16), batch 128.
  kernels        PTX for every kernels/*.cu with nvcc through CMake (needs the CUDA toolkit).
  check-kernels  Compile-check every kernels/*.cu to PTX with clang-14 (no CUDA toolkit needed).
  publish        Self-contained, trimmed, compressed single-file linux-x64 CLI in publish/linux-x64, without
                 ONNX Runtime (about 22 MB), for the GPU device check.
#>
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'bench', 'kernels', 'check-kernels', 'publish')]
    [string] $Target = 'build'
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Step([string] $Command, [string[]] $Arguments) {
    Write-Host "> $Command $($Arguments -join ' ')"
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "'$Command $($Arguments -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

switch ($Target) {
    'build' { Invoke-Step 'dotnet' @('build', 'FashionCuda.sln', '-c', 'Release') }
    'test' { Invoke-Step 'dotnet' @('test', 'FashionCuda.sln', '-c', 'Release') }
    'bench' { Invoke-Step 'bash' @('bench/compare-pytorch.sh') }
    'kernels' {
        Invoke-Step 'cmake' @('-S', '.', '-B', 'build/kernels')
        Invoke-Step 'cmake' @('--build', 'build/kernels')
    }
    'check-kernels' { Invoke-Step 'bash' @('kernels/check-ptx.sh', 'build/ptx-check') }
    'publish' {
        Invoke-Step 'dotnet' @('publish', 'src/FashionCuda.Cli', '-c', 'Release', '-r', 'linux-x64',
            '--self-contained', 'true', '-p:PublishTrimmed=true', '-p:PublishSingleFile=true',
            '-p:EnableCompressionInSingleFile=true', '-p:IncludeNativeLibrariesForSelfExtract=true',
            '-p:FashionCudaWithoutOnnxRuntime=true', '-o', 'publish/linux-x64')
    }
}
