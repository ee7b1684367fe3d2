"""`load_dataset`: one entry point for every dataset gpucnn knows, by name, and the embedded one.

digits: the 8x8 handwritten digits that scikit-learn ships inside its package (1,797 real
images). It is gpucnn's default dataset because it needs no download: `gpucnn train` works
offline on a fresh install. Pixels are counts 0..16 (each 8x8 pixel summarises a 4x4 block of
a 32x32 bitmap), so dividing by 16 gives [0, 1] like every other dataset here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .cifar import load_cifar10
from .dataset import Dataset, split
from .download import default_cache_dir, download_dataset
from .idx import DIGIT_CLASSES, FASHION_CLASSES, load_idx_dataset

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
DEFAULT_DATASET = "digits"  # embedded in scikit-learn: works offline on a fresh install
DIGITS_TEST_FRACTION = 0.2


def load_digits(split_seed: int = 0,
                test_fraction: float = DIGITS_TEST_FRACTION) -> tuple[Dataset, Dataset]:
    """digits as (train, test): a stratified, seeded split holding out `test_fraction`."""
    # Imported here, not at the top: scikit-learn takes about a second to import.
    from sklearn.datasets import load_digits as sklearn_digits

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    bunch = sklearn_digits()
    images = (bunch.data.reshape(-1, 1, 8, 8) / 16.0).astype(np.float32)
    full = Dataset(images, bunch.target.astype(np.int64), DIGIT_CLASSES, "digits")
    n_test = int(round(test_fraction * len(full)))
    return split(full, len(full) - n_test, seed=split_seed, stratify=True)


def load_dataset(name: str = DEFAULT_DATASET, data_dir=None, download: bool = False,
                 split_seed: int = 0, *, base_url: str | Sequence[str] | None = None,
                 checksums: Mapping[str, str] | None = None,
                 timeout: float = 60.0) -> tuple[Dataset, Dataset]:
    """Load a dataset by name as `(train, test)` Datasets (float32 NCHW in [0, 1], int64 labels).

    Args:
        name: "digits" (8x8, 1,797 images, shipped with scikit-learn, no files needed),
            "mnist", "fashion-mnist" (IDX files, gzipped or not) or "cifar10" (binary version).
        data_dir: folder holding the files; default `$GPUCNN_DATA/<name>` or
            `~/.cache/gpucnn/<name>`. Ignored for digits.
        download: fetch the missing files into `data_dir`, each verified against its
            published checksum (see gpucnn.data.download).
        split_seed: seed of the stratified 80/20 digits split. The other datasets come with
            an official train/test split, which is used as is.
        base_url, checksums, timeout: download mirror(s), checksum table override
            ({filename: "sha256:<hex>"}) and network timeout in seconds.
    """
    key = str(name).strip().lower().replace("_", "-")
    key = {"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}.get(key, key)
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    if key == "digits":
        return load_digits(split_seed=split_seed)
    data_dir = Path(data_dir).expanduser() if data_dir is not None else default_cache_dir(key)
    if download:
        download_dataset(key, data_dir, base_url=base_url, checksums=checksums, timeout=timeout)
    if key == "cifar10":
        return load_cifar10(data_dir)
    classes = FASHION_CLASSES if key == "fashion-mnist" else DIGIT_CLASSES
    return load_idx_dataset(data_dir, name=key, classes=classes)
