"""Reader for the binary version of CIFAR-10 (https://www.cs.toronto.edu/~kriz/cifar.html).

The binary version is used rather than the Python one because the Python one is a pickle,
and unpickling a downloaded file can run arbitrary code. Each binary file is a run of
3,073-byte records: one label byte (0..9), then 1,024 red, 1,024 green and 1,024 blue bytes,
each plane row-major 32x32, i.e. exactly CHW order, so a reshape gives NCHW with no copy.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import Dataset
from .errors import DataFileNotFoundError, DataFormatError

RECORD_BYTES = 1 + 3 * 32 * 32
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)
SUBFOLDER = "cifar-10-batches-bin"  # what the official archive unpacks to
CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")


def read_cifar_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary file into (images uint8 (N, 3, 32, 32), labels int64 (N,))."""
    path = Path(path)
    if not path.is_file():
        raise DataFileNotFoundError(f"{path}: no such file")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise DataFormatError(
            f"{path}: size {raw.size} bytes is not a positive multiple of the {RECORD_BYTES}-byte "
            f"CIFAR-10 record (truncated or not a CIFAR-10 binary file)")
    records = raw.reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= len(CLASSES):
        bad = int(np.argmax(labels >= len(CLASSES)))
        raise DataFormatError(
            f"{path}: record {bad} has label {int(labels[bad])}, CIFAR-10 labels are 0..9 "
            f"(CIFAR-100 file, or damaged?)")
    images = records[:, 1:].reshape(-1, 3, 32, 32)
    return images, labels


def find_cifar_dir(data_dir) -> Path:
    """The folder holding the .bin files: `data_dir` itself or its cifar-10-batches-bin/."""
    data_dir = Path(data_dir)
    for candidate in (data_dir, data_dir / SUBFOLDER):
        if all((candidate / f).is_file() for f in TRAIN_FILES + TEST_FILES):
            return candidate
    where = data_dir / SUBFOLDER if (data_dir / SUBFOLDER).is_dir() else data_dir
    missing = [f for f in TRAIN_FILES + TEST_FILES if not (where / f).is_file()]
    raise DataFileNotFoundError(
        f"cifar10: {', '.join(missing)} not found in {where} (looked in {data_dir} and "
        f"{data_dir / SUBFOLDER}; download=True, or --download on the command line, fetches them)")


def _load(files) -> tuple[np.ndarray, np.ndarray]:
    parts = [read_cifar_batch(f) for f in files]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    pixels = images.astype(np.float32)
    pixels /= np.float32(255.0)
    return pixels, labels


def load_cifar10(data_dir) -> tuple[Dataset, Dataset]:
    """Load the official CIFAR-10 (train 50,000, test 10,000) halves from `data_dir`."""
    folder = find_cifar_dir(data_dir)
    train = Dataset(*_load(folder / f for f in TRAIN_FILES), CLASSES, "cifar10")
    test = Dataset(*_load(folder / f for f in TEST_FILES), CLASSES, "cifar10")
    return train, test
