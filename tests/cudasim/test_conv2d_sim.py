"""Every conv2d launcher and kernel version against its CPU twin, in the CUDA simulator.

Shapes are tiny (the simulator runs one OS thread per CUDA thread) but chosen to cross the
64 x 64 x 16 tiles of the implicit-GEMM kernels at every edge: more than 64 output columns,
reductions that are not multiples of 16, and one layer with 66 channels for the row edge.
Outputs start as NaN, so an element no thread writes fails the comparison.
"""
import zlib

import numpy as np
import pytest
from numba import cuda

from gpucnn.kernels.conv2d import (
    VERSIONS,
    conv2d_backward_data_cpu,
    conv2d_backward_data_cuda,
    conv2d_backward_weight_cpu,
    conv2d_backward_weight_cuda,
    conv2d_forward_cpu,
    conv2d_forward_cuda,
    geometry,
)
from gpucnn.kernels._views import as_strided
from gpucnn.kernels.reduce import R_SUM, reduce_cpu, reduce_cuda
from tests.helpers import assert_close, check_launch, poisoned, rand

# name: (x_shape, w_shape, stride, padding (t, b, l, r), dilation, groups)
CASES = {
    # 110 output columns (two column tiles), a 3x2 filter, C*R*S = 18 crosses one BK step.
    "stride21_asym_pad_3x2": ((2, 3, 11, 9), (5, 3, 3, 2), (2, 1), (1, 0, 1, 2), (1, 1), 1),
    "dilation_stride12_groups2": ((1, 4, 9, 8), (6, 2, 3, 3), (1, 2), (2, 1, 0, 2), (2, 2), 2),
    "depthwise_stride2": ((2, 3, 7, 7), (3, 1, 3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 3),
    # 66 channels in and out: two row tiles and partial reduction steps in every kernel.
    "wide_1x1": ((1, 66, 3, 3), (66, 66, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),
}


# Version 3 is version 2's Python compiled with launch bounds: in the simulator it runs the same
# code, so one case proves the launcher's wiring; the other rungs run every case.
CASE_VERSIONS = [(name, v) for name in CASES for v in VERSIONS if v != 3] + \
    [("stride21_asym_pad_3x2", 3)]


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


def setup(name, rng):
    x_shape, w_shape, stride, padding, dilation, groups = CASES[name]
    geo = geometry("test", x_shape, w_shape, stride, padding, dilation, groups)
    x, w = rand(rng, *x_shape), rand(rng, *w_shape)
    b, dy = rand(rng, w_shape[0]), rand(rng, *geo.y_shape)
    return (stride, padding, dilation, groups), x, w, b, dy


# pass: (CUDA launcher, CPU twin, operands(x, w, b, dy)); both take the operands, then the
# geometry.
PASSES = {
    "forward": (conv2d_forward_cuda, conv2d_forward_cpu, lambda x, w, b, dy: (x, w, b)),
    "backward_data": (conv2d_backward_data_cuda, conv2d_backward_data_cpu,
                      lambda x, w, b, dy: (dy, w, x.shape)),
    "backward_weight": (conv2d_backward_weight_cuda, conv2d_backward_weight_cpu,
                        lambda x, w, b, dy: (x, dy, w.shape)),
}


@pytest.mark.parametrize("name,version", CASE_VERSIONS)
@pytest.mark.parametrize("conv", PASSES)
def test_matches_cpu_twin(conv, name, version, rng):
    geo, x, w, b, dy = setup(name, rng)
    launcher, twin, operands = PASSES[conv]
    args = (*operands(x, w, b, dy), *geo)
    check_launch(launcher, args, twin(*args), tol=1e-4, what=f"{conv} v{version} {name}",
                 version=version)


@pytest.mark.parametrize("version", VERSIONS)
def test_forward_without_bias(version, rng):
    geo, x, w, _, _ = setup("dilation_stride12_groups2", rng)
    expected = conv2d_forward_cpu(x, w, None, *geo)
    got = conv2d_forward_cuda(cuda.to_device(x), cuda.to_device(w), None, *geo, version=version)
    assert_close(got.copy_to_host(), expected, what=f"forward v{version} without bias")


@pytest.mark.parametrize("split_k", [2, 3, 50])
def test_backward_weight_split_k_is_exact_and_reproducible(split_k, rng):
    # 110 reduction columns = 7 BK steps: 2 and 3 splits give uneven chunks, 50 more splits
    # than steps (the launcher drops the empty ones).
    geo, x, w, _, dy = setup("stride21_asym_pad_3x2", rng)
    expected = conv2d_backward_weight_cpu(x, dy, w.shape, *geo)
    dx, ddy = cuda.to_device(x), cuda.to_device(dy)
    first = conv2d_backward_weight_cuda(dx, ddy, w.shape, *geo, out=cuda.to_device(
        poisoned(w.shape)), split_k=split_k).copy_to_host()
    assert_close(first, expected, what=f"backward weight split_k={split_k}")
    again = conv2d_backward_weight_cuda(dx, ddy, w.shape, *geo, split_k=split_k).copy_to_host()
    assert np.array_equal(first, again), "split-K weight gradient differs between two runs"


@pytest.mark.parametrize("shape", [(2, 5, 3, 4), (3, 2, 13, 11)])
def test_bias_gradient(shape, rng):
    """The convolution's bias gradient: a sum of dy viewed as (1, K, N, P*Q). (3, 2, 13, 11):
    429 terms per channel, more than one pass of the 256-thread block."""
    n, k, p, q = shape
    dy = rand(rng, *shape)
    geometry = ((1, k, n, p * q), (0, p * q, k * p * q, 1))
    out = cuda.to_device(poisoned((1, k)))
    got = reduce_cuda(R_SUM, as_strided(cuda.to_device(dy), *geometry), out=out)
    assert got is out
    assert_close(out.copy_to_host(), reduce_cpu(R_SUM, as_strided(dy, *geometry)),
                 what="bias gradient")


# ---------------------------------------------------------------- bad arguments, before any launch

def test_launchers_reject_bad_arguments(rng):
    geo, x, w, b, dy = setup("stride21_asym_pad_3x2", rng)
    stride, padding, dilation, groups = geo
    dx, dw, db, ddy = (cuda.to_device(a) for a in (x, w, b, dy))
    with pytest.raises(TypeError, match="conv2d_forward_cuda.*device array"):
        conv2d_forward_cuda(x, dw, db, *geo)
    with pytest.raises(ValueError, match="conv2d_forward_cuda.*groups=2"):
        conv2d_forward_cuda(dx, dw, db, stride, padding, dilation, 2)
    with pytest.raises(ValueError, match="conv2d_forward_cuda.*out has shape"):
        conv2d_forward_cuda(dx, dw, db, *geo, out=cuda.device_array((2, 5, 5, 10), np.float32))
    with pytest.raises(TypeError, match="conv2d_forward_cuda.*float32"):
        conv2d_forward_cuda(cuda.to_device(x.astype(np.float64)), dw, db, *geo)
    with pytest.raises(ValueError, match="conv2d_forward_cuda.*larger than the padded input"):
        conv2d_forward_cuda(dx, cuda.to_device(rand(rng, 5, 3, 13, 2)), db, *geo)
    with pytest.raises(ValueError, match="conv2d_forward_cuda.*version"):
        conv2d_forward_cuda(dx, dw, db, *geo, version=max(VERSIONS) + 1)
    with pytest.raises(ValueError, match="conv2d_backward_data_cuda.*dy"):
        conv2d_backward_data_cuda(cuda.to_device(rand(rng, 2, 5, 4, 11)), dw, x.shape, *geo)
    with pytest.raises(ValueError, match="conv2d_backward_weight_cuda.*4 ints"):
        conv2d_backward_weight_cuda(dx, ddy, (5, 3, 3), *geo)
    with pytest.raises(ValueError, match="conv2d_backward_weight_cuda.*split_k"):
        conv2d_backward_weight_cuda(dx, ddy, w.shape, *geo, split_k=0)
    with pytest.raises(ValueError, match="reduce_cuda.*4-D"):
        reduce_cuda(R_SUM, cuda.to_device(b))
