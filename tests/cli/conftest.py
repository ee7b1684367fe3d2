"""Fixtures of the CLI tests: a CliRunner, the real MNIST test set, a trained digits checkpoint.

The real MNIST test set lives in the folder `shared/` beside the repository checkout
(../shared/data/mnist from the repo root; some checkouts carry it inside as shared/). Tests
that need it fail, not skip, when it is missing.
"""
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gpucnn.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
MNIST_CANDIDATES = (REPO_ROOT / "shared" / "data" / "mnist",
                    REPO_ROOT.parent / "shared" / "data" / "mnist")
MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def invoke(*args, **kwargs):
    """Run `gpucnn ARGS...` in-process; returns click's Result."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)


def one_line_error(result) -> str:
    """Assert a failed command printed exactly one line, "Error: ...", and no traceback."""
    lines = result.output.strip().splitlines()
    assert result.exit_code != 0, f"expected failure, got exit 0:\n{result.output}"
    assert "Traceback" not in result.output, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), \
        f"expected one 'Error: ...' line, got:\n{result.output}"
    return lines[0]


def snapshot(directory: Path) -> dict:
    """Every file under `directory` with its bytes and modification time."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.rglob("*"))
            if p.is_file()}


def load_arrays(path) -> dict:
    import gpucnn
    return gpucnn.load(path)


def assert_same_arrays(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
        assert np.array_equal(a[key], b[key]), f"{key} differs"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    for candidate in MNIST_CANDIDATES:
        if all((candidate / f).is_file() for f in MNIST_FILES):
            return candidate
    pytest.fail("real MNIST test set not found: expected " + ", ".join(MNIST_FILES) + " in "
                + " or ".join(str(c) for c in MNIST_CANDIDATES) + " (the shared/ folder beside "
                "the repository checkout; CI provides it)", pytrace=False)


@pytest.fixture(scope="session")
def digits_checkpoint(tmp_path_factory) -> Path:
    """A digits_cnn checkpoint trained for 3 epochs (about 95% held-out accuracy)."""
    path = tmp_path_factory.mktemp("digits") / "digits.safetensors"
    result = invoke("train", "--epochs", 3, "--quiet", "--save", path)
    assert result.exit_code == 0, result.output
    return path
