"""Writers of small synthetic-but-valid data files (IDX, CIFAR-10 binary) for the tests."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
                  np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array)
    code = IDX_TYPE_CODES[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, gz: bool | None = None) -> Path:
    """Write `array` as an IDX file; gzipped when the name ends in .gz (or gz=True)."""
    path = Path(path)
    data = idx_bytes(array)
    if gz if gz is not None else path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def mnist_like(n: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, size, size), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def write_mnist_dir(directory, n_train=30, n_test=20, gz=True, seed=0) -> dict:
    """The four MNIST files in `directory`; returns the arrays written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images, labels = mnist_like(n, seed=seed + (prefix == "t10k"))
        write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        out[prefix] = (images, labels)
    return out


def cifar_records(labels, seed=0) -> tuple[bytes, np.ndarray]:
    """Records for `labels`; each image's R, G, B planes hold distinct value ranges."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels, dtype=np.uint8)
    images = np.empty((len(labels), 3, 32, 32), dtype=np.uint8)
    images[:, 0] = rng.integers(0, 80, size=(len(labels), 32, 32))     # red plane: 0..79
    images[:, 1] = rng.integers(100, 180, size=(len(labels), 32, 32))  # green: 100..179
    images[:, 2] = rng.integers(200, 256, size=(len(labels), 32, 32))  # blue: 200..255
    records = np.concatenate([labels[:, None], images.reshape(len(labels), -1)], axis=1)
    return records.astype(np.uint8).tobytes(), images


CIFAR_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST = "test_batch.bin"


def write_cifar_dir(directory, per_file=4) -> dict:
    """The six CIFAR-10 binary files in `directory`; returns {filename: (images, labels)}."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, name in enumerate(CIFAR_TRAIN + (CIFAR_TEST,)):
        labels = (np.arange(per_file) + i) % 10
        data, images = cifar_records(labels, seed=i)
        (directory / name).write_bytes(data)
        out[name] = (images, labels)
    return out
