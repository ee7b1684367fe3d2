"""The Tensor API sweep (tests/engine/tensor_cases.py) on device="cuda" under the simulator:
the same code on gpucnn and torch, values and every gradient, and results that stay on
"cuda". Blocks are made small here (in the simulator only: one OS thread per CUDA thread)."""
import numpy as np
import pytest

import gpucnn as gc
from tests.cudasim.small_geometry import shrink_engine_blocks
from tests.engine.tensor_cases import GRAD_CASES, VALUE_CASES
from tests.engine.test_tensor_api import run_grad_case, run_value_case


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    shrink_engine_blocks(monkeypatch)


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c[0])
def test_differentiable_op_on_cuda_matches_torch(case):
    out = run_grad_case(case, "cuda", seed=4)
    assert out.device == "cuda"


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c[0])
def test_op_values_on_cuda_match_torch(case):
    run_value_case(case, "cuda", seed=4)


def test_results_stay_on_cuda():
    logits = gc.tensor(np.random.default_rng(0).uniform(-1, 1, (5, 3)), device="cuda")
    for result in (logits.argmax(1), logits.max(1).indices, logits > 0, logits.sum(0),
                   logits[gc.tensor([0, 2], device="cuda")], (logits > 0).nonzero(),
                   gc.rand(3, device="cuda"), gc.arange(4, device="cuda")):
        assert result.device == "cuda"


def test_random_numbers_are_the_same_on_both_devices():
    gc.manual_seed(123)
    on_cpu = [gc.rand(50), gc.randint(0, 1000, (40,)), gc.randn(30)]
    gc.manual_seed(123)
    on_cuda = [gc.rand(50, device="cuda"), gc.randint(0, 1000, (40,), device="cuda"),
               gc.randn(30, device="cuda")]
    assert on_cpu[0].equal(on_cuda[0].cpu()) and on_cpu[1].equal(on_cuda[1].cpu())
    assert np.allclose(on_cpu[2].numpy(), on_cuda[2].numpy(), atol=1e-5)
