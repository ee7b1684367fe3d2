"""`load_dataset`: one entry point for every dataset gpucnn knows, by name."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from .dataset import Dataset

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
DEFAULT_DATASET = "digits"  # embedded in scikit-learn: works offline on a fresh install


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
        from .digits import load_digits

        return load_digits(split_seed=split_seed)

    from .download import default_cache_dir, download_dataset

    data_dir = Path(data_dir).expanduser() if data_dir is not None else default_cache_dir(key)
    if download:
        download_dataset(key, data_dir, base_url=base_url, checksums=checksums, timeout=timeout)
    if key == "cifar10":
        from .cifar import load_cifar10

        return load_cifar10(data_dir)
    from .idx import DIGIT_CLASSES, FASHION_CLASSES, load_idx_dataset

    classes = FASHION_CLASSES if key == "fashion-mnist" else DIGIT_CLASSES
    return load_idx_dataset(data_dir, name=key, classes=classes)
