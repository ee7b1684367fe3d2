"""repeat, bmm / baddbmm, unfold, flip / roll, lerp, one_hot, randint, list and range indexing
and gpucnn.linalg on device="cuda" under the simulator: a few cases of each family from
tests/engine/test_tensor_api_parity3.py (the same code on gpucnn and torch, values and every
gradient), results and gradients that stay on "cuda", and the in-place forms."""
import numpy as np
import pytest
import torch

import gpucnn as gc
import gpucnn.nn.functional as F
from tests.cudasim.small_geometry import shrink_engine_blocks
from tests.engine.test_tensor_api import run_grad_case, run_value_case
from tests.engine.test_tensor_api_parity3 import GRAD_CASES, VALUE_CASES
from tests.helpers import assert_close, rand

ON_CUDA = ["repeat_more_dims", "repeat_ones", "bmm_transposed", "baddbmm_broadcast_scaled",
           "baddbmm_beta0", "unfold_overlapping", "unfold_rounds_of_several", "unfold_twice",
           "flip_several", "flip_strided", "fliplr", "roll_several", "roll_flat",
           "lerp_weight_0.3", "lerp_weight_0.75", "lerp_tensor_weight", "index_range",
           "index_list_repeated", "index_range_second_dim", "index_list_of_lists", "eigh",
           "eigvalsh", "svd_reduced_tall", "svd_full_batched", "svdvals",
           "vector_norm_2_None_False", "vector_norm_zero_row_2", "matrix_norm_nuc",
           "matrix_norm_inf"]
VALUES_ON_CUDA = ["flip_int", "roll_bool_flat", "one_hot_classes_2d", "index_int_range"]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    shrink_engine_blocks(monkeypatch)


def _cases(table, names):
    by_name = {case[0]: case for case in table}
    return [by_name[name] for name in names]


@pytest.mark.parametrize("case", _cases(GRAD_CASES, ON_CUDA), ids=lambda c: c[0])
def test_differentiable_op_on_cuda_matches_torch(case):
    out = run_grad_case(case, "cuda", seed=4)
    assert out.device == "cuda"


@pytest.mark.parametrize("case", _cases(VALUE_CASES, VALUES_ON_CUDA), ids=lambda c: c[0])
def test_op_values_on_cuda_match_torch(case):
    run_value_case(case, "cuda", seed=4)


def test_in_place_forms_on_cuda():
    r = np.random.default_rng(3)
    start, end, a, b = rand(r, 2, 3, 5), rand(r, 2, 3, 5), rand(r, 2, 3, 4), rand(r, 2, 4, 5)
    ema = gc.tensor(start, device="cuda")
    with gc.no_grad():
        ema.lerp_(gc.tensor(end, device="cuda"), 0.25)
    assert ema.device == "cuda"
    assert_close(ema.numpy(), torch.tensor(start).lerp_(torch.tensor(end), 0.25).numpy(), 1e-6)
    acc = gc.tensor(start, device="cuda")
    acc.baddbmm_(gc.tensor(a, device="cuda"), gc.tensor(b, device="cuda"), beta=0.5)
    expected = torch.tensor(start).baddbmm_(torch.tensor(a), torch.tensor(b), beta=0.5)
    assert_close(acc.numpy(), expected.numpy(), 1e-5)
    x, t = gc.tensor(start[0], device="cuda"), torch.tensor(start[0])
    x[[2, 0]] = gc.tensor(end[0, :2], device="cuda")
    t[[2, 0]] = torch.tensor(end[0, :2])
    x[:, range(1, 4, 2)] = 7.0
    t[:, range(1, 4, 2)] = 7.0
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_factories_and_encodings_on_cuda():
    gc.manual_seed(21)
    on_cpu = gc.randint(3, 10, size=(40,))
    gc.manual_seed(21)
    on_cuda = gc.randint(3, 10, (40,), device="cuda")
    assert on_cuda.device == "cuda" and on_cpu.equal(on_cuda.cpu())
    hot = F.one_hot(gc.tensor([[0, 2], [3, 1]], device="cuda"))
    assert hot.device == "cuda" and hot.dtype is gc.int64
    np.testing.assert_array_equal(hot.numpy(), torch.nn.functional.one_hot(
        torch.tensor([[0, 2], [3, 1]])).numpy())
    windows = gc.arange(6.0, device="cuda").unfold(0, 2, 2)
    assert windows.device == "cuda" and windows.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_linalg_results_and_gradients_stay_on_cuda():
    a = rand(np.random.default_rng(5), 3, 3)
    x = gc.tensor(a, device="cuda", requires_grad=True)
    w, v = gc.linalg.eigh(x)
    u, s, vh = gc.linalg.svd(x, full_matrices=False)
    assert all(t.device == "cuda" for t in (w, v, u, s, vh))
    assert_close(((u * s.unsqueeze(-2)) @ vh).detach().numpy(), a, 1e-5)
    (w.sum() + s.sum() + gc.linalg.matrix_norm(x, 2)).backward()
    assert x.grad.device == "cuda"
    t = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    (torch.linalg.eigh(t).eigenvalues.sum() + torch.linalg.svd(t).S.sum() +
     torch.linalg.matrix_norm(t, 2)).backward()
    assert_close(x.grad.numpy(), t.grad.numpy(), 1e-4)
