"""kernels/_blas.matmul splits large products by output columns across threads: each split
shape (batched groups, transposed views, uneven column counts) must equal one np.matmul."""
import numpy as np
import pytest

from gpucnn.kernels import _blas
from tests.helpers import assert_close


@pytest.mark.parametrize("shape_a, shape_b, transpose_b", [
    ((64, 300), (300, 1001), False),        # uneven column split
    ((2, 40, 288), (2, 288, 4099), False),   # groups as the batch dimension
    ((128, 576), (4096, 576), True),         # b given as a transposed view
    ((5, 3, 16, 150), (3, 150, 6400), False),  # broadcast batch (1x1 conv path)
    ((32, 65536), (27, 65536), True),        # few columns, long reduction (weight gradient)
    ((2, 16, 9001), (2, 9001, 50), False),   # the same with groups and an uneven split
])
def test_split_product_equals_one_product(shape_a, shape_b, transpose_b, monkeypatch):
    monkeypatch.setattr(_blas, "_threads", lambda: 3)  # a 3-way split even on fewer cores
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, shape_a).astype(np.float32)
    b = rng.uniform(-1, 1, shape_b).astype(np.float32)
    if transpose_b:
        b = b.T
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    out = np.full(expected.shape, np.nan, np.float32)
    assert out.size * a.shape[-1] >= _blas.SPLIT_MIN_MACS
    _blas.matmul(a, b, out=out)
    assert_close(out, expected, 1e-5)
