#!/usr/bin/python3
"""Load a FashionCuda AlexNet-FM checkpoint into the equivalent torch.nn model and record its logits.

The checkpoint is a safetensors file written by `fashioncuda train`: an 8-byte little-endian
header length, a JSON header, then raw little-endian float32 data. It is parsed here by hand, so no
safetensors package is needed. The model is built from the config in the file's metadata with the
layer numbering of src/FashionCuda/Models/AlexNetFm.cs, loaded with strict=True (every name and
shape must match), and run in evaluation mode on the first 8 Fashion-MNIST test images, normalized
with the checkpoint's normalization. The input batch and the logits are written to a safetensors
fixture that tests/FashionCuda.Tests/Interop/PyTorchInteropTests.cs checks the engine against.

Run it from the repository root with Debian's python3-torch and commit the output file:
    /usr/bin/python3 tests/pytorch/load_checkpoint.py
"""

import argparse
import gzip
import hashlib
import json
import pathlib
import struct

import numpy as np
import torch
from torch import nn

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "FashionCuda.Tests" / "Fixtures"
DEFAULT_CHECKPOINT = FIXTURES / "interop_alexnet_fm_bn.safetensors"
DEFAULT_OUTPUT = FIXTURES / "interop_alexnet_fm_bn_logits.safetensors"
DEFAULT_DATA = REPO / "data" / "fashion-mnist"
BATCH = 8


def read_safetensors(path: pathlib.Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Parse a safetensors file of F32 tensors into torch tensors and its string metadata."""
    data = path.read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path} is truncated: {len(data)} bytes.")
    (header_length,) = struct.unpack("<Q", data[:8])
    if 8 + header_length > len(data):
        raise ValueError(f"{path} is truncated: the header claims {header_length} bytes.")
    header = json.loads(data[8:8 + header_length].decode("utf-8"))
    body = data[8 + header_length:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}; only F32 is read.")
        start, end = info["data_offsets"]
        array = np.frombuffer(body[start:end], dtype="<f4").reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata


def write_safetensors(path: pathlib.Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Write float32 tensors in the safetensors layout, data aligned to 8 bytes."""
    header: dict[str, object] = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        blob = tensor.detach().contiguous().numpy().astype("<f4", copy=False).tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as stream:
        stream.write(struct.pack("<Q", len(encoded)))
        stream.write(encoded)
        for blob in blobs:
            stream.write(blob)


def conv_plan(width: int, layers: int) -> list[tuple[int, bool]]:
    """Output channels of each conv and whether a 2x2 max pool follows, as AlexNetFm.ConvPlan."""
    w = width
    plans = {
        3: [(w, True), (3 * w, True), (4 * w, True)],
        5: [(w, True), (3 * w, True), (6 * w, False), (4 * w, False), (4 * w, True)],
        7: [(w, True), (3 * w, True), (6 * w, False), (4 * w, False), (4 * w, False), (4 * w, False),
            (4 * w, True)],
    }
    return plans[layers]


class AlexNetFm(nn.Module):
    """torch.nn twin of the engine's AlexNet-FM: submodules features and classifier, numbered alike."""

    def __init__(self, model: dict):
        super().__init__()
        channels, size = model["input_channels"], model["input_size"]
        layers: list[nn.Module] = []
        for out_channels, pool in conv_plan(model["width"], model["conv_layers"]):
            layers.append(nn.Conv2d(channels, out_channels, 3, 1, 1, bias=not model["batch_norm"]))
            if model["batch_norm"]:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU())
            if pool:
                layers.append(nn.MaxPool2d(2, 2))
                size //= 2
            channels = out_channels
        self.features = nn.Sequential(*layers)
        self.head = model["classifier"]
        flat, hidden, classes = channels * size * size, model["hidden"], model["classes"]
        if self.head == "fc3":
            self.classifier = nn.Sequential(
                nn.Dropout(model["dropout"]), nn.Linear(flat, hidden), nn.ReLU(),
                nn.Dropout(model["dropout"]), nn.Linear(hidden, hidden), nn.ReLU(),
                nn.Linear(hidden, classes))
        elif self.head == "linear":
            self.classifier = nn.Sequential(nn.Linear(flat, classes))
        else:
            self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        if self.head != "gap":
            x = torch.flatten(x, 1)
        return self.classifier(x)


def read_idx(path: pathlib.Path) -> np.ndarray:
    """Read a gzip-compressed IDX file of unsigned bytes (the MNIST file format)."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes.")
    shape = struct.unpack(f">{rank}I", data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=pathlib.Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--data", type=pathlib.Path, default=DEFAULT_DATA,
                        help="folder with the Fashion-MNIST gz IDX files")
    parser.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    torch.set_num_threads(1)

    state, metadata = read_safetensors(args.checkpoint)
    config = json.loads(metadata["config"])
    if config["model"]["name"] != "alexnet-fm":
        raise SystemExit(f"{args.checkpoint} holds {config['model']['name']}; this script rebuilds alexnet-fm only.")
    model = AlexNetFm(config["model"])
    # PyTorch's BatchNorm2d also keeps num_batches_tracked, which the engine does not store; it only matters
    # for momentum=None, so it is filled in rather than required.
    for name, buffer in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = buffer
    model.load_state_dict(state, strict=True)
    model.eval()

    means = [float(v) for v in metadata["normalization_mean"].split(",")]
    stds = [float(v) for v in metadata["normalization_std"].split(",")]
    images = read_idx(args.data / "t10k-images-idx3-ubyte.gz")[:BATCH].astype(np.float32) / np.float32(255.0)
    inputs = torch.from_numpy((images - np.float32(means[0])) / np.float32(stds[0])).reshape(BATCH, 1, 28, 28)
    with torch.no_grad():
        logits = model(inputs)

    write_safetensors(args.output, {"input": inputs, "logits": logits}, {
        "torch_version": torch.__version__,
        "checkpoint_sha256": hashlib.sha256(args.checkpoint.read_bytes()).hexdigest(),
        "source": "tests/pytorch/load_checkpoint.py",
    })
    print(f"wrote {args.output}: logits of {BATCH} test images, predicted classes "
          f"{logits.argmax(1).tolist()}")


if __name__ == "__main__":
    main()
