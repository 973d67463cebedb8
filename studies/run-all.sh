#!/bin/sh
# Trains the four studies on the full Fashion-MNIST into studies/results/<study>/, one after another, and writes
# each study's report.md. Finished runs are skipped, so the script continues wherever an earlier call stopped;
# Ctrl+C stops it after writing the report of the study in progress.
#
#   sh studies/run-all.sh [DATA_DIR]    (default /usr/share/datasets/fashion-mnist)
#
# On the CPU, study 3 trains its narrow ResNet arms only: its ResNet-18 arms have needs_gpu, so they train with
# --device cuda on a machine with a GPU.
set -eu
cd "$(dirname "$0")/.."
data=${1:-/usr/share/datasets/fashion-mnist}
dotnet build src/FashionCuda.Cli -c Release --nologo -v quiet
cli="dotnet src/FashionCuda.Cli/bin/Release/net10.0/fashioncuda.dll"

for study in pilot study1-depth-classifier study2-alexnet-cbam study3-resnet-cbam; do
    $cli study "studies/$study.json" --data "$data" --out "studies/results/$study"
done
