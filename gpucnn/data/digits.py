"""The 8x8 handwritten digits that scikit-learn ships inside its package (1,797 real images).

It is gpucnn's default dataset because it needs no download: `gpucnn train` works offline on
a fresh install. Pixels are counts 0..16 (each 8x8 pixel summarises a 4x4 block of a
32x32 bitmap), so dividing by 16 gives [0, 1] like every other dataset here.
"""
from __future__ import annotations

import numpy as np

from .dataset import Dataset, split

CLASSES = tuple(str(d) for d in range(10))
TEST_FRACTION = 0.2


def load_digits(split_seed: int = 0, test_fraction: float = TEST_FRACTION) -> tuple[Dataset, Dataset]:
    """(train, test): a stratified, seeded split holding out `test_fraction` of the images."""
    from sklearn.datasets import load_digits as _sklearn_digits  # imported late: sklearn is slow to import

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    bunch = _sklearn_digits()
    images = (bunch.data.reshape(-1, 1, 8, 8) / 16.0).astype(np.float32)
    full = Dataset(images, bunch.target.astype(np.int64), CLASSES, "digits")
    n_test = int(round(test_fraction * len(full)))
    return split(full, len(full) - n_test, seed=split_seed, stratify=True)
