"""Elementwise CPU twins and sum_axes02_cpu against plain float64 NumPy references."""
import numpy as np
import pytest

from gpucnn.kernels import elementwise as ew
from tests.helpers import assert_close, rand

SIZES = [(1,), (3,), (17,), (65,), (130, 7), (4, 3, 5, 9), (100_003,)]


def test_relu_forward_cpu():
    for shape in SIZES:
        x = rand(np.random.default_rng(len(shape)), *shape)
        out = ew.relu_forward_cpu(x)
        assert out.shape == x.shape
        assert_close(out, np.where(x.astype(np.float64) > 0, x, 0.0), what=f"relu {shape}")


def test_relu_forward_cpu_propagates_nan():
    out = ew.relu_forward_cpu(np.array([np.nan, -1.0, 2.0], np.float32))
    assert np.isnan(out[0]) and out[1] == 0 and out[2] == 2


def test_relu_backward_cpu():
    for shape in SIZES:
        rng = np.random.default_rng(7)
        dy, x = rand(rng, *shape), rand(rng, *shape)
        expected = np.array([d if v > 0 else 0.0 for d, v in zip(dy.ravel().astype(np.float64),
                                                                 x.ravel())]).reshape(shape)
        assert_close(ew.relu_backward_cpu(dy, x), expected, what=f"relu_backward {shape}")


@pytest.mark.parametrize("shape", SIZES, ids=str)
def test_axpby_mul_affine_cpu(shape):
    rng = np.random.default_rng(11)
    a, b = rand(rng, *shape), rand(rng, *shape)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    assert_close(ew.axpby_cpu(a, b, 0.75, -2.5), 0.75 * a64 - 2.5 * b64, what="axpby")
    assert_close(ew.mul_cpu(a, b), a64 * b64, what="mul")
    assert_close(ew.affine_cpu(a, -3.0, 0.5), -3.0 * a64 + 0.5, what="affine")


def test_axpby_accumulates_in_place():
    rng = np.random.default_rng(3)
    acc, g = rand(rng, 50), rand(rng, 50)
    expected = acc.astype(np.float64) + g
    assert ew.axpby_cpu(acc, g, 1.0, 1.0, out=acc) is acc
    assert_close(acc, expected)


def test_fill_cpu():
    out = rand(np.random.default_rng(0), 3, 17)
    assert ew.fill_cpu(out, -1.5) is out
    assert np.all(out == np.float32(-1.5))


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 5, 1), (64, 130, 1), (4, 17, 65), (2, 3, 1000),
                                   (1, 1, 100_003), (65, 1, 3)], ids=str)
def test_sum_axes02_cpu(shape):
    x = rand(np.random.default_rng(sum(shape)), *shape)
    n_a, n_b, n_c = shape
    expected = np.zeros(n_b)
    for a in range(n_a):
        for c in range(n_c):
            expected += x[a, :, c]
    out = ew.sum_axes02_cpu(x)
    assert out.shape == (n_b,) and out.dtype == np.float32
    assert_close(out, expected, what=f"sum_axes02 {shape}")


@pytest.mark.parametrize("cpu,cuda", [(ew.relu_backward_cpu, ew.relu_backward_cuda),
                                      (ew.mul_cpu, ew.mul_cuda)], ids=["relu_backward", "mul"])
def test_two_input_ops_reject_bad_arguments(cpu, cuda):
    good = np.ones((3, 4), np.float32)
    for fn in (cpu, cuda):
        name = fn.__name__
        with pytest.raises(ValueError, match=name):
            fn(good, np.ones((4, 3), np.float32))                       # shapes differ
        with pytest.raises(TypeError, match=name):
            fn(good, np.ones((3, 4)))                                   # float64
        with pytest.raises(ValueError, match=name):
            fn(good, np.ones((3, 8), np.float32)[:, ::2])               # not contiguous
        with pytest.raises(ValueError, match=name):
            fn(good, good, out=np.empty(12, np.float32))                # out of another shape


def test_one_input_ops_reject_bad_arguments():
    with pytest.raises(TypeError, match="relu_forward_cpu"):
        ew.relu_forward_cpu(np.ones(4, np.int32))
    with pytest.raises(TypeError, match="affine_cpu"):
        ew.affine_cpu(np.ones(4, np.float32), 1.0, 2.0, out=np.empty(4))
    with pytest.raises(ValueError, match="axpby_cpu"):
        ew.axpby_cpu(np.ones(4, np.float32), np.ones(5, np.float32), 1.0, 1.0)
    with pytest.raises(ValueError, match="fill_cpu"):
        ew.fill_cpu(np.ones((4, 4), np.float32).T, 0.0)
    with pytest.raises(ValueError, match="sum_axes02_cpu"):
        ew.sum_axes02_cpu(np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match="sum_axes02_cpu"):
        ew.sum_axes02_cpu(np.ones((4, 4, 2), np.float32), out=np.empty(3, np.float32))
    with pytest.raises(ValueError, match="sum_axes02_cpu"):
        ew.sum_axes02_cpu(np.ones((4, 0, 2), np.float32))


def test_cuda_launchers_reject_host_arrays():
    x = np.ones(8, np.float32)
    for call in (lambda: ew.relu_forward_cuda(x), lambda: ew.axpby_cuda(x, x, 1.0, 1.0),
                 lambda: ew.fill_cuda(x, 0.0), lambda: ew.sum_axes02_cuda(x.reshape(2, 2, 2))):
        with pytest.raises(TypeError, match="device array"):
            call()
