"""matmul_cpu and the linear layer's bias gradient (a column sum, kernels/reduce.py) against a
float64 reference; argument checks of both twins (the CUDA launchers run in tests/cudasim)."""
import numpy as np
import pytest

from gpucnn.kernels._views import as_strided
from gpucnn.kernels.reduce import R_SUM, reduce_cpu, reduce_cuda
from gpucnn.kernels.matmul import matmul_cpu, matmul_cuda
from tests.helpers import assert_close, rand


def linear_bias_grad(dy, out=None):
    """The linear layer's bias gradient as the engine computes it: dy (M, N) viewed as
    (1, N, M, 1), summed."""
    m, n = dy.shape
    view = as_strided(dy, (1, n, m, 1), (0, 1, n, 0))
    if out is None:
        return reduce_cpu(R_SUM, view).reshape(n)
    reduce_cpu(R_SUM, view, out=out.reshape(1, -1))   # a (1, N) view of out
    return out

SHAPES = [(1, 1, 1), (3, 17, 65), (17, 1, 130), (65, 130, 3), (130, 65, 17), (64, 256, 2048)]


def operands(rng, m, n, k, trans_a, trans_b):
    a = rand(rng, k, m) if trans_a else rand(rng, m, k)
    b = rand(rng, n, k) if trans_b else rand(rng, k, n)
    return a, b


def reference(a, b, trans_a, trans_b, bias):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    expected = np.einsum("km,kn->mn" if trans_a else "mk,kn->mn", a64, b64.T if trans_b else b64)
    if bias is not None:
        expected = expected + bias.astype(np.float64)[None, :]
    return expected


@pytest.mark.parametrize("with_bias", [False, True], ids=["nobias", "bias"])
@pytest.mark.parametrize("trans_b", [False, True], ids=["b", "bT"])
@pytest.mark.parametrize("trans_a", [False, True], ids=["a", "aT"])
@pytest.mark.parametrize("m,n,k", SHAPES, ids=lambda s: str(s))
def test_matmul_cpu_matches_float64_reference(m, n, k, trans_a, trans_b, with_bias):
    rng = np.random.default_rng(m * 10007 + n * 101 + k)
    a, b = operands(rng, m, n, k, trans_a, trans_b)
    bias = rand(rng, n) if with_bias else None
    out = matmul_cpu(a, b, trans_a=trans_a, trans_b=trans_b, bias=bias)
    assert out.shape == (m, n) and out.dtype == np.float32
    assert_close(out, reference(a, b, trans_a, trans_b, bias), what=f"matmul {m}x{n}x{k}")


def test_matmul_cpu_writes_into_out():
    rng = np.random.default_rng(1)
    a, b, bias = rand(rng, 5, 7), rand(rng, 3, 7), rand(rng, 3)
    out = np.full((5, 3), np.nan, np.float32)
    assert matmul_cpu(a, b, trans_b=True, bias=bias, out=out) is out
    assert_close(out, reference(a, b, False, True, bias))


def test_linear_layer_products():
    """The three products of a linear layer, as the engine will call them."""
    rng = np.random.default_rng(2)
    x, w, bias, dy = rand(rng, 33, 20), rand(rng, 12, 20), rand(rng, 12), rand(rng, 33, 12)
    x64, w64, dy64 = (t.astype(np.float64) for t in (x, w, dy))
    assert_close(matmul_cpu(x, w, trans_b=True, bias=bias), x64 @ w64.T + bias, what="y")
    assert_close(matmul_cpu(dy, w), dy64 @ w64, what="dx")
    assert_close(matmul_cpu(dy, x, trans_a=True), dy64.T @ x64, what="dW")
    assert_close(linear_bias_grad(dy), dy64.sum(axis=0), what="db")


@pytest.mark.parametrize("m,n", [(1, 1), (3, 17), (130, 65), (1000, 7)])
def test_linear_bias_grad_cpu(m, n):
    rng = np.random.default_rng(m + n)
    dy = rand(rng, m, n)
    expected = np.array([sum(float(dy[i, j]) for i in range(m)) for j in range(n)])
    assert_close(linear_bias_grad(dy), expected)


BAD_ARGUMENTS = [
    # (description, a, b, kwargs, exception)
    ("a is 1-D", np.ones(6, np.float32), np.ones((6, 2), np.float32), {}, ValueError),
    ("b is 3-D", np.ones((2, 6), np.float32), np.ones((6, 2, 1), np.float32), {}, ValueError),
    ("a is float64", np.ones((2, 6)), np.ones((6, 2), np.float32), {}, TypeError),
    ("a is not contiguous", np.ones((2, 12), np.float32)[:, ::2], np.ones((6, 2), np.float32), {},
     ValueError),
    ("inner dimensions differ", np.ones((2, 6), np.float32), np.ones((5, 2), np.float32), {},
     ValueError),
    ("inner dimensions differ once transposed", np.ones((2, 6), np.float32),
     np.ones((6, 2), np.float32), {"trans_b": True}, ValueError),
    ("empty", np.ones((0, 6), np.float32), np.ones((6, 2), np.float32), {}, ValueError),
    ("bias of the wrong length", np.ones((2, 6), np.float32), np.ones((6, 3), np.float32),
     {"bias": np.ones(2, np.float32)}, ValueError),
    ("bias float64", np.ones((2, 6), np.float32), np.ones((6, 3), np.float32),
     {"bias": np.ones(3)}, TypeError),
    ("out of the wrong shape", np.ones((2, 6), np.float32), np.ones((6, 3), np.float32),
     {"out": np.empty((3, 2), np.float32)}, ValueError),
    ("inner dimensions differ", np.ones((2, 6), np.float32), np.ones((5, 3), np.float32), {},
     ValueError),
]


@pytest.mark.parametrize("fn", [matmul_cpu, matmul_cuda], ids=["cpu", "cuda"])
@pytest.mark.parametrize("what,a,b,kwargs,error", BAD_ARGUMENTS, ids=[c[0] for c in BAD_ARGUMENTS])
def test_matmul_rejects_bad_arguments(fn, what, a, b, kwargs, error):
    with pytest.raises(error, match="matmul_c"):
        fn(a, b, **kwargs)


def test_matmul_cuda_rejects_an_unknown_version():
    with pytest.raises(ValueError, match="matmul_cuda: version"):
        matmul_cuda(np.ones((2, 6), np.float32), np.ones((6, 3), np.float32), version=7)


def test_cuda_launchers_reject_host_arrays():
    a, b = np.ones((2, 6), np.float32), np.ones((6, 3), np.float32)
    with pytest.raises(TypeError, match="device array"):
        matmul_cuda(a, b)
    with pytest.raises(TypeError, match="device array"):
        reduce_cuda(R_SUM, a.reshape(1, 2, 6, 1))


def test_cpu_twins_reject_device_arrays():
    class FakeDeviceArray:
        shape, dtype, strides = (2, 6), np.dtype(np.float32), (24, 4)

        def is_c_contiguous(self):
            return True

    with pytest.raises(TypeError, match="matmul_cpu: a must be a NumPy array"):
        matmul_cpu(FakeDeviceArray(), np.ones((6, 3), np.float32))


def test_linear_bias_grad_rejects_bad_arguments():
    with pytest.raises(ValueError, match="reduce_cpu"):
        linear_bias_grad(np.ones((4, 3), np.float32), out=np.empty(4, np.float32))
