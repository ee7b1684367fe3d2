"""reduce_cpu against plainly written NumPy (float64 for float sums) on the same strided views.

Views are made with np.lib.stride_tricks.as_strided: contiguous, permuted, zero-stride
(broadcast), odd sizes, one long reduction (several chunks), reductions of one element, many
short ones, and the columns layout (kept dim contiguous). Then NaN, ties, determinism (the
same bits on 1 and 2 threads, run to run, at any alignment), empty ranges and bad input.
"""
import numba
import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

from gpucnn.kernels import reduce as rd
from tests.helpers import assert_close, poisoned

OPS = (rd.R_SUM, rd.R_MAX, rd.R_MIN, rd.R_ARGMAX, rd.R_ARGMIN)


def reference(op, x):
    """The reduction over x's last two dims, in NumPy: flattened in C order (index r0*R1 +
    r1), float sums in float64, int64 sums wrapping as NumPy's do."""
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    if op == rd.R_SUM:
        return flat.astype(np.float64).sum(-1) if x.dtype == np.float32 else flat.sum(-1)
    return {rd.R_MAX: np.max, rd.R_MIN: np.min, rd.R_ARGMAX: np.argmax,
            rd.R_ARGMIN: np.argmin}[op](flat, axis=-1)


def view(base, shape, strides, offset=0):
    """A view of base's memory, strides in elements."""
    flat = base.reshape(-1)[offset:]
    return as_strided(flat, shape, tuple(s * flat.itemsize for s in strides))


def values(rng, n, dtype):
    """Random float32 in [-1, 1), or int64 with ties."""
    if dtype == np.int64:
        return rng.integers(-1000, 1000, size=n, dtype=np.int64)
    return rng.uniform(-1.0, 1.0, size=n).astype(np.float32)


def permuted(base):
    return base.reshape(3, 4, 5, 7).transpose(2, 0, 3, 1)


# name: (base size, view of the base). Sizes are odd on purpose; the layouts reach both CPU
# strategies (rows; columns when k1 is contiguous and r1 is not) and both chunkings.
LAYOUTS = {
    "contiguous": (120, lambda b: b.reshape(2, 3, 4, 5)),
    "odd-sizes": (3 * 17 * 65, lambda b: b.reshape(3, 17, 1, 65)),
    "odd-reduced": (17 * 257, lambda b: b.reshape(1, 1, 17, 257)),
    "permuted": (420, permuted),
    "transposed-reduced": (4 * 17 * 65, lambda b: view(b, (1, 4, 65, 17), (0, 1105, 1, 65))),
    "broadcast-reduced": (3, lambda b: view(b, (2, 3, 4, 65), (0, 1, 0, 0))),
    "broadcast-kept": (17 * 65, lambda b: view(b, (3, 5, 17, 65), (0, 0, 65, 1))),
    "long": (100003, lambda b: b.reshape(1, 1, 1, 100003)),
    "long-two-dims": (3 * 33335, lambda b: b.reshape(1, 1, 3, 33335)),
    "one-element": (132, lambda b: b.reshape(4, 33, 1, 1)),
    "many-short": (15000, lambda b: b.reshape(1, 5000, 1, 3)),
    "channels": (3 * 5 * 70, lambda b: view(b, (1, 5, 3, 70), (0, 70, 350, 1))),
    "columns-dim0": (4100 * 300, lambda b: view(b, (1, 4100, 1, 300), (0, 1, 0, 4100))),
    "columns-unmerged": (2 * 3 * 11 * 7, lambda b: view(b, (2, 7, 3, 11), (231, 1, 77, 7))),
}


@pytest.mark.parametrize("op", OPS, ids=rd.OP_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.int64], ids=["float32", "int64"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_matches_numpy(layout, dtype, op):
    size, make = LAYOUTS[layout]
    x = make(values(np.random.default_rng(size), size, dtype))
    got, expected = rd.reduce_cpu(op, x), reference(op, x)
    assert got.shape == x.shape[:2] and got.flags.c_contiguous
    assert got.dtype == (np.int64 if op >= rd.R_ARGMAX else dtype)
    if op == rd.R_SUM and dtype == np.float32:
        assert_close(got, expected, 1e-6, layout)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=layout)


def test_writes_into_given_out():
    x = values(np.random.default_rng(0), 60, np.float32).reshape(3, 4, 1, 5)
    out = poisoned((3, 4))
    assert rd.reduce_cpu(rd.R_MAX, x, out=out) is out
    np.testing.assert_array_equal(out, reference(rd.R_MAX, x))
    index = poisoned((3, 4), np.int64)
    assert rd.reduce_cpu(rd.R_ARGMIN, x, out=index) is index
    np.testing.assert_array_equal(index, reference(rd.R_ARGMIN, x))


def test_read_only_broadcast_view():
    x = np.broadcast_to(np.arange(4, dtype=np.float32).reshape(1, 4, 1, 1), (2, 4, 3, 5))
    assert not x.flags.writeable
    np.testing.assert_array_equal(rd.reduce_cpu(rd.R_SUM, x), np.tile(np.arange(4) * 15, (2, 1)))


def test_int64_sum_wraps():
    x = np.full((1, 2, 1, 6), 2 ** 62, np.int64)
    x[0, 0, 0, :2] = 1
    got = rd.reduce_cpu(rd.R_SUM, x)
    assert got.tolist() == [[2, -2 ** 63]]      # 4 * 2**62 + 2 wraps to 2, 6 * 2**62 to -2**63


# NaN at flat indices in different segments and chunks: the first one wins.
NAN_LAYOUTS = {
    "rows": ((1, 3, 1, 40000), (0, 40000, 0, 1), [(0, 30000), (0, 25), (2, 39999)]),
    "rows-two-dims": ((1, 2, 50, 700), (0, 35000, 700, 1), [(0, 20001), (0, 34999), (1, 7)]),
    "columns": ((1, 300, 1, 600), (0, 1, 0, 300), [(0, 400), (0, 3), (299, 599), (5, 260)]),
}


@pytest.mark.parametrize("layout", NAN_LAYOUTS)
def test_nan_propagates_and_first_nan_wins(layout):
    shape, strides, nans = NAN_LAYOUTS[layout]
    n_k, n_r = shape[1], shape[2] * shape[3]
    flat = values(np.random.default_rng(1), n_k * n_r, np.float32).reshape(n_k, n_r)
    for k, r in nans:
        flat[k, r] = np.nan                        # flat[k, r] is x[0, k, r0, r1]
    x = view(flat.T.copy() if layout == "columns" else flat, shape, strides)
    for op in OPS[1:]:
        np.testing.assert_array_equal(rd.reduce_cpu(op, x), reference(op, x))
    first = {k: min(r for kk, r in nans if kk == k) for k, _ in nans}
    for op in (rd.R_ARGMAX, rd.R_ARGMIN):
        got = rd.reduce_cpu(op, x)[0]
        assert all(got[k] == r for k, r in first.items()), (op, got[list(first)])
    assert np.isnan(rd.reduce_cpu(rd.R_SUM, x)[0, list(first)]).all()


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_ties_pick_the_first(layout):
    # Equal extremes at flat indices 5 and 30000 (different chunks) and 30001: 5 wins.
    n = 40000
    line = np.zeros(n, np.float32)
    line[[5, 30000, 30001]] = 2.0
    line[[7, 30002]] = -2.0
    if layout == "rows":
        x = np.tile(line, 3).reshape(1, 3, 1, n)
    else:
        x = view(np.repeat(line, 3), (1, 3, 1, n), (0, 1, 0, 3))
    assert rd.reduce_cpu(rd.R_ARGMAX, x).tolist() == [[5, 5, 5]]
    assert rd.reduce_cpu(rd.R_ARGMIN, x).tolist() == [[7, 7, 7]]
    zeros = np.zeros((1, 2, 1, n), np.int64)
    assert not rd.reduce_cpu(rd.R_ARGMAX, zeros).any()


# Float sums over many chunks, in each layout: (shape, strides, base size).
SUM_LAYOUTS = {
    "full": ((1, 1, 1, 1 << 20), (0, 0, 0, 1), 1 << 20),
    "channels": ((1, 8, 16, 3000), (0, 3000, 24000, 1), 16 * 24000),
    "columns": ((1, 5000, 1, 200), (0, 1, 0, 5000), 5000 * 200),
    "strided": ((1, 3, 1, 100000), (0, 1, 0, 3), 300000),
}


@pytest.fixture
def threads():
    """numba's thread count, restored after the test."""
    before = numba.get_num_threads()
    yield before
    numba.set_num_threads(before)


@pytest.mark.parametrize("layout", SUM_LAYOUTS)
def test_float_sum_bits_independent_of_threads(layout, threads):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread")
    shape, strides, size = SUM_LAYOUTS[layout]
    base = np.random.default_rng(2).standard_normal(size).astype(np.float32) * 1e3
    x = view(base, shape, strides)
    results = []
    for n in (1, 2, 1, 2):
        numba.set_num_threads(n)
        results.append(rd.reduce_cpu(rd.R_SUM, x))
    for r in results[1:]:
        np.testing.assert_array_equal(r.view(np.int32), results[0].view(np.int32))
    assert_close(results[0], reference(rd.R_SUM, x), 1e-6)


def test_float_sum_bits_independent_of_alignment():
    # The same values at 8 different addresses: the vectorised loop must not change its order
    # with the alignment (no peeling).
    values_ = np.random.default_rng(3).standard_normal(100003).astype(np.float32)
    results = set()
    for offset in range(8):
        buffer = np.zeros(100003 + 8, np.float32)
        buffer[offset:offset + 100003] = values_
        x = buffer[offset:offset + 100003].reshape(1, 1, 1, 100003)
        results.add(rd.reduce_cpu(rd.R_SUM, x).tobytes())
    assert len(results) == 1


def test_empty_reduced_range():
    x = np.zeros((2, 3, 4, 0), np.float32)
    out = poisoned((2, 3))
    assert rd.reduce_cpu(rd.R_SUM, x, out=out) is out
    assert not out.any()
    assert rd.reduce_cpu(rd.R_SUM, np.zeros((1, 2, 0, 0), np.int64)).tolist() == [[0, 0]]
    for op in OPS[1:]:
        with pytest.raises(ValueError, match=rf"reduce_cpu: {rd.OP_NAMES[op]} .*\(2, 3, 4, 0\)"):
            rd.reduce_cpu(op, x)


def test_no_outputs():
    for shape in [(0, 3, 2, 2), (2, 0, 0, 0)]:
        out = rd.reduce_cpu(rd.R_SUM, np.zeros(shape, np.float32))
        assert out.shape == shape[:2] and out.dtype == np.float32
    assert rd.reduce_cpu(rd.R_ARGMAX, np.zeros((0, 3, 2, 2), np.float32)).dtype == np.int64


def test_rejects_bad_arguments():
    x = np.ones((2, 3, 4, 5), np.float32)
    bad = [
        (TypeError, "reduce_cpu: x must be an array", (rd.R_SUM, [[1.0]])),
        (ValueError, r"reduce_cpu: x must be 4-D, got shape \(3, 4\)",
         (rd.R_SUM, np.ones((3, 4), np.float32))),
        (TypeError, r"reduce_cpu: x is float64 \(shape \(2, 3, 4, 5\)\)",
         (rd.R_SUM, x.astype(np.float64))),
        (TypeError, "reduce_cpu: x is int32", (rd.R_MAX, x.astype(np.int32))),
        (TypeError, "reduce_cpu: x is bool", (rd.R_MAX, x.astype(bool))),
        (ValueError, r"reduce_cpu: x \(shape \(2, 3, 4, 5\)\) has strides .*-4",
         (rd.R_SUM, x[:, :, :, ::-1])),
        (ValueError, "reduce_cpu: unknown op code 5", (5, x)),
        (ValueError, "reduce_cpu: unknown op code -1", (-1, x)),
        (TypeError, "reduce_cpu: op must be an int code", (1.0, x)),
        (TypeError, "reduce_cpu: op must be an int code", (True, x)),
    ]
    for error, message, args in bad:
        with pytest.raises(error, match=message):
            rd.reduce_cpu(*args)
    bad_out = [
        (ValueError, r"reduce_cpu: out has shape \(3, 2\), expected \(2, 3\)",
         rd.R_SUM, np.empty((3, 2), np.float32)),
        (ValueError, r"reduce_cpu: out must be 2-D, got shape \(6,\)",
         rd.R_SUM, np.empty(6, np.float32)),
        (TypeError, r"reduce_cpu: out must be float32, got int64 \(shape \(2, 3\)\)",
         rd.R_SUM, np.empty((2, 3), np.int64)),
        (TypeError, "reduce_cpu: out must be int64, got float32", rd.R_ARGMAX,
         np.empty((2, 3), np.float32)),
        (ValueError, "reduce_cpu: out must be C-contiguous", rd.R_SUM,
         np.empty((3, 2), np.float32).T),
        (TypeError, "reduce_cpu: out must be an array", rd.R_SUM, [[0.0] * 3] * 2),
    ]
    for error, message, op, out in bad_out:
        with pytest.raises(error, match=message):
            rd.reduce_cpu(op, x, out=out)


def test_cuda_launcher_refuses_host_arrays_before_any_launch():
    # No GPU is needed: the check comes first. (The CPU twin refusing a device array is in
    # tests/cudasim/test_reduce_sim.py.)
    with pytest.raises(TypeError, match="reduce_cuda: x must be a device array"):
        rd.reduce_cuda(rd.R_SUM, np.ones((1, 1, 1, 4), np.float32))
    with pytest.raises(ValueError, match="reduce_cuda: unknown op code 7"):
        rd.reduce_cuda(7, np.ones((1, 1, 1, 4), np.float32))
