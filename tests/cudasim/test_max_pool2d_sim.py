"""max_pool2d CUDA launchers in the simulator against the CPU twins.

Both twins make the same float32 comparisons, and the GPU gather adds in the same (oh, ow) order
as the CPU scatter, so values, indices and gradients must agree exactly, not just closely.
Outputs are poisoned first so an element a thread forgot to write cannot pass.
"""
import numpy as np
import pytest
from numba import cuda

from gpucnn.kernels.max_pool2d import (THREADS_PER_BLOCK, max_pool2d_backward_cpu,
                                       max_pool2d_backward_cuda, max_pool2d_forward_cpu,
                                       max_pool2d_forward_cuda)
from tests.helpers import check_launch, rand
from tests.kernels.test_max_pool2d import cpu_twins

# Tiny shapes (the simulator runs one OS thread per CUDA thread) that still give several
# blocks, a partial last block, overlap, padding and ceil_mode.
CASES = [
    ("2x2s2-one-partial-block", (1, 3, 8, 8), 2, 2, 0, False),
    ("2x2s1-three-blocks", (2, 4, 9, 10), 2, 1, 0, False),
    ("3x3s2-pad1-ceil", (2, 3, 7, 9), 3, 2, 1, True),
    ("3x3s1-pad1", (1, 2, 6, 7), 3, 1, 1, False),
    ("2x3-s1x2-pad1-ceil", (2, 2, 7, 8), (2, 3), (1, 2), (1, 1), True),
    ("ceil-drops-last-window", (1, 2, 5, 6), 2, 2, 1, True),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_forward_and_backward_match_cpu_twins(case):
    k, s, p, ceil = case[2:]
    x, dy, y_cpu, idx_cpu, dx_cpu = cpu_twins(case, 7)
    _, idx = check_launch(max_pool2d_forward_cuda, (x, k, s, p, ceil),
                          {"out": y_cpu, "indices": idx_cpu}, what="forward")
    check_launch(max_pool2d_backward_cuda, (dy, idx, x.shape, k, s, p, ceil), dx_cpu,
                 what="backward")   # idx: the indices the CUDA forward wrote


def test_cases_cover_several_and_partial_blocks():
    sizes = [int(np.prod(max_pool2d_forward_cpu(np.zeros(c[1], np.float32), *c[2:])[0].shape))
             for c in CASES]
    assert max(sizes) > 2 * THREADS_PER_BLOCK
    assert any(n % THREADS_PER_BLOCK for n in sizes)


def test_ties_and_allocated_outputs():
    # Constant and few-valued planes: every window ties, the first position must win.
    x = np.random.default_rng(8).integers(0, 2, size=(1, 2, 6, 7)).astype(np.float32)
    x[0, 0] = 0.5
    y_cpu, idx_cpu = max_pool2d_forward_cpu(x, 3, 2, 1, True)
    y, idx = max_pool2d_forward_cuda(cuda.to_device(x), 3, 2, 1, True)
    np.testing.assert_array_equal(y.copy_to_host(), y_cpu)
    np.testing.assert_array_equal(idx.copy_to_host(), idx_cpu)
    dy = rand(np.random.default_rng(9), *y_cpu.shape)
    dx = max_pool2d_backward_cuda(cuda.to_device(dy), idx, x.shape, 3, 2, 1, True)
    np.testing.assert_array_equal(dx.copy_to_host(),
                                  max_pool2d_backward_cpu(dy, idx_cpu, x.shape, 3, 2, 1, True))
