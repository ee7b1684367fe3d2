"""Reader for the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in row-major order. MNIST images are
magic 2051 (uint8, 3 dims: count, rows, cols) and labels 2049 (uint8, 1 dim: count).
Files may be gzipped (the form they are published in) or not; both are read the same way.

Everything is checked before it is trusted: a damaged download, a truncated copy or a
swapped file must fail here with the file's name, not surface later as a shape error or as a
model that trains on garbage.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .errors import DataFileNotFoundError, DataFormatError

IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension

# IDX type code -> big-endian NumPy dtype (the format stores every multi-byte value big-endian).
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# The four files of an MNIST-style dataset, by split, without the optional ".gz".
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

DIGIT_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataFileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as f:
        signature = f.read(2)
    # Decide by content, not by name: an IDX file starts with two zero bytes, a gzip stream
    # with 1f 8b, so a gzipped file without ".gz" (or the reverse) is still read correctly.
    if signature == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (EOFError, OSError, zlib.error) as e:
            # EOFError is what gzip raises for a cut-off stream; BadGzipFile (an OSError) and
            # zlib.error for a damaged one.
            raise DataFormatError(f"{path}: corrupt or truncated gzip file ({e})") from e
    return path.read_bytes()


def read_idx(path, expect_magic: int | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or not) into an array of its declared shape and type.

    Values come back in native byte order. With `expect_magic` (2051 for images, 2049 for
    labels) a file of another kind is refused. Raises DataFileNotFoundError if the file is
    missing and DataFormatError (a ValueError) if the header is invalid or the data is
    shorter or longer than the header declares.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataFormatError(f"{path}: {len(data)} bytes is too short for an IDX header (truncated file?)")
    magic = struct.unpack(">I", data[:4])[0]
    zeros, type_code, ndim = data[0] << 8 | data[1], data[2], data[3]
    if zeros != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise DataFormatError(
            f"{path}: not an IDX file (magic number {magic:#010x} = {magic}; expected "
            f"{IMAGES_MAGIC} for images or {LABELS_MAGIC} for labels)")
    if expect_magic is not None and magic != expect_magic:
        kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(expect_magic, "this file")
        raise DataFormatError(
            f"{path}: wrong magic number {magic} (expected {expect_magic} for {kind}); "
            f"is this the right file?")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{path}: truncated header ({len(data)} bytes, header needs {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_TYPES[type_code]
    count = int(np.prod(dims, dtype=np.int64))
    expected, actual = count * dtype.itemsize, len(data) - header
    if actual < expected:
        raise DataFormatError(
            f"{path}: truncated file: the header declares shape {dims} ({expected} bytes of "
            f"data) but only {actual} bytes follow")
    if actual > expected:
        raise DataFormatError(
            f"{path}: {actual - expected} unexpected bytes after the {expected} bytes of data "
            f"the header declares for shape {dims}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    # astype makes a writable copy (frombuffer on bytes is read-only) in native byte order.
    return arr.astype(dtype.newbyteorder("="))


def load_idx_pair(images_path, labels_path, name: str = "mnist",
                  classes=DIGIT_CLASSES) -> Dataset:
    """Load an images file and its labels file into a Dataset (N, 1, H, W) in [0, 1].

    Checks that both files are the right kind, that they hold the same number of samples and
    that every label names one of `classes`.
    """
    images_path, labels_path = Path(images_path), Path(labels_path)
    images = read_idx(images_path, expect_magic=IMAGES_MAGIC)
    labels = read_idx(labels_path, expect_magic=LABELS_MAGIC)
    if images.shape[0] == 0 or min(images.shape[1:], default=0) == 0:
        raise DataFormatError(f"{images_path}: holds no images (shape {images.shape})")
    if images.ndim != 3:
        raise DataFormatError(f"{images_path}: images must be (N, H, W), got shape "
                              f"{images.shape}")
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"count mismatch: {images_path} holds {images.shape[0]} images but "
            f"{labels_path} holds {labels.shape[0]} labels")
    if labels.size and labels.max() >= len(classes):
        bad = int(np.argmax(labels >= len(classes)))
        raise DataFormatError(
            f"{labels_path}: label {int(labels[bad])} at index {bad} is out of range "
            f"0..{len(classes) - 1}")
    pixels = images.astype(np.float32)[:, None, :, :]
    pixels /= np.float32(255.0)  # in place: no second full-size temporary
    return Dataset(pixels, labels.astype(np.int64), classes, name)


def find_idx_file(directory, stem: str) -> Path | None:
    """`directory/stem.gz` or `directory/stem`, whichever exists (gzipped first), else None."""
    directory = Path(directory)
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def load_idx_dataset(data_dir, name: str = "mnist", classes=DIGIT_CLASSES) -> tuple[Dataset, Dataset]:
    """Load the official (train, test) halves of an MNIST-style dataset from one directory."""
    data_dir = Path(data_dir)
    found = {stem: find_idx_file(data_dir, stem) for pair in IDX_FILES.values() for stem in pair}
    missing = [stem for stem, p in found.items() if p is None]
    if missing:
        msg = (f"{name}: {', '.join(s + '[.gz]' for s in missing)} not found in {data_dir}")
        if all(found[s] is not None for s in IDX_FILES["test"]) and set(missing) == set(IDX_FILES["train"]):
            msg += (". Only the t10k (test) files are there: to train on part of them, use "
                    "gpucnn.data.split(gpucnn.data.load_idx_pair(images, labels), n_train, seed)")
        else:
            msg += " (download=True, or --download on the command line, fetches them)"
        raise DataFileNotFoundError(msg)
    train = load_idx_pair(found[IDX_FILES["train"][0]], found[IDX_FILES["train"][1]], name, classes)
    test = load_idx_pair(found[IDX_FILES["test"][0]], found[IDX_FILES["test"][1]], name, classes)
    return train, test
