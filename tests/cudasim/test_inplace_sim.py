"""In-place ops inside autograd on device="cuda" under the simulator: the patterns of
tests/engine/test_inplace_autograd.py (rebased histories, CopySlices over views, index_put,
regenerated views) with their values and gradients against torch, and one version error.
Blocks are made small here (in the simulator only: one OS thread per CUDA thread)."""
import numpy as np
import pytest

import gpucnn as gc
from tests.cudasim.small_geometry import shrink_engine_blocks
from tests.engine.test_inplace_autograd import PATTERNS, run_pattern


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    shrink_engine_blocks(monkeypatch)


# The two block patterns add convolutions and batch norms (test_engine_sim.py runs those on
# the device) to in-place steps the other patterns take; the simulator makes them slow.
DEVICE_PATTERNS = [p for p in PATTERNS if p[0] not in ("drop_connect", "resnet_block")]


@pytest.mark.parametrize("name,fn,shapes", DEVICE_PATTERNS, ids=[p[0] for p in DEVICE_PATTERNS])
def test_pattern_on_cuda_matches_torch(name, fn, shapes):
    out = run_pattern(fn, shapes, device="cuda", seed=len(name) + 1)
    assert out.device == "cuda"


def test_changed_saved_output_on_cuda_is_the_version_error():
    a = gc.tensor(np.random.default_rng(0).uniform(-1, 1, (4, 3)), device="cuda",
                  requires_grad=True)
    y = a * 1
    y.sigmoid_()
    y[0].mul_(2)
    with pytest.raises(RuntimeError, match=r"\[gpucnn\.cuda\.FloatTensor \[4, 3\]\], which is "
                                           r"output 0 of SigmoidBackward, is at version 2; "
                                           r"expected version 1"):
        y.sum().backward()
