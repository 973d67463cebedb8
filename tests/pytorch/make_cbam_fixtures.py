#!/usr/bin/python3
"""Write the PyTorch reference fixture for the CBAM parity tests.

Builds three cases in torch.nn with the module and parameter names of src/FashionCuda/Nn/Cbam.cs and
src/FashionCuda/Models/ResNet.cs, all in training mode (batch statistics):
  cbam.    one CBAM block, 16 channels, reduction 4, 7x7 spatial conv, input (4, 16, 8, 8);
  block.   one BasicBlock 8 -> 16 channels with stride 2 (so a projection shortcut) and CBAM
           (reduction 4, 7x7) on its residual branch, input (4, 8, 8, 8);
  resnet.  the narrow ResNet (stages of 3 blocks) at width 4 with CBAM (reduction 2, 3x3) in every
           block, on 4 random 1x16x16 images and 10 classes, with a cross-entropy loss.
The blocks' loss is L = sum(output * grad_output) for a fixed random grad_output, so the stored input
and parameter gradients are those of the backward pass seeded with grad_output. Each case stores its
initial state (parameters and buffers), input, output, the gradients, and the buffers after the pass.
tests/FashionCuda.Tests/Parity/CbamParityTests.cs checks the engine against the file.

Run it with Debian's python3-torch:
    /usr/bin/python3 tests/pytorch/make_cbam_fixtures.py
"""

import argparse
import json
import pathlib
import struct

import torch
from torch import nn

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = REPO / "tests" / "FashionCuda.Tests" / "Fixtures" / "cbam.safetensors"

SEED = 3


class Margins:
    """The smallest distance of a forward pass from a flip of a ReLU or of a max choice.

    The engine can match the gradients only while its rounding error stays below this margin.
    """

    def __init__(self) -> None:
        self.value = float("inf")

    def relu_input(self, x: torch.Tensor) -> None:
        self.value = min(self.value, x.detach().abs().min().item())

    def max_over(self, x: torch.Tensor, dim: int) -> None:
        top = x.detach().topk(2, dim=dim).values
        self.value = min(self.value, (top.select(dim, 0) - top.select(dim, 1)).min().item())


MARGINS = Margins()


def relu(x: torch.Tensor) -> torch.Tensor:
    MARGINS.relu_input(x)
    return torch.relu(x)


class ChannelAttention(nn.Module):
    """Average- and max-pooled descriptors through one shared MLP, summed, sigmoid, scale per channel."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels))

    def shared_mlp(self, descriptor: torch.Tensor) -> torch.Tensor:
        return self.mlp[2](relu(self.mlp[0](descriptor)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        MARGINS.max_over(x.flatten(2), dim=2)
        average = x.mean(dim=(2, 3))
        maximum = x.amax(dim=(2, 3))
        gate = torch.sigmoid(self.shared_mlp(average) + self.shared_mlp(maximum))
        return x * gate[:, :, None, None]


class SpatialAttention(nn.Module):
    """Max and mean over channels, k x k conv, batch norm (weight starting at 0), sigmoid, scale per pixel."""

    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)
        nn.init.zeros_(self.bn.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        MARGINS.max_over(x, dim=1)
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.bn(self.conv(pooled)))


class Cbam(nn.Module):
    def __init__(self, channels: int, reduction: int, kernel_size: int) -> None:
        super().__init__()
        self.channel = ChannelAttention(channels, reduction)
        self.spatial = SpatialAttention(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))


class BasicBlock(nn.Module):
    """Two 3x3 convs with batch norm, CBAM before the addition, projection shortcut on a shape change."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, reduction: int, kernel_size: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.cbam = Cbam(out_channels, reduction, kernel_size)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, 0, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(relu(self.bn1(self.conv1(x)))))
        out = self.cbam(out)
        shortcut = x if self.downsample is None else self.downsample(x)
        return relu(out + shortcut)


class NarrowResNet(nn.Module):
    """3x3 stride-1 stem, stages of 3 BasicBlocks (widths w, 2w, 4w; strides 1, 2, 2), pooling, linear."""

    def __init__(self, width: int, classes: int, reduction: int, kernel_size: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        channels = width
        for stage in range(3):
            out_channels = width << stage
            blocks = []
            for block in range(3):
                stride = 2 if stage > 0 and block == 0 else 1
                blocks.append(BasicBlock(channels, out_channels, stride, reduction, kernel_size))
                channels = out_channels
            self.add_module(f"layer{stage + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean(dim=(2, 3)))


def randomize_batch_norms(model: nn.Module) -> None:
    """Give every batch norm weights in [0.5, 1.5] and biases in [-0.2, 0.2].

    The spatial attention's weight would otherwise start at 0, which makes the gradients of its conv
    vanish, and a test that compares zeros proves nothing.
    """
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.2, 0.2)


def state(prefix: str, model: nn.Module, tensors: dict[str, torch.Tensor], buffers_only: bool = False) -> None:
    """Store parameters and buffers (running statistics) under prefix, skipping num_batches_tracked."""
    for name, tensor in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        if buffers_only and not name.endswith(("running_mean", "running_var")):
            continue
        tensors[prefix + name] = tensor.detach().clone()


def run_block(prefix: str, model: nn.Module, shape: tuple[int, ...], tensors: dict[str, torch.Tensor]) -> float:
    """Run one block forward and backward with L = sum(output * grad_output); return the decision margin."""
    randomize_batch_norms(model)
    model.train()
    state(prefix + "state.", model, tensors)
    inputs = torch.randn(shape, requires_grad=True)
    MARGINS.value = float("inf")
    output = model(inputs)
    margin = MARGINS.value
    grad_output = torch.randn(output.shape)
    (output * grad_output).sum().backward()
    tensors[prefix + "input"] = inputs.detach().clone()
    tensors[prefix + "grad_output"] = grad_output
    tensors[prefix + "output"] = output.detach().clone()
    tensors[prefix + "grad.input"] = inputs.grad.detach().clone()
    for name, parameter in model.named_parameters():
        tensors[prefix + "grad." + name] = parameter.grad.detach().clone()
    state(prefix + "updated.", model, tensors, buffers_only=True)
    return margin


def run_resnet(prefix: str, tensors: dict[str, torch.Tensor]) -> float:
    """Run the narrow ResNet with CBAM forward and backward through a cross-entropy loss."""
    model = NarrowResNet(width=4, classes=10, reduction=2, kernel_size=3)
    randomize_batch_norms(model)
    model.train()
    state(prefix + "state.", model, tensors)
    inputs = torch.randn(4, 1, 16, 16)
    labels = torch.tensor([3, 0, 7, 9])
    MARGINS.value = float("inf")
    logits = model(inputs)
    margin = MARGINS.value
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    tensors[prefix + "input"] = inputs
    tensors[prefix + "labels"] = labels.to(torch.float32)
    tensors[prefix + "logits"] = logits.detach().clone()
    tensors[prefix + "loss"] = loss.detach().reshape(1)
    for name, parameter in model.named_parameters():
        tensors[prefix + "grad." + name] = parameter.grad.detach().clone()
    return margin


def write_safetensors(path: pathlib.Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Write float32 tensors in the safetensors layout that FashionCuda.Training.SafeTensors reads."""
    header: dict[str, object] = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        array = tensor.detach().cpu().contiguous().numpy().astype("<f4", copy=False)
        blob = array.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Pad the header with spaces so the data starts on an 8-byte boundary.
    encoded += b" " * (-len(encoded) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as stream:
        stream.write(struct.pack("<Q", len(encoded)))
        stream.write(encoded)
        for blob in blobs:
            stream.write(blob)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT, help="safetensors file to write")
    args = parser.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)

    tensors: dict[str, torch.Tensor] = {}
    margins = {
        "cbam": run_block("cbam.", Cbam(16, reduction=4, kernel_size=7), (4, 16, 8, 8), tensors),
        "block": run_block("block.", BasicBlock(8, 16, stride=2, reduction=4, kernel_size=7), (4, 8, 8, 8),
                           tensors),
        "resnet": run_resnet("resnet.", tensors),
    }
    metadata = {
        "torch_version": torch.__version__,
        "seed": str(SEED),
        "threads": "1",
        "deterministic_algorithms": "true",
        "dtype": "float32",
        "mode": "training (batch statistics), batch norm momentum 0.1, eps 1e-5",
        "cbam": "Cbam(16 channels, reduction 4, kernel 7), input (4, 16, 8, 8)",
        "block": "BasicBlock(8 -> 16, stride 2, CBAM reduction 4, kernel 7), input (4, 8, 8, 8)",
        "resnet": "narrow ResNet width 4, CBAM reduction 2, kernel 3, input (4, 1, 16, 16), 10 classes",
        "decision_margin": json.dumps({name: f"{value:.3e}" for name, value in margins.items()}),
        "generator": "tests/pytorch/make_cbam_fixtures.py",
    }
    write_safetensors(args.output, tensors, metadata)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes), decision margins {metadata['decision_margin']}")


if __name__ == "__main__":
    main()
