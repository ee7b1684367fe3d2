"""The elementwise CUDA launchers against their CPU twins in numba's simulator: every family
and dtype, flat and strided layouts, broadcast inputs, 4-D pieces of a 6-D array, and the
grid-stride loop; outputs NaN-poisoned (or filled with a sentinel) so an element a kernel
leaves unwritten fails. Shapes stay at a few blocks: the simulator runs one OS thread per
CUDA thread."""
import numpy as np
import pytest
from numba import cuda

from gpucnn.kernels import elementwise as ew
from gpucnn.kernels import map_ops as M
from tests.cudasim.small_geometry import grid_stride
from tests.helpers import assert_close, poisoned

RNG = np.random.default_rng(7)


# With MAX_BLOCKS = 1 every launch below needs the grid-stride loop.
stride = grid_stride(ew, "MAX_BLOCKS", 1)


def dev(a):
    return cuda.to_device(np.ascontiguousarray(a))


def device_layouts(host):
    """(name, host view, device view) of the same values, contiguous and as the transpose
    of a contiguous array."""
    t = np.ascontiguousarray(host.T)
    out = [("flat", host, dev(host)), ("transposed", t.T, dev(t).T)]
    return out


def sentinel(shape, dtype):
    if np.dtype(dtype) == np.bool_:
        return np.zeros(shape, np.bool_)   # checked against a twin that writes some True
    return poisoned(shape, dtype)


def check(gpu_call, cpu_call, shape, dtype, what):
    out = dev(sentinel(shape, dtype))
    assert gpu_call(out) is out
    got, expected = out.copy_to_host(), cpu_call()
    if np.dtype(dtype).kind == "f" and np.isfinite(expected).all():
        assert_close(got, expected, tol=2e-6, what=what)
    elif np.dtype(dtype).kind == "f":   # NaN and inf copied through (where)
        assert np.array_equal(got, expected, equal_nan=True), what
    else:
        assert np.array_equal(got, expected), what


FLOAT_UNARY = [M.U_COPY, M.U_NEG, M.U_EXP, M.U_RELU, M.U_AFFINE, M.U_CLAMP, M.U_SIGMOID,
               M.U_TANH, M.U_ROUND, M.U_POW, M.U_GELU, M.U_SOFTPLUS, M.U_REMAINDER]


def test_unary_float(stride):
    x = RNG.uniform(0.1, 3.0, size=(13, 23)).astype(np.float32)
    for name, host, device in device_layouts(x):
        for code in FLOAT_UNARY:
            check(lambda out: ew.unary_cuda(code, device, out, 1.5, 2.0),
                  lambda: ew.unary_cpu(code, host, p=1.5, q=2.0), host.shape, np.float32,
                  f"op {code} {name}")


def test_unary_int_and_bool():
    x = RNG.integers(-40, 40, size=(9, 31)).astype(np.int64)
    for code in (M.U_NEG, M.U_FLOORDIV, M.U_REMAINDER, M.U_BITNOT, M.U_CLAMP, M.U_FILL):
        for name, host, device in device_layouts(x):
            check(lambda out: ew.unary_cuda(code, device, out, -3, 7),
                  lambda: ew.unary_cpu(code, host, p=-3, q=7), host.shape, np.int64,
                  f"op {code} {name}")
    mask = RNG.random((9, 31)) < 0.5
    for name, host, device in device_layouts(mask):
        out = dev(mask.copy() if name == "flat" else np.ascontiguousarray(host))
        ew.unary_cuda(M.U_LOGICAL_NOT, device, out)
        assert np.array_equal(out.copy_to_host(), ~host), name


def test_binary_broadcast():
    a = RNG.uniform(-2, 2, size=(6, 5, 9)).astype(np.float32)
    row = RNG.uniform(0.5, 2, size=(9,)).astype(np.float32)
    shape = a.shape
    d_row = dev(row)
    broadcast_row = ew._views.as_strided(d_row, shape, (0, 0, 1))
    for code in (M.B_ADD, M.B_SUB, M.B_MUL, M.B_DIV, M.B_RELU_GRAD, M.B_MAXIMUM, M.B_POW,
                 M.B_GELU_GRAD, M.B_CLAMP_GRAD):
        base = np.abs(a) if code == M.B_POW else a   # no NaN from a negative base
        check(lambda out: ew.binary_cuda(code, dev(base), broadcast_row, out, -0.5, 0.5),
              lambda: ew.binary_cpu(code, base, np.broadcast_to(row, shape), p=-0.5, q=0.5),
              shape, np.float32, f"op {code}")
    ia = RNG.integers(-9, 9, size=shape).astype(np.int64)
    ib = RNG.integers(1, 5, size=(6, 1, 1)).astype(np.int64)
    d_ib = ew._views.as_strided(dev(ib), shape, (1, 0, 0))
    for code in (M.B_ADD, M.B_FLOORDIV, M.B_REMAINDER, M.B_XOR):
        check(lambda out: ew.binary_cuda(code, dev(ia), d_ib, out),
              lambda: ew.binary_cpu(code, ia, np.broadcast_to(ib, shape)), shape, np.int64,
              f"int op {code}")
    ba, bb = RNG.random(shape) < 0.5, RNG.random(shape) < 0.5
    out = dev(np.zeros(shape, np.bool_))
    ew.binary_cuda(M.B_OR, dev(ba), dev(bb), out)
    assert np.array_equal(out.copy_to_host(), ba | bb)


def test_compare_test_where():
    a = np.round(RNG.uniform(-2, 2, size=(7, 40))).astype(np.float32)
    a[0, :3] = [np.nan, np.inf, -np.inf]
    b = np.round(RNG.uniform(-2, 2, size=(7, 40))).astype(np.float32)
    for code in (M.C_EQ, M.C_NE, M.C_LT, M.C_GE):
        out = dev(np.zeros(a.shape, np.bool_))
        ew.compare_cuda(code, dev(a), dev(b).T.T, out)
        assert np.array_equal(out.copy_to_host(), ew.compare_cpu(code, a, b)), code
        out = dev(np.zeros(a.shape, np.bool_))
        ew.compare_scalar_cuda(code, dev(a), 1.0, out)
        assert np.array_equal(out.copy_to_host(), ew.compare_scalar_cpu(code, a, 1.0)), code
    for code in (M.T_ISNAN, M.T_ISINF, M.T_ISFINITE):
        out = dev(np.zeros(a.shape, np.bool_))
        ew.test_cuda(code, dev(a), out)
        assert np.array_equal(out.copy_to_host(), ew.test_cpu(code, a)), code
    cond = RNG.random(a.shape) < 0.5
    check(lambda out: ew.where_cuda(dev(cond), dev(a), dev(b), out),
          lambda: ew.where_cpu(cond, a, b), a.shape, np.float32, "where")


@pytest.mark.parametrize("target", [np.float32, np.int64, np.int32, np.bool_],
                         ids=lambda t: np.dtype(t).name)
def test_cast(target):
    x = RNG.uniform(-50, 50, size=(11, 29)).astype(np.float32)
    for source in (np.float32, np.int64, np.int32, np.bool_):
        host = x.astype(source)
        expected = host.astype(target)
        out = dev(~expected if target is np.bool_ else poisoned(x.shape, target))
        ew.cast_cuda(dev(host), out)
        assert np.array_equal(out.copy_to_host(), expected), (source, target)
        t_out = dev(~expected.T if target is np.bool_ else poisoned(x.T.shape, target))
        ew.cast_cuda(dev(host).T, t_out)   # a strided read
        assert np.array_equal(t_out.copy_to_host(), expected.T), (source, target, "T")


def test_a_six_d_view_is_cut_into_pieces():
    big = RNG.uniform(-1, 1, size=(3, 4, 3, 4, 3, 6)).astype(np.float32)
    view = big[::2, ::2, ::2, ::2, ::2, ::2]
    d_view = dev(big)[::2, ::2, ::2, ::2, ::2, ::2]
    check(lambda out: ew.unary_cuda(M.U_NEG, d_view, out), lambda: -view, view.shape,
          np.float32, "6-D")


def test_ramp(stride):
    out = dev(poisoned((300,)))
    ew.ramp_cuda(out, -1.0, 0.01)
    assert_close(out.copy_to_host(), ew.ramp_cpu(poisoned((300,)), -1.0, 0.01))
    ints = dev(poisoned((300,), np.int64))
    ew.ramp_cuda(ints, 5, -3, 0, 150)
    assert np.array_equal(ints.copy_to_host(), ew.ramp_cpu(poisoned((300,), np.int64), 5, -3,
                                                           0, 150))


def test_launchers_refuse_host_arrays_and_bad_shapes():
    a = dev(np.ones((3, 4), np.float32))
    with pytest.raises(TypeError, match="unary_cuda: x must be a device array"):
        ew.unary_cuda(M.U_EXP, np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"binary_cuda: b has shape \(4, 3\)"):
        ew.binary_cuda(M.B_ADD, a, dev(np.ones((4, 3), np.float32)))
    with pytest.raises(TypeError, match="where_cuda: cond is float32"):
        ew.where_cuda(a, a, a)
