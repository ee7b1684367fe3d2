"""Elementwise CPU twins against plainly written float64 NumPy references, over every op code,
every dtype family and every layout: flat (contiguous), strided (transposed, broadcast with
zero strides), and high-rank arrays cut into 4-D pieces."""
import math

import numpy as np
import pytest

from gpucnn.kernels import elementwise as ew
from gpucnn.kernels import map_ops as M
from gpucnn.kernels._views import as_strided
from tests.helpers import assert_close, poisoned, rand

RNG = np.random.default_rng(1234)
_erf = np.vectorize(math.erf)   # float64, element by element


def layouts(shape, make):
    """(name, array) pairs holding the same logical values `make(shape)` in several layouts:
    contiguous, a transposed copy seen through .T, a column slice, and a 6-D array whose dims
    do not coalesce (cut into 4-D pieces by the launcher)."""
    base = make(shape)
    transposed = np.ascontiguousarray(base.T).T
    wide = make(shape[:-1] + (shape[-1] * 2,))
    sliced = wide[..., ::2]
    sliced[...] = base
    out = [("flat", base), ("transposed", transposed), ("sliced", sliced)]
    return out


def six_d(make):
    """A 6-D view with a step in every dim: no two dims coalesce."""
    big = make((3, 4, 3, 4, 3, 6))
    return big[::2, ::2, ::2, ::2, ::2, ::2]


def floats(shape, low=-3.0, high=3.0):
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def ints(shape, low=-50, high=50):
    return RNG.integers(low, high, size=shape).astype(np.int64)


def bools(shape):
    return RNG.random(shape) < 0.5


# ---------------------------------------------------------------- unary float

def _round_half_even(x):
    return np.round(x)


UNARY_FLOAT = {   # code: (reference on float64, domain (low, high), p, q)
    M.U_COPY: (lambda x, p, q: x, None, 0, 0),
    M.U_NEG: (lambda x, p, q: -x, None, 0, 0),
    M.U_ABS: (lambda x, p, q: np.abs(x), None, 0, 0),
    M.U_SQUARE: (lambda x, p, q: x * x, None, 0, 0),
    M.U_SIGN: (lambda x, p, q: np.sign(x), None, 0, 0),
    M.U_ADD: (lambda x, p, q: x + p, None, 1.5, 0),
    M.U_MUL: (lambda x, p, q: x * p, None, -2.5, 0),
    M.U_RSUB: (lambda x, p, q: p - x, None, 0.75, 0),
    M.U_AFFINE: (lambda x, p, q: x * p + q, None, 3.0, -1.0),
    M.U_FILL: (lambda x, p, q: np.full_like(x, p), None, 4.25, 0),
    M.U_MAXIMUM: (lambda x, p, q: np.maximum(x, p), None, 0.5, 0),
    M.U_MINIMUM: (lambda x, p, q: np.minimum(x, p), None, 0.5, 0),
    M.U_CLAMP: (lambda x, p, q: np.clip(x, p, q), None, -1.0, 2.0),
    M.U_FLOORDIV: (lambda x, p, q: np.floor(x / p), None, 0.7, 0),
    M.U_REMAINDER: (lambda x, p, q: x - np.floor(x / p) * p, None, -0.7, 0),
    M.U_RFLOORDIV: (lambda x, p, q: np.floor(p / x), (0.2, 3.0), 2.5, 0),
    M.U_RREMAINDER: (lambda x, p, q: p - np.floor(p / x) * x, (0.2, 3.0), 2.5, 0),
    M.U_DIV: (lambda x, p, q: x / p, None, 1.75, 0),
    M.U_RDIV: (lambda x, p, q: p / x, (0.2, 3.0), -2.0, 0),
    M.U_POW: (lambda x, p, q: x ** p, (0.1, 3.0), 1.7, 0),
    M.U_RPOW: (lambda x, p, q: p ** x, None, 1.3, 0),
    M.U_EXP: (lambda x, p, q: np.exp(x), None, 0, 0),
    M.U_LOG: (lambda x, p, q: np.log(x), (0.05, 5.0), 0, 0),
    M.U_SQRT: (lambda x, p, q: np.sqrt(x), (0.0, 5.0), 0, 0),
    M.U_RSQRT: (lambda x, p, q: 1 / np.sqrt(x), (0.05, 5.0), 0, 0),
    M.U_RECIPROCAL: (lambda x, p, q: 1 / x, (0.05, 5.0), 0, 0),
    M.U_SIGMOID: (lambda x, p, q: 1 / (1 + np.exp(-x)), (-30.0, 30.0), 0, 0),
    M.U_TANH: (lambda x, p, q: np.tanh(x), None, 0, 0),
    M.U_RELU: (lambda x, p, q: np.maximum(x, 0), None, 0, 0),
    M.U_LEAKY_RELU: (lambda x, p, q: np.where(x > 0, x, x * p), None, 0.01, 0),
    M.U_ELU: (lambda x, p, q: np.where(x > 0, x, p * np.expm1(x)), None, 1.5, 0),
    M.U_GELU: (lambda x, p, q: 0.5 * x * (1 + _erf(x / math.sqrt(2))), None, 0, 0),
    M.U_GELU_TANH: (lambda x, p, q: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                          * (x + 0.044715 * x ** 3))),
                    None, 0, 0),
    M.U_SILU: (lambda x, p, q: x / (1 + np.exp(-x)), None, 0, 0),
    M.U_SOFTPLUS: (lambda x, p, q: np.where(x * p > q, x, np.log1p(np.exp(p * x)) / p),
                   None, 2.0, 4.0),
    M.U_FLOOR: (lambda x, p, q: np.floor(x), None, 0, 0),
    M.U_CEIL: (lambda x, p, q: np.ceil(x), None, 0, 0),
    M.U_ROUND: (lambda x, p, q: _round_half_even(x), None, 0, 0),
    M.U_TRUNC: (lambda x, p, q: np.trunc(x), None, 0, 0),
    M.U_LOG1P: (lambda x, p, q: np.log1p(x), (-0.9, 5.0), 0, 0),
    M.U_EXPM1: (lambda x, p, q: np.expm1(x), None, 0, 0),
    M.U_ERF: (lambda x, p, q: _erf(x), None, 0, 0),
    M.U_LOG2: (lambda x, p, q: np.log2(x), (0.05, 5.0), 0, 0),
    M.U_LOG10: (lambda x, p, q: np.log10(x), (0.05, 5.0), 0, 0),
    M.U_HARDTANH: (lambda x, p, q: np.clip(x, p, q), None, -0.5, 0.5),
}


@pytest.mark.parametrize("code", sorted(UNARY_FLOAT), ids=lambda c: f"op{c}")
def test_unary_float(code):
    reference, domain, p, q = UNARY_FLOAT[code]
    low, high = domain or (-3.0, 3.0)

    def make(shape):
        return floats(shape, low, high)

    for name, x in layouts((7, 33), make) + [("6d", six_d(make))]:
        out = ew.unary_cpu(code, x, p=p, q=q)
        expected = reference(x.astype(np.float64), np.float64(np.float32(p)),
                             np.float64(np.float32(q)))
        assert_close(out, expected, tol=2e-6, what=f"op {code} {name}")


def test_unary_float_rounding_edges():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 8388609.0, -0.3, 1e30, -np.inf, np.nan],
                 np.float32)
    rounded = ew.unary_cpu(M.U_ROUND, x)
    assert np.array_equal(rounded[:8], np.round(x[:8])), rounded
    assert np.isnan(rounded[-1]) and rounded[-2] == -np.inf
    assert np.array_equal(ew.unary_cpu(M.U_FLOOR, x)[:-1], np.floor(x[:-1]))
    assert np.array_equal(ew.unary_cpu(M.U_CEIL, x)[:-1], np.ceil(x[:-1]))
    assert np.array_equal(ew.unary_cpu(M.U_TRUNC, x)[:-1], np.trunc(x[:-1]))


def test_nan_propagates_as_in_pytorch():
    x = np.array([np.nan, -1.0, 2.0], np.float32)
    for code, p, q in ((M.U_RELU, 0, 0), (M.U_CLAMP, -1, 1), (M.U_MAXIMUM, 0, 0),
                       (M.U_MINIMUM, 0, 0), (M.U_HARDTANH, -1, 1)):
        assert np.isnan(ew.unary_cpu(code, x, p=p, q=q)[0]), code
    y = np.array([1.0, np.nan, 0.0], np.float32)
    assert np.isnan(ew.binary_cpu(M.B_MAXIMUM, x, y)[:2]).all()
    assert np.isnan(ew.binary_cpu(M.B_MINIMUM, x, y)[:2]).all()


# ---------------------------------------------------------------- unary int and bool

UNARY_INT = {
    M.U_COPY: lambda x, p, q: x, M.U_NEG: lambda x, p, q: -x,
    M.U_ABS: lambda x, p, q: np.abs(x), M.U_SQUARE: lambda x, p, q: x * x,
    M.U_SIGN: lambda x, p, q: np.sign(x), M.U_ADD: lambda x, p, q: x + p,
    M.U_MUL: lambda x, p, q: x * p, M.U_RSUB: lambda x, p, q: p - x,
    M.U_AFFINE: lambda x, p, q: x * p + q, M.U_FILL: lambda x, p, q: np.full_like(x, p),
    M.U_MAXIMUM: lambda x, p, q: np.maximum(x, p), M.U_MINIMUM: lambda x, p, q: np.minimum(x, p),
    M.U_CLAMP: lambda x, p, q: np.clip(x, p, q),
    M.U_FLOORDIV: lambda x, p, q: x // p, M.U_REMAINDER: lambda x, p, q: x % p,
    M.U_BITNOT: lambda x, p, q: ~x,
}


@pytest.mark.parametrize("code", sorted(UNARY_INT), ids=lambda c: f"op{c}")
def test_unary_int(code):
    p, q = (-7, 9) if code != M.U_CLAMP else (-7, 9)
    for name, x in layouts((5, 21), ints) + [("6d", six_d(ints))]:
        out = ew.unary_cpu(code, x, p=p, q=q)
        assert out.dtype == np.int64
        assert np.array_equal(out, UNARY_INT[code](x, p, q)), (code, name)


def test_int_floor_division_and_remainder_take_the_divisor_sign():
    x = np.array([7, -7, 7, -7], np.int64)
    d = np.array([2, 2, -2, -2], np.int64)
    assert ew.binary_cpu(M.B_FLOORDIV, x, d).tolist() == [3, -4, -4, 3]
    assert ew.binary_cpu(M.B_REMAINDER, x, d).tolist() == [1, 1, -1, -1]
    assert ew.unary_cpu(M.U_RFLOORDIV, d, p=7).tolist() == [3, 3, -4, -4]
    assert ew.unary_cpu(M.U_RREMAINDER, d, p=-7).tolist() == [1, 1, -1, -1]


def test_unary_bool():
    for name, x in layouts((4, 9), bools):
        assert np.array_equal(ew.unary_cpu(M.U_LOGICAL_NOT, x), ~x), name
        assert np.array_equal(ew.unary_cpu(M.U_COPY, x), x), name
        assert ew.unary_cpu(M.U_FILL, x, p=True).all()


# ---------------------------------------------------------------- binary

BINARY_FLOAT = {   # code: (reference, domain of b)
    M.B_ADD: (lambda a, b, p, q: a + b, None), M.B_SUB: (lambda a, b, p, q: a - b, None),
    M.B_MUL: (lambda a, b, p, q: a * b, None), M.B_DIV: (lambda a, b, p, q: a / b, (0.3, 3)),
    M.B_POW: (lambda a, b, p, q: np.abs(a) ** b, None),
    M.B_MAXIMUM: (lambda a, b, p, q: np.maximum(a, b), None),
    M.B_MINIMUM: (lambda a, b, p, q: np.minimum(a, b), None),
    M.B_FLOORDIV: (lambda a, b, p, q: np.floor(a / b), (0.3, 3)),
    M.B_REMAINDER: (lambda a, b, p, q: a - np.floor(a / b) * b, (0.3, 3)),
    M.B_ATAN2: (lambda a, b, p, q: np.arctan2(a, b), None),
    M.B_RELU_GRAD: (lambda a, b, p, q: np.where(b > 0, a, 0), None),
    M.B_SIGMOID_GRAD: (lambda a, b, p, q: a * b * (1 - b), None),
    M.B_TANH_GRAD: (lambda a, b, p, q: a * (1 - b * b), None),
    M.B_LEAKY_RELU_GRAD: (lambda a, b, p, q: np.where(b > 0, a, a * p), None),
    M.B_ELU_GRAD: (lambda a, b, p, q: np.where(b > 0, a, a * p * np.exp(b)), None),
    M.B_GELU_GRAD: (lambda a, b, p, q: a * (0.5 * (1 + _erf(b / math.sqrt(2)))
                                            + b * np.exp(-b * b / 2) / math.sqrt(2 * math.pi)),
                    None),
    M.B_GELU_TANH_GRAD: (lambda a, b, p, q: a * _gelu_tanh_grad(b), None),
    M.B_SILU_GRAD: (lambda a, b, p, q: a * (1 / (1 + np.exp(-b))) * (1 + b * (1 - 1 / (1 + np.exp(-b)))),
                    None),
    M.B_SOFTPLUS_GRAD: (lambda a, b, p, q: np.where(b * p > q, a, a / (1 + np.exp(-b * p))),
                        None),
    M.B_HARDTANH_GRAD: (lambda a, b, p, q: np.where((b > p) & (b < q), a, 0), None),
    M.B_CLAMP_GRAD: (lambda a, b, p, q: np.where((b >= p) & (b <= q), a, 0), None),
    M.B_SQRT_GRAD: (lambda a, b, p, q: a / (2 * b), (0.3, 3)),
    M.B_RSQRT_GRAD: (lambda a, b, p, q: -0.5 * a * b ** 3, None),
}


def _gelu_tanh_grad(x):
    c = math.sqrt(2 / math.pi)
    t = np.tanh(c * (x + 0.044715 * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)


def broadcast_pairs(make_a, make_b):
    """(name, a, b) with a and b of one shape, b broadcast in several ways (zero strides)."""
    shape = (6, 5, 7)
    a = make_a(shape)
    pairs = [("same", a, make_b(shape))]
    row = make_b((7,))
    pairs.append(("row", a, np.broadcast_to(row, shape)))
    column = make_b((6, 1, 1))
    pairs.append(("column", a, np.broadcast_to(column, shape)))
    pairs.append(("transposed", np.ascontiguousarray(a.transpose(2, 1, 0)).transpose(2, 1, 0),
                  make_b(shape)))
    pairs.append(("both-broadcast", np.broadcast_to(make_a((6, 1, 7)), shape),
                  np.broadcast_to(make_b((5, 1)), shape)))
    return pairs


@pytest.mark.parametrize("code", sorted(BINARY_FLOAT), ids=lambda c: f"op{c}")
def test_binary_float(code):
    reference, domain = BINARY_FLOAT[code]
    low, high = domain or (-3, 3)
    p, q = (0.1, 2.0) if code != M.B_HARDTANH_GRAD and code != M.B_CLAMP_GRAD else (-1.0, 1.5)
    make_a = (lambda s: np.abs(floats(s)) + 0.1) if code == M.B_POW else floats
    for name, a, b in broadcast_pairs(make_a, lambda s: floats(s, low, high)):
        out = ew.binary_cpu(code, a, b, p=p, q=q)
        expected = reference(a.astype(np.float64), b.astype(np.float64), np.float32(p),
                             np.float32(q))
        assert out.shape == a.shape and out.flags.c_contiguous
        assert_close(out, expected, tol=2e-6, what=f"op {code} {name}")


BINARY_INT = {M.B_ADD: np.add, M.B_SUB: np.subtract, M.B_MUL: np.multiply,
              M.B_MAXIMUM: np.maximum, M.B_MINIMUM: np.minimum, M.B_FLOORDIV: np.floor_divide,
              M.B_REMAINDER: np.remainder, M.B_AND: np.bitwise_and, M.B_OR: np.bitwise_or,
              M.B_XOR: np.bitwise_xor}


@pytest.mark.parametrize("code", sorted(BINARY_INT), ids=lambda c: f"op{c}")
def test_binary_int(code):
    nonzero = (lambda s: ints(s, 1, 20) * np.where(RNG.random(s) < 0.5, -1, 1))
    for name, a, b in broadcast_pairs(ints, nonzero):
        assert np.array_equal(ew.binary_cpu(code, a, b), BINARY_INT[code](a, b)), name


def test_binary_bool():
    for name, a, b in broadcast_pairs(bools, bools):
        assert np.array_equal(ew.binary_cpu(M.B_AND, a, b), a & b), name
        assert np.array_equal(ew.binary_cpu(M.B_OR, a, b), a | b), name
        assert np.array_equal(ew.binary_cpu(M.B_XOR, a, b), a ^ b), name


# ---------------------------------------------------------------- compare, test, where, cast

COMPARE = {M.C_EQ: np.equal, M.C_NE: np.not_equal, M.C_LT: np.less, M.C_LE: np.less_equal,
           M.C_GT: np.greater, M.C_GE: np.greater_equal}


@pytest.mark.parametrize("make", [lambda s: np.round(floats(s)), lambda s: ints(s, -3, 3), bools],
                         ids=["float32", "int64", "bool"])
def test_compare(make):
    for name, a, b in broadcast_pairs(make, make):
        for code, reference in COMPARE.items():
            out = ew.compare_cpu(code, a, b)
            assert out.dtype == np.bool_
            assert np.array_equal(out, reference(a, b)), (code, name)


def test_compare_scalar_and_nan():
    x = np.array([1.0, np.nan, -2.0, 3.0], np.float32)
    assert ew.compare_scalar_cpu(M.C_GT, x, 0.5).tolist() == [True, False, False, True]
    assert ew.compare_scalar_cpu(M.C_NE, x, 1.0).tolist() == [False, True, True, True]
    assert ew.compare_cpu(M.C_EQ, x, x).tolist() == [True, False, True, True]
    labels = np.arange(6, dtype=np.int64).reshape(2, 3).T
    assert np.array_equal(ew.compare_scalar_cpu(M.C_LE, labels, 2), labels <= 2)


def test_isnan_isinf_isfinite():
    x = np.array([0.0, np.nan, np.inf, -np.inf, -1.5], np.float32).reshape(5, 1)
    view = np.broadcast_to(x, (5, 3))
    assert np.array_equal(ew.test_cpu(M.T_ISNAN, view), np.isnan(view))
    assert np.array_equal(ew.test_cpu(M.T_ISINF, view), np.isinf(view))
    assert np.array_equal(ew.test_cpu(M.T_ISFINITE, view), np.isfinite(view))


@pytest.mark.parametrize("make", [floats, ints, bools], ids=["float32", "int64", "bool"])
def test_where(make):
    for name, a, b in broadcast_pairs(make, make):
        cond = np.broadcast_to(bools((5, 1)), a.shape)
        assert np.array_equal(ew.where_cpu(cond, a, b), np.where(cond, a, b)), name


CAST_TYPES = [np.float32, np.int64, np.int32, np.bool_]


@pytest.mark.parametrize("source", CAST_TYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("target", CAST_TYPES, ids=lambda t: np.dtype(t).name)
def test_cast(source, target):
    values = floats((4, 9), -100, 100)
    x = values.astype(source)
    for name, view in (("flat", x), ("transposed", np.ascontiguousarray(x.T).T),
                       ("6d", six_d(lambda s: floats(s, -100, 100).astype(source)))):
        expected = view.astype(target)
        out = ~expected if target is np.bool_ else poisoned(view.shape, target)
        assert ew.cast_cpu(view, out) is out
        assert np.array_equal(out, expected), name


def test_cast_writes_into_a_strided_out():
    x = floats((3, 8))
    big = np.zeros((3, 16), np.float32)
    ew.cast_cpu(x, big[:, ::2])
    assert np.array_equal(big[:, ::2], x) and not big[:, 1::2].any()


def test_ramp_is_arange_and_linspace():
    out = poisoned((9,))
    assert np.allclose(ew.ramp_cpu(out, -1.0, 0.25), np.arange(-1.0, 1.25, 0.25))
    steps = 11
    out = poisoned((steps,))
    ew.ramp_cpu(out, 0.0, 0.1, 1.0, steps // 2)
    assert out[0] == 0.0 and out[-1] == 1.0
    assert np.allclose(out, np.linspace(0, 1, steps), atol=1e-7)
    ints_out = poisoned((5,), np.int64)
    assert ew.ramp_cpu(ints_out, 3, -2).tolist() == [3, 1, -1, -3, -5]


# ---------------------------------------------------------------- aliasing, pieces, errors

def test_out_may_alias_the_input():
    x = floats((4, 130))
    expected = np.exp(x.astype(np.float64))
    assert ew.unary_cpu(M.U_EXP, x, out=x) is x
    assert_close(x, expected)
    t = np.ascontiguousarray(floats((8, 6)).T).T
    before = t.astype(np.float64)
    ew.binary_cpu(M.B_MUL, t, t, out=t)
    assert_close(t, before * before)


def test_every_element_of_a_large_strided_array_is_written():
    x = floats((3, 2, 5, 4, 7, 9)).transpose(5, 3, 1, 0, 2, 4)   # no dims coalesce
    out = np.full(x.shape, np.nan, np.float32)
    ew.unary_cpu(M.U_NEG, x, out=out)
    assert np.array_equal(out, -x)


def test_bad_arguments_are_refused_before_any_kernel():
    a = floats((3, 4))
    with pytest.raises(ValueError, match=r"binary_cpu: b has shape \(4, 3\), out has \(3, 4\)"):
        ew.binary_cpu(M.B_ADD, a, floats((4, 3)))
    with pytest.raises(TypeError, match=r"binary_cpu: b is int64"):
        ew.binary_cpu(M.B_ADD, a, ints((3, 4)))
    with pytest.raises(TypeError, match="unary_cpu: x is float64"):
        ew.unary_cpu(M.U_EXP, a.astype(np.float64))
    with pytest.raises(ValueError, match="repeats elements"):
        ew.unary_cpu(M.U_NEG, a, out=np.broadcast_to(np.zeros(4, np.float32), (3, 4)))
    with pytest.raises(TypeError, match="compare_cpu: out is float32"):
        ew.compare_cpu(M.C_EQ, a, a, out=np.zeros((3, 4), np.float32))
    with pytest.raises(TypeError, match="test_cpu: x is int64"):
        ew.test_cpu(M.T_ISNAN, ints((3,)))
    with pytest.raises(TypeError, match="where_cpu: cond is float32"):
        ew.where_cpu(a, a, a)
    with pytest.raises(TypeError, match="cast_cpu: out must be an array"):
        ew.cast_cpu(a, np.float32)
    with pytest.raises(TypeError, match="unary_cpu: x must be an array, got list"):
        ew.unary_cpu(M.U_NEG, [1.0, 2.0])
    with pytest.raises(TypeError, match="ramp_cpu: out must be a contiguous 1-D"):
        ew.ramp_cpu(np.zeros((2, 2), np.float32), 0.0, 1.0)


def test_empty_arrays_launch_nothing():
    for shape in ((0,), (3, 0, 2)):
        x = np.zeros(shape, np.float32)
        assert ew.unary_cpu(M.U_EXP, x).shape == shape
        assert ew.binary_cpu(M.B_ADD, x, x).shape == shape
