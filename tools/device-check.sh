#!/usr/bin/env bash
# The CUDA device check, for a machine with a GPU and nvcc but no .NET. It uses the self-contained CLI that
# was published beforehand on a machine with .NET:
#   dotnet pwsh build.ps1 publish     (or the dotnet publish command of that target)
# which writes the single file publish/linux-x64/fashioncuda.
# Steps: compile kernels/*.cu to PTX with nvcc, list the devices, run `check --device cuda` (the CPU
# comparison table), `kernels bench`, one training epoch on full Fashion-MNIST, and `bench --device cuda`
# beside PyTorch eager with cuDNN. Each step has its own time limit and the whole check aims to end within
# 8 minutes. Every output lands in one folder, printed at the end.
# Usage: tools/device-check.sh [RESULTS_DIR]     (default: device-check-results/<UTC time>)
set -uo pipefail
cd "$(dirname "$0")/.."

results="${1:-device-check-results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$results"
cli="publish/linux-x64/fashioncuda"
summary="$results/summary.txt"
: > "$summary"

note() { echo "$*" | tee -a "$summary"; }

# run NAME SECONDS COMMAND...: runs one step with a time limit, output to NAME.txt, status to the summary.
run() {
    local name="$1" limit="$2"
    shift 2
    local start=$SECONDS
    timeout "$limit" "$@" > "$results/$name.txt" 2>&1
    local status=$?
    note "$(printf '%-16s exit %3d  %4ds  %s' "$name" "$status" "$((SECONDS - start))" "$*")"
    return $status
}

if [[ ! -x "$cli" ]]; then
    echo "error: $cli not found; publish the CLI first (see the header of $0)." >&2
    exit 2
fi

# The pip nvidia-* wheels put cuBLAS and cuDNN in site-packages/nvidia/*/lib. The engine searches there
# itself; passing the folders explicitly also lets cuDNN's sub-libraries find each other.
nvidia_libs="$(python3 - <<'PY' 2>/dev/null
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
print(":".join(sorted({d for r in roots for d in glob.glob(os.path.join(r, "nvidia", "*", "lib"))})))
PY
)"
export FASHIONCUDA_CUDA_LIB_DIR="${FASHIONCUDA_CUDA_LIB_DIR:-$nvidia_libs}"
export LD_LIBRARY_PATH="${FASHIONCUDA_CUDA_LIB_DIR}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
note "FASHIONCUDA_CUDA_LIB_DIR=$FASHIONCUDA_CUDA_LIB_DIR"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv > "$results/nvidia-smi.txt" 2>&1
note "$(tail -n +2 "$results/nvidia-smi.txt" | head -1)"

# PTX for the GPU's architecture (compute_cap "9.0" -> 90), written where the engine looks for it.
arch="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')"
arch="${arch:-90}"
ptx="build/kernels/ptx/sm_$arch"
mkdir -p "$ptx"
export FASHIONCUDA_PTX_DIR="$PWD/build/kernels/ptx"
ptx_start=$SECONDS
ptx_status=0
for source in kernels/*.cu; do
    name="$(basename "$source" .cu)"
    nvcc -ptx -O3 -arch="compute_$arch" -lineinfo "$source" -o "$ptx/$name.ptx" >> "$results/nvcc.txt" 2>&1 \
        || ptx_status=1
done
note "$(printf '%-16s exit %3d  %4ds  nvcc -ptx -arch=compute_%s kernels/*.cu' nvcc "$ptx_status" \
    "$((SECONDS - ptx_start))" "$arch")"

run devices 30 "$cli" devices
run check 120 "$cli" check --device cuda
run kernels-bench 90 "$cli" kernels bench
# The repository tracks only a Fashion-MNIST subset; carry the full IDX files (about 30 MiB gzipped) into
# data/fashion-mnist-full or point FASHIONCUDA_DATA at them.
data="${FASHIONCUDA_DATA:-data/fashion-mnist-full}"
data_option=(--data "$data")
if [[ ! -d "$data" ]]; then
    note "full Fashion-MNIST not found in $data; the epoch runs on the default data search path"
    data_option=()
fi
run train-epoch 120 "$cli" train --config studies/fashion-mnist-full.json --device cuda --epochs 1 \
    "${data_option[@]}" --out "$results/train"
run bench 60 "$cli" bench --device cuda --width 64 --batch 128 --steps 50 --warmup 5 --json
run torch-bench 90 python3 tools/torch_cuda_bench.py --width 64 --batch 128 --steps 50 --warmup 5

note "results in $results"
