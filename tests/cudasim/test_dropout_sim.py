"""Dropout on "cuda" (simulated): the same seed gives the same mask as on "cpu"."""
import numpy as np
import pytest
from numba.cuda import config

import gpucnn as gc
import gpucnn.nn.functional as F
from gpucnn.kernels import elementwise, random


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    if config.ENABLE_CUDASIM:
        monkeypatch.setattr(elementwise, "THREADS", 32)
        monkeypatch.setattr(random, "THREADS", 32)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d], ids=["dropout", "dropout2d"])
def test_mask_and_gradient_identical_on_both_devices(fn):
    values = np.random.default_rng(0).uniform(0.5, 1.5, (3, 4, 5, 6)).astype(np.float32)
    results = []
    for device in ("cpu", "cuda"):
        x = gc.tensor(values, device=device, requires_grad=True)
        gc.manual_seed(11)
        y = fn(x, 0.4)
        assert y.device == device
        y.backward(gc.ones_like(y))
        results.append((y.numpy(), x.grad.numpy()))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])
    assert (results[0][0] == 0).any() and (results[0][0] != 0).any()
