"""Fixtures of the data tests: the real MNIST test set, which CI provides.

It lives in the folder `shared/` beside the repository checkout (`../shared/data/mnist`
relative to the repo root). When it is missing the tests that need it fail, not skip: a
skipped real-data test would let a broken reader pass unnoticed.
"""
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MNIST_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"
MNIST_IMAGES = MNIST_DIR / "t10k-images-idx3-ubyte.gz"
MNIST_LABELS = MNIST_DIR / "t10k-labels-idx1-ubyte.gz"


@pytest.fixture(scope="session")
def mnist_files():
    missing = [p for p in (MNIST_IMAGES, MNIST_LABELS) if not p.is_file()]
    if missing:
        pytest.fail(
            "real MNIST test set not found: " + ", ".join(str(p) for p in missing)
            + f" (expected in ../shared/data/mnist relative to the repository root {REPO_ROOT}; "
              "CI provides it)", pytrace=False)
    return MNIST_IMAGES, MNIST_LABELS
