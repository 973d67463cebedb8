#!/usr/bin/env bash
# Compile-checks every kernels/*.cu to PTX with clang (no CUDA toolkit needed). Exits non-zero on the first
# kernel that does not compile. Usage: kernels/check-ptx.sh [OUTPUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
clang="${CLANG:-clang-14}"
count=0
for source in "$here"/*.cu; do
    name="$(basename "$source" .cu)"
    "$clang" -x cuda --cuda-device-only -nocudainc -nocudalib --cuda-gpu-arch=sm_80 -O2 -S \
        -include "$here/prelude.h" -Werror "$source" -o "$out/$name.ptx"
    grep -q '\.entry' "$out/$name.ptx" || { echo "error: $source produced no kernel entry" >&2; exit 1; }
    count=$((count + 1))
done
echo "compiled $count kernel file(s) to PTX in $out"
