#!/usr/bin/env python3
"""Write the small balanced Fashion-MNIST subset that the repository ships in data/fashion-mnist/.

The subset contains the first 200 training images of each class (2,000 in all) and the first 100 test images of
each class (1,000 in all), taken in file order and kept in file order, so the choice needs no random numbers
and the same source files always give the same subset. The output uses the IDX format of the source and is
gzipped with a zero timestamp, so rerunning the script reproduces the files byte for byte.

Usage: python3 data/make-subset.py [SOURCE_DIR] [OUTPUT_DIR]
SOURCE_DIR defaults to /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist package) and
OUTPUT_DIR to data/fashion-mnist next to this script.
"""

import gzip
import os
import struct
import sys

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
CLASS_COUNT = 10
TRAIN_PER_CLASS = 200
TEST_PER_CLASS = 100


def read_idx(path, expected_magic):
    """Read an IDX file, plain or gzipped, check its magic number and size, and return (dimensions, payload)."""
    with open(path, "rb") as f:
        start = f.read(2)
    opener = gzip.open if start == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    (magic,) = struct.unpack(">i", data[:4])
    if magic != expected_magic:
        sys.exit(f"{path}: magic number 0x{magic:08X}, expected 0x{expected_magic:08X}")
    rank = magic & 0xFF
    dimensions = struct.unpack(f">{rank}I", data[4 : 4 + 4 * rank])
    payload = data[4 + 4 * rank :]
    expected = 1
    for size in dimensions:
        expected *= size
    if len(payload) != expected:
        sys.exit(f"{path}: header promises {expected} bytes, file has {len(payload)}")
    return dimensions, payload


def write_idx(path, magic, dimensions, payload):
    header = struct.pack(">i", magic) + struct.pack(f">{len(dimensions)}I", *dimensions)
    with open(path, "wb") as raw:
        # An empty name and mtime 0 keep the gzip header free of anything that changes between runs.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(header)
            f.write(payload)


def find(directory, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    sys.exit(f"{directory} contains neither {name} nor {name}.gz")


def write_subset(source, output, prefix, per_class):
    image_dims, pixels = read_idx(find(source, f"{prefix}-images-idx3-ubyte"), IMAGES_MAGIC)
    (label_count,), labels = read_idx(find(source, f"{prefix}-labels-idx1-ubyte"), LABELS_MAGIC)
    count, rows, columns = image_dims
    if count != label_count:
        sys.exit(f"{prefix}: {count} images but {label_count} labels")

    taken_per_class = [0] * CLASS_COUNT
    chosen = []
    for index, label in enumerate(labels):
        if taken_per_class[label] < per_class:
            taken_per_class[label] += 1
            chosen.append(index)
    if min(taken_per_class) < per_class:
        sys.exit(f"{prefix}: some class has fewer than {per_class} images: {taken_per_class}")

    size = rows * columns
    subset_pixels = b"".join(pixels[i * size : (i + 1) * size] for i in chosen)
    subset_labels = bytes(labels[i] for i in chosen)
    write_idx(os.path.join(output, f"{prefix}-images-idx3-ubyte.gz"), IMAGES_MAGIC,
              (len(chosen), rows, columns), subset_pixels)
    write_idx(os.path.join(output, f"{prefix}-labels-idx1-ubyte.gz"), LABELS_MAGIC, (len(chosen),), subset_labels)
    print(f"{prefix}: {len(chosen)} images ({per_class} per class) written to {output}")


def main():
    script_dir = os.path.dirname(os.path.abspath(__file__))
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    output = sys.argv[2] if len(sys.argv) > 2 else os.path.join(script_dir, "fashion-mnist")
    os.makedirs(output, exist_ok=True)
    write_subset(source, output, "train", TRAIN_PER_CLASS)
    write_subset(source, output, "t10k", TEST_PER_CLASS)


if __name__ == "__main__":
    main()
