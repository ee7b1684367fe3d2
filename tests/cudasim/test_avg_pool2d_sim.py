"""Average and adaptive pooling CUDA launchers in the simulator against the CPU twins, then
the engine's pools on device="cuda" against PyTorch.

Both twins add the same float32 values in the same order (kernels/avg_pool2d.py), so values,
indices and gradients must agree exactly, not just closely. Outputs are poisoned first so an
element a thread forgot to write cannot pass. Blocks are made small here (in the simulator
only: one OS thread per CUDA thread) so that tiny shapes span several blocks and end in a
partial one.
"""
import numpy as np
import pytest
from numba import cuda
from numba.cuda import config

from gpucnn.kernels import avg_pool2d as K
from tests.engine.test_pooling import (POOL_CASES, check_empty, check_indices,
                                       check_nan_and_ties, check_strided_input, run_pool_case)
from tests.helpers import check_launch, poisoned, rand

SIM_THREADS = 32


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    if config.ENABLE_CUDASIM:
        monkeypatch.setattr(K, "THREADS", SIM_THREADS)


# (id, x shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG_CASES = [
    ("2x2s2", (1, 3, 8, 7), 2, 2, 0, False, True, None),
    ("3x3s2-pad1-ceil-include", (2, 2, 7, 9), 3, 2, 1, True, True, None),
    ("3x3s2-pad1-ceil-exclude", (2, 2, 7, 9), 3, 2, 1, True, False, None),
    ("3x3s1-pad1-exclude", (1, 2, 6, 7), 3, 1, 1, False, False, None),
    ("2x3-s1x2-pad1-ceil-divisor", (2, 1, 7, 8), (2, 3), (1, 2), (1, 1), True, True, 5),
    ("4x4s3-pad2-ceil-overhang", (1, 2, 10, 8), 4, 3, 2, True, True, None),
    ("ceil-drops-last-window", (1, 2, 5, 6), 2, 2, 1, True, False, None),
    ("stride>kernel-negative-divisor", (1, 2, 9, 8), 2, 3, 1, True, True, -3),
]

# (id, x shape, output_size)
ADAPTIVE_CASES = [
    ("divides", (1, 3, 8, 6), (4, 3)),
    ("global-9-planes", (3, 3, 5, 4), 1),   # a whole CPU plane group and a partial one
    ("does-not-divide", (2, 2, 7, 9), (3, 4)),
    ("larger-than-input", (1, 2, 3, 2), (5, 7)),
    ("mixed", (2, 1, 5, 13), (8, 4)),
]


def device_poisoned(shape, dtype=np.float32):
    return cuda.to_device(poisoned(shape, dtype))


@pytest.mark.parametrize("case", AVG_CASES, ids=[c[0] for c in AVG_CASES])
def test_avg_pool_matches_cpu_twins(case):
    _, shape, *args = case
    rng = np.random.default_rng(7)
    x = rand(rng, *shape)
    y_cpu = K.avg_pool2d_forward_cpu(x, *args)
    dy = rand(rng, *y_cpu.shape)
    dx_cpu = K.avg_pool2d_backward_cpu(dy, x.shape, *args)

    check_launch(K.avg_pool2d_forward_cuda, (x, *args), y_cpu, what="forward")
    check_launch(K.avg_pool2d_backward_cuda, (dy, x.shape, *args), dx_cpu, what="backward")


@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=[c[0] for c in ADAPTIVE_CASES])
def test_adaptive_avg_pool_matches_cpu_twins(case):
    _, shape, size = case
    rng = np.random.default_rng(8)
    x = rand(rng, *shape)
    y_cpu = K.adaptive_avg_pool2d_forward_cpu(x, size)
    dy = rand(rng, *y_cpu.shape)
    dx_cpu = K.adaptive_avg_pool2d_backward_cpu(dy, x.shape)

    check_launch(K.adaptive_avg_pool2d_forward_cuda, (x, size), y_cpu, what="forward")
    check_launch(K.adaptive_avg_pool2d_backward_cuda, (dy, x.shape), dx_cpu, what="backward")


@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=[c[0] for c in ADAPTIVE_CASES])
def test_adaptive_max_pool_matches_cpu_twins(case):
    _, shape, size = case
    rng = np.random.default_rng(9)
    x = rand(rng, *shape)
    y_cpu, idx_cpu = K.adaptive_max_pool2d_forward_cpu(x, size)
    dy = rand(rng, *y_cpu.shape)
    dx_cpu = K.adaptive_max_pool2d_backward_cpu(dy, idx_cpu, x.shape)

    _, idx = check_launch(K.adaptive_max_pool2d_forward_cuda, (x, size),
                          {"out": y_cpu, "indices": idx_cpu}, what="forward")
    check_launch(K.adaptive_max_pool2d_backward_cuda, (dy, idx, x.shape), dx_cpu,
                 what="backward")   # idx: the indices the CUDA forward wrote


def test_cases_cover_several_and_partial_blocks():
    sizes = []
    for _, shape, *args in AVG_CASES:
        y = K.avg_pool2d_forward_cpu(np.zeros(shape, np.float32), *args)
        sizes += [y.size, int(np.prod(shape))]
    for _, shape, size in ADAPTIVE_CASES:
        y = K.adaptive_avg_pool2d_forward_cpu(np.zeros(shape, np.float32), size)
        sizes += [y.size, int(np.prod(shape))]
    assert max(sizes) > 2 * SIM_THREADS
    assert sum(n % SIM_THREADS != 0 for n in sizes) > len(sizes) // 2


def test_adaptive_max_ties_nan_and_allocated_outputs():
    x = np.random.default_rng(10).integers(0, 2, size=(1, 2, 6, 7)).astype(np.float32)
    x[0, 0] = 0.5                                        # one big tie: the first position wins
    x[0, 1, 0, 1] = x[0, 1, 1, 0] = x[0, 1, 4, 4] = np.nan
    x[0, 1, 3:, :3] = -np.inf
    for size in [(3, 4), (4, 9), 1]:
        y_cpu, idx_cpu = K.adaptive_max_pool2d_forward_cpu(x, size)
        y, idx = K.adaptive_max_pool2d_forward_cuda(cuda.to_device(x), size)
        np.testing.assert_array_equal(y.copy_to_host(), y_cpu)   # NaN equals NaN here
        np.testing.assert_array_equal(idx.copy_to_host(), idx_cpu)
        dy = rand(np.random.default_rng(11), *y_cpu.shape)
        dx = K.adaptive_max_pool2d_backward_cuda(cuda.to_device(dy), idx, x.shape)
        np.testing.assert_array_equal(dx.copy_to_host(),
                                      K.adaptive_max_pool2d_backward_cpu(dy, idx_cpu, x.shape))


def test_empty_batch_and_empty_output_launch_nothing_and_zero_the_gradient():
    empty = cuda.to_device(np.zeros((0, 2, 5, 4), np.float32))
    assert K.avg_pool2d_forward_cuda(empty, 2, 2, 1, True, True, None).shape == (0, 2, 3, 3)
    assert K.adaptive_avg_pool2d_forward_cuda(empty, 3).shape == (0, 2, 3, 3)
    assert K.adaptive_max_pool2d_forward_cuda(empty, 3)[1].shape == (0, 2, 3, 3)
    x = cuda.to_device(rand(np.random.default_rng(12), 1, 2, 5, 4))
    y = K.adaptive_avg_pool2d_forward_cuda(x, (0, 3))
    out = device_poisoned(x.shape)
    K.adaptive_avg_pool2d_backward_cuda(y, x.shape, out=out)
    np.testing.assert_array_equal(out.copy_to_host(), 0)
    y, idx = K.adaptive_max_pool2d_forward_cuda(x, (2, 0))
    K.adaptive_max_pool2d_backward_cuda(y, idx, x.shape, out=out)
    np.testing.assert_array_equal(out.copy_to_host(), 0)


# ----------------------------------------------------------------- the engine on "cuda"

@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pool_on_cuda_matches_torch(case):
    out = run_pool_case(case, "cuda", seed=4)
    assert out.device == "cuda"


def test_return_indices_on_cuda():
    check_indices("cuda")


def test_adaptive_max_nan_and_ties_on_cuda():
    check_nan_and_ties("cuda")


def test_strided_input_on_cuda():
    check_strided_input("cuda")


def test_empty_batch_and_empty_output_on_cuda():
    check_empty("cuda")
