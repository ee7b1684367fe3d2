"""Comparison helpers shared by the kernel, engine and simulator tests."""
import numpy as np


def rel_error(actual, expected) -> float:
    """max |actual - expected| / max(|expected|), computed in float64."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    assert np.all(np.isfinite(actual)), "result holds NaN/inf (an element left unwritten?)"
    scale = max(np.max(np.abs(expected)), 1e-30) if expected.size else 1.0
    return float(np.max(np.abs(actual - expected)) / scale) if expected.size else 0.0


def assert_close(actual, expected, tol=1e-4, what=""):
    err = rel_error(actual, expected)
    assert err < tol, f"{what} relative error {err:.3e} >= {tol:.0e}"


def rand(rng, *shape, dtype=np.float32):
    """Fresh random data in [-1, 1): never zeros, so an unwritten output cannot pass."""
    return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)


def poisoned(shape, dtype=np.float32):
    """An output buffer full of NaN (or a sentinel for integers) before a kernel writes it."""
    if np.dtype(dtype).kind == "f":
        return np.full(shape, np.nan, dtype=dtype)
    return np.full(shape, np.iinfo(dtype).min, dtype=dtype)
