#!/usr/bin/env python3
"""Times the alexnet-fm layer list in PyTorch eager mode on a CUDA GPU with cuDNN.

It times the same way `fashioncuda bench --device cuda` times the engine: synthetic batches, warm-up steps
excluded, SGD with momentum 0.9. Each step ends with loss.item(), a host synchronization, as in the engine.

Prints one JSON object. The layer list is imported from bench/torch_cpu_bench.py so both benchmarks build
the same network. TF32 is turned off to match the engine's default float32 math.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from torch_cpu_bench import alexnet_fm, make_steps  # noqa: E402


def measure(step, warmup: int, steps: int, batch: int) -> float:
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(7)
    device = torch.device("cuda")
    model = alexnet_fm(args.width).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(args.batch, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (args.batch,), device=device)
    train_step, infer_step = make_steps(model, optimizer, images, labels)
    model.train()
    train_rate = measure(train_step, args.warmup, args.steps, args.batch)
    model.eval()
    infer_rate = measure(infer_step, args.warmup, args.steps, args.batch)
    torch.cuda.reset_peak_memory_stats()
    train_step()
    print(json.dumps({
        "torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
        "gpu": torch.cuda.get_device_name(0), "width": args.width, "batch": args.batch,
        "train_images_per_second": round(train_rate, 2), "infer_images_per_second": round(infer_rate, 2),
        "peak_memory_bytes": torch.cuda.max_memory_allocated(),
    }))


if __name__ == "__main__":
    main()
