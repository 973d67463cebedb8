#!/usr/bin/python3
"""Times the engine's alexnet-fm or resnet-narrow in PyTorch on the CPU, the same way `fashioncuda bench` does.

Prints one JSON object with train_images_per_second and infer_images_per_second. Uses Debian's
python3-torch; pass --threads to match the engine (2 on the reference machine).
"""
import argparse
import json
import time

import torch
from torch import nn


def alexnet_fm(width: int, hidden: int = 1024, classes: int = 10) -> nn.Module:
    """AlexNet-FM: the same layers, in the same order, as the engine's AlexNetFm baseline."""
    w = width
    features = nn.Sequential(
        nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 3 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(3 * w, 6 * w, 3, padding=1), nn.ReLU(),
        nn.Conv2d(6 * w, 4 * w, 3, padding=1), nn.ReLU(),
        nn.Conv2d(4 * w, 4 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    )
    classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(4 * w * 3 * 3, hidden), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, classes),
    )
    return nn.Sequential(features, nn.Flatten(), classifier)


class BasicBlock(nn.Module):
    """The engine's BasicBlock without CBAM: two 3×3 convs with batch norm, and a 1×1 projection shortcut
    when the stride or the channel count changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False), nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False), nn.BatchNorm2d(out_channels),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, 0, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x):
        return torch.relu(self.residual(x) + self.shortcut(x))


def resnet_narrow(width: int, classes: int = 10) -> nn.Module:
    """Return the engine's resnet-narrow: 3×3 stem, stages width, 2·width, 4·width of three blocks, average pool."""
    layers = [nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    channels = width
    for stage, out_channels in enumerate([width, 2 * width, 4 * width]):
        for block in range(3):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(BasicBlock(channels, out_channels, stride))
            channels = out_channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes)]
    return nn.Sequential(*layers)


def make_steps(model: nn.Module, optimizer, images, labels):
    """Return the training step (SGD on cross-entropy) and the inference step that both benchmarks time.

    The inference step copies the logits to the host, as the engine's bench does.
    """
    loss_function = nn.CrossEntropyLoss()

    def train_step() -> None:
        optimizer.zero_grad()
        loss = loss_function(model(images), labels)
        loss.backward()
        optimizer.step()
        loss.item()

    def infer_step() -> None:
        with torch.no_grad():
            model(images).cpu()

    return train_step, infer_step


def measure(step, warmup: int, steps: int, batch: int) -> float:
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=["alexnet-fm", "resnet-narrow"], default="alexnet-fm")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(7)
    model = alexnet_fm(args.width) if args.model == "alexnet-fm" else resnet_narrow(args.width)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(args.batch, 1, 28, 28)
    labels = torch.randint(0, 10, (args.batch,))
    train_step, infer_step = make_steps(model, optimizer, images, labels)
    model.train()
    train_rate = measure(train_step, args.warmup, args.steps, args.batch)
    model.eval()
    infer_rate = measure(infer_step, args.warmup, args.steps, args.batch)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "model": args.model, "width": args.width,
        "batch": args.batch, "train_images_per_second": round(train_rate, 2),
        "infer_images_per_second": round(infer_rate, 2),
    }))


if __name__ == "__main__":
    main()
