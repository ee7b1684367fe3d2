"""Datasets as the commands see them: a train half, a held-out test half, and where they came from.

Three ways a held-out split arises, all reproducible from what a checkpoint records
(dataset, data_dir, train_size, split_seed):

* digits: gpucnn.data's stratified 80/20 split (seed `split_seed`);
* a dataset with both official halves: the official test half; `train_size` N trains on N
  training images drawn with `split_seed`;
* an MNIST-style folder holding only the t10k files (such as ../shared/data/mnist):
  `train_size` N trains on N of them and tests on the rest, again drawn with `split_seed`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import data as gdata
from ..data.idx import DIGIT_CLASSES, FASHION_CLASSES, IDX_FILES, find_idx_file
from . import UserError

DATASETS = gdata.DATASETS
IDX_DATASETS = ("mnist", "fashion-mnist")
DOWNLOADABLE = tuple(gdata.MIRRORS)


@dataclass
class LoadedData:
    train: gdata.Dataset
    test: gdata.Dataset
    description: str   # e.g. "8,000 train / 2,000 held-out images of t10k in ../shared/data/mnist"
    data_dir: str | None


def resolve_data_dir(dataset: str, data_dir) -> Path | None:
    if dataset == "digits":
        return None
    return Path(data_dir).expanduser() if data_dir is not None else gdata.default_cache_dir(dataset)


def load_data(dataset: str, data_dir=None, download: bool = False, train_size: int | None = None,
              split_seed: int = 0) -> LoadedData:
    """Load `dataset` for training or evaluation; every failure is a one-line UserError."""
    if dataset not in DATASETS:
        raise UserError(f"unknown dataset {dataset!r}; known datasets: {', '.join(DATASETS)}")
    if download and dataset not in DOWNLOADABLE:
        raise UserError(f"--download: {dataset} needs no download (it ships with scikit-learn)")
    folder = resolve_data_dir(dataset, data_dir)
    try:
        if download:
            gdata.download_dataset(dataset, folder)
        if dataset in IDX_DATASETS and _only_test_files(folder):
            return _split_single(dataset, folder, train_size, split_seed)
        train, test = gdata.load_dataset(dataset, data_dir=folder, split_seed=split_seed)
    except (gdata.DataFormatError, gdata.DataFileNotFoundError, gdata.DownloadError) as error:
        raise UserError(_one_line(error)) from None
    except OSError as error:  # permissions, a directory where a file should be, ...
        raise UserError(f"{dataset}: cannot read data in {folder}: {_one_line(error)}") from None
    where = f" in {folder}" if folder is not None else ""
    if train_size is not None:
        if not 0 < train_size <= len(train):
            raise UserError(f"--train-size {train_size}: {dataset} has {len(train):,} training "
                            f"images; choose 1..{len(train)}")
        if train_size < len(train):
            train, _ = gdata.split(train, train_size, seed=split_seed)
    description = f"{len(train):,} train / {len(test):,} test images of {dataset}{where}"
    return LoadedData(train, test, description, str(folder) if folder is not None else None)


def _only_test_files(folder: Path) -> bool:
    have = lambda stems: all(find_idx_file(folder, s) is not None for s in stems)  # noqa: E731
    return folder.is_dir() and have(IDX_FILES["test"]) and not have(IDX_FILES["train"])


def _split_single(dataset, folder, train_size, split_seed) -> LoadedData:
    images_stem, labels_stem = IDX_FILES["test"]
    if train_size is None:
        raise UserError(f"{dataset}: {folder} holds only the t10k (test) files; pass "
                        f"--train-size N to train on N of those images and test on the rest "
                        f"(e.g. --train-size 8000)")
    classes = FASHION_CLASSES if dataset == "fashion-mnist" else DIGIT_CLASSES
    full = gdata.load_idx_pair(find_idx_file(folder, images_stem),
                               find_idx_file(folder, labels_stem), name=dataset, classes=classes)
    if not 0 < train_size < len(full):
        raise UserError(f"--train-size {train_size}: {folder} holds {len(full):,} t10k images; "
                        f"choose 1..{len(full) - 1} so some are left to test on")
    train, test = gdata.split(full, train_size, seed=split_seed)
    description = (f"{len(train):,} train / {len(test):,} held-out images of {dataset} t10k "
                   f"in {folder}")
    return LoadedData(train, test, description, str(folder))


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
