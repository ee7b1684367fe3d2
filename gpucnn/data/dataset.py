"""The in-memory `Dataset` every loader returns, and `split` to cut one into train and test.

Datasets here are small enough (at most CIFAR-10's 60,000 images) to live in memory as a
single float32 NCHW array, which keeps batching a plain NumPy fancy-index and makes every
model see the same layout whatever the source format was.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


class Dataset:
    """Images (float32, NCHW, values in [0, 1]) with int64 labels and the class names.

    `dataset[i]` gives one `(image, label)` pair; `dataset[slice or index array]` gives a new
    `Dataset` holding those samples, so subsets keep their class names.
    """

    def __init__(self, images, labels, classes: Sequence[str], name: str = ""):
        images = np.asarray(images)
        labels = np.asarray(labels)
        if images.ndim != 4:
            raise ValueError(f"{name or 'dataset'}: images must be NCHW (4-D), got shape {images.shape}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(
                f"{name or 'dataset'}: labels must be 1-D with one label per image, "
                f"got labels {labels.shape} for images {images.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name or 'dataset'}: labels must be integers, got dtype {labels.dtype}")
        self.classes = tuple(str(c) for c in classes)
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(
                f"{name or 'dataset'}: labels must lie in 0..{len(self.classes) - 1}, "
                f"got {labels.min()}..{labels.max()}")
        # float32 in [0, 1] is the one contract models rely on; asarray avoids a copy when the
        # reader already produced it.
        self.images = np.ascontiguousarray(images, dtype=np.float32)
        self.labels = np.ascontiguousarray(labels, dtype=np.int64)
        self.name = name

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one image."""
        return tuple(self.images.shape[1:])

    def __len__(self) -> int:
        return self.labels.shape[0]

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self.images[index], int(self.labels[index])
        return Dataset(self.images[index], self.labels[index], self.classes, self.name)

    def subset(self, indices) -> "Dataset":
        """A new Dataset with the samples at `indices` (in that order)."""
        indices = np.asarray(indices, dtype=np.int64)
        return Dataset(self.images[indices], self.labels[indices], self.classes, self.name)

    def class_counts(self) -> np.ndarray:
        """How many samples each class has (length `num_classes`)."""
        return np.bincount(self.labels, minlength=self.num_classes)

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, n={len(self)}, image_shape={self.image_shape}, "
                f"num_classes={self.num_classes})")


def _stratified_test_indices(labels: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """Pick `n_test` indices so each class gets its proportional share (largest remainder).

    Written here rather than borrowed from scikit-learn so the split a seed gives cannot change
    with a library upgrade.
    """
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * (n_test / labels.shape[0])
    take = np.floor(exact).astype(np.int64)
    # Hand the leftover slots to the classes with the largest fractional parts; ties go to
    # the lower class id (stable sort), which keeps the result a pure function of the labels.
    leftover = n_test - int(take.sum())
    order = np.argsort(-(exact - take), kind="stable")
    take[order[:leftover]] += 1
    chosen = []
    for cls, k in zip(classes, take):
        members = np.flatnonzero(labels == cls)
        chosen.append(rng.permutation(members)[:k])
    return np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)


def split(dataset: Dataset, n_train: int, seed: int = 0, stratify: bool = False) -> tuple[Dataset, Dataset]:
    """Cut one dataset into `(train, test)`: `n_train` samples and the rest, chosen at random.

    The choice depends only on `seed` (and the labels when `stratify=True`), so the same call
    always gives the same split. Both parts keep the original order of their samples. This is
    how to train on a set that ships without a training half, e.g. LeNet-5 on 8,000 of the
    10,000 MNIST test images, tested on the other 2,000::

        full = load_idx_pair(d / "t10k-images-idx3-ubyte.gz", d / "t10k-labels-idx1-ubyte.gz")
        train, test = split(full, 8000, seed=0)
    """
    n = len(dataset)
    if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)):
        raise ValueError(f"n_train must be an int, got {n_train!r}")
    if not 0 < n_train < n:
        raise ValueError(f"n_train must be between 1 and {n - 1} for a dataset of {n} samples, got {n_train}")
    rng = np.random.default_rng(seed)
    if stratify:
        test_idx = _stratified_test_indices(dataset.labels, n - n_train, rng)
        is_test = np.zeros(n, dtype=bool)
        is_test[test_idx] = True
        train_idx, test_idx = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    else:
        perm = rng.permutation(n)
        train_idx, test_idx = np.sort(perm[:n_train]), np.sort(perm[n_train:])
    return dataset.subset(train_idx), dataset.subset(test_idx)
