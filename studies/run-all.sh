#!/bin/sh
# Trains the four studies on the full Fashion-MNIST into studies/results/<study>/, one after another, and writes
# each study's report.md. Finished runs are skipped, so the script continues wherever an earlier call stopped;
# Ctrl+C stops it after writing the report of the study in progress.
#
#   sh studies/run-all.sh [DATA_DIR]    (default /usr/share/datasets/fashion-mnist)
#
# Study 3 trains its narrow ResNet arms only: the ResNet-18 arms need a GPU (add --device cuda and drop --arms).
set -eu
cd "$(dirname "$0")/.."
data=${1:-/usr/share/datasets/fashion-mnist}
dotnet build src/FashionCuda.Cli -c Release --nologo -v quiet
cli="dotnet src/FashionCuda.Cli/bin/Release/net10.0/fashioncuda.dll"

for study in pilot study1-depth-classifier study2-alexnet-cbam; do
    $cli study "studies/$study.json" --data "$data" --out "studies/results/$study"
done
$cli study studies/study3-resnet-cbam.json --data "$data" --out studies/results/study3-resnet-cbam \
    --arms narrow,narrow-cbam,narrow-cbam-channel,narrow-cbam-spatial
