#!/usr/bin/env bash
# Runs `fashioncuda bench` and the same model in PyTorch (bench/torch_cpu_bench.py) one after the other, for
# AlexNet-FM w=32 and w=64 and the narrow ResNet w=16 at batch 128, and prints each throughput and the ratio
# engine / PyTorch.
# Needs Debian's python3-torch and libopenblas0-pthread; both sides use THREADS threads (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
steps="${STEPS:-10}"
python="${PYTHON:-/usr/bin/python3}"
"$python" -c 'import torch' 2>/dev/null || {
    echo "error: $python cannot import torch; install it with: apt-get install python3-torch libopenblas0-pthread" >&2
    exit 2
}
dotnet build src/FashionCuda.Cli -c Release -v quiet -nologo >/dev/null
cli=(dotnet src/FashionCuda.Cli/bin/Release/net10.0/fashioncuda.dll)

printf '%-14s %-6s %-6s %14s %14s %7s %14s %14s %7s\n' model width batch "train ours" "train torch" ratio \
    "infer ours" "infer torch" ratio
for case in "alexnet-fm 32" "alexnet-fm 64" "resnet-narrow 16"; do
    read -r model width <<<"$case"
    ours="$(DOTNET_PROCESSOR_COUNT="$threads" "${cli[@]}" bench --model "$model" --width "$width" --batch 128 \
        --steps "$steps" --json)"
    theirs="$(OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" "$python" bench/torch_cpu_bench.py \
        --model "$model" --width "$width" --batch 128 --steps "$steps" --threads "$threads")"
    "$python" - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = (json.loads(text) for text in sys.argv[1:3])
t_ours, t_theirs = ours["train_images_per_second"], theirs["train_images_per_second"]
i_ours, i_theirs = ours["infer_images_per_second"], theirs["infer_images_per_second"]
print(f'{theirs["model"]:<14} {ours["width"]:<6} {ours["batch"]:<6} {t_ours:14.1f} {t_theirs:14.1f} {t_ours / t_theirs:6.2f}x '
      f'{i_ours:14.1f} {i_theirs:14.1f} {i_ours / i_theirs:6.2f}x')
PY
done
