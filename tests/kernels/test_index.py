"""gather / scatter / nonzero CPU twins against plain NumPy references.

The layouts are those the engine produces: a tensor of shape (N, *rest) whose dims lie in
storage in some order (transposed, broadcast), indexed along its first dim, so offsets are
idx * stride0 and the rest pattern is the other dims' shape and strides."""
import types

import numba
import numpy as np
import pytest

from gpucnn.kernels import index as ix

DTYPES = [np.float32, np.int64, np.int32, np.bool_]
SENTINEL = {np.float32: 12345.0, np.int64: -777, np.int32: -777, np.bool_: True}


def values(rng, size, dtype):
    """Random storage contents of `dtype`, none equal to the sentinels (bool aside)."""
    if dtype == np.float32:
        return rng.uniform(-1.0, 1.0, size).astype(np.float32)
    if dtype == np.int64:
        return rng.integers(0, 1 << 40, size, dtype=np.int64)
    if dtype == np.int32:
        return rng.integers(0, 1 << 30, size, dtype=np.int32)
    return rng.random(size) < 0.5


def layout(shape, order):
    """Element strides of a tensor of `shape` whose dims are stored outermost-first in
    `order` (a permutation of range(len(shape)))."""
    strides, step = [0] * len(shape), 1
    for d in reversed(order):
        strides[d] = step
        step *= shape[d]
    return tuple(strides)


# (tensor shape (N, *rest), storage order of its dims, rest strides overridden or None):
# rest () / 1-D / 4-D, contiguous, transposed (non-contiguous), partly coalescible, and (for
# gather only) broadcast with zero strides.
LAYOUTS = [
    ((7,), (0,), None),                              # x[idx] of a vector: rest ()
    ((9, 5), (0, 1), None),                          # rows
    ((9, 5), (1, 0), None),                          # columns of a transposed matrix
    ((3, 17), (0, 1), None),                         # odd row length
    ((5, 2, 3, 4, 5), (0, 1, 2, 3, 4), None),        # 4-D contiguous rest: one dim after coalescing
    ((5, 2, 3, 4, 5), (4, 2, 0, 3, 1), None),        # 4-D rest, non-contiguous, unsorted strides
    ((6, 3, 1, 4, 2), (0, 2, 1, 4, 3), None),        # size-1 dim, partly coalescible
    ((4, 3, 0, 2), (0, 1, 2, 3), None),              # empty rest
]
BROADCAST = [((5, 3, 4), (0, 1, 2), (0, 1)), ((6, 4, 3), (0, 1, 2), (3, 0))]


def pattern(rest_shape, rest_strides):
    """The storage offsets of the rest elements, an int64 array of rest_shape."""
    out = np.zeros(rest_shape, np.int64)
    for k, (n, s) in enumerate(zip(rest_shape, rest_strides)):
        trailing = (1,) * (len(rest_shape) - k - 1)
        out = out + (np.arange(n, dtype=np.int64) * s).reshape((n, *trailing))
    return out


def case(shape, order, rest_strides=None):
    """(storage size, stride of the indexed dim, rest shape, rest strides)."""
    strides = layout(shape, order)
    if rest_strides is not None:
        strides = (strides[0],) + rest_strides
    size = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if min(shape) > 0 else 0
    return max(size, int(np.prod(shape))), strides[0], shape[1:], strides[1:]


def expected_gather(src, offsets, rest_shape, rest_strides):
    pat = pattern(rest_shape, rest_strides)
    out = np.zeros((offsets.size, *rest_shape), src.dtype)
    biggest = pat.max() if pat.size else 0
    for b, off in enumerate(offsets):
        if 0 <= off and off + biggest < src.size:
            out[b] = src[off + pat]
    return out


def expected_scatter(dst, offsets, rest_shape, rest_strides, src, accumulate):
    """A plain loop over b in order: the last b wins, or contributions add in b order (in
    dst's dtype: float32 roundings, as the kernels make them)."""
    dst = dst.copy()
    pat = pattern(rest_shape, rest_strides)
    biggest = pat.max() if pat.size else 0
    for b, off in enumerate(offsets):
        if 0 <= off and off + biggest < dst.size:
            if accumulate:
                dst[off + pat] += src[b]
            else:
                dst[off + pat] = src[b]
    return dst


def indices(rng, n, count):
    """`count` unsorted indices into n rows, with duplicates when count allows."""
    return rng.integers(0, n, count).astype(np.int64) if n else np.zeros(0, np.int64)


# ================================================================ gather

@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("spec", LAYOUTS + BROADCAST, ids=str)
def test_gather_matches_fancy_indexing(spec, dtype):
    rng = np.random.default_rng(1)
    size, stride0, rest_shape, rest_strides = case(*spec)
    src = values(rng, size, dtype)
    for count in (0, 1, 13):
        offsets = indices(rng, spec[0][0], count) * stride0
        out = ix.gather_cpu(src, offsets, rest_shape, rest_strides)
        assert out.shape == (count, *rest_shape) and out.dtype == src.dtype
        np.testing.assert_array_equal(out, expected_gather(src, offsets, rest_shape,
                                                           rest_strides))


def test_gather_matches_as_strided():
    # An independent reference: NumPy's own strided view of the storage at each offset.
    rng = np.random.default_rng(2)
    size, stride0, rest_shape, rest_strides = case((5, 2, 3, 4, 5), (4, 2, 0, 3, 1))
    src = values(rng, size, np.float32)
    offsets = np.array([4, 0, 2, 2, 1], np.int64) * stride0
    out = ix.gather_cpu(src, offsets, rest_shape, rest_strides)
    for b, off in enumerate(offsets):
        view = np.lib.stride_tricks.as_strided(src[off:], rest_shape,
                                               [s * src.itemsize for s in rest_strides])
        np.testing.assert_array_equal(out[b], view)


def test_gather_writes_into_out():
    rng = np.random.default_rng(3)
    src = values(rng, 60, np.float32)
    out = np.full((4, 3, 5), np.nan, np.float32)
    offsets = np.array([15, 0, 45, 15], np.int64)
    assert ix.gather_cpu(src, offsets, (3, 5), (5, 1), out=out) is out
    np.testing.assert_array_equal(out, src.reshape(4, 3, 5)[[1, 0, 3, 1]])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gather_out_of_range_offsets_read_nothing(dtype):
    # The storage sits inside a larger buffer of sentinels: a read past its ends would bring
    # a sentinel into out. Out-of-range rows must come out as zeros.
    rng = np.random.default_rng(4)
    size, stride0, rest_shape, rest_strides = case((6, 4, 3), (2, 0, 1))
    pad = 50
    big = np.full(size + 2 * pad, SENTINEL[dtype], dtype)
    src = big[pad:pad + size]
    src[:] = values(rng, size, dtype)
    if dtype == np.bool_:
        src[:] = False          # so that a stray True can only be a sentinel
    span = max(pattern(rest_shape, rest_strides).ravel())
    bad = [-1, -stride0, size - span, size, 6 * stride0, 1 << 62, -(1 << 62)]
    offsets = np.array([2 * stride0, *bad, 5 * stride0, size - 1 - span], np.int64)
    out = ix.gather_cpu(src, offsets, rest_shape, rest_strides)
    np.testing.assert_array_equal(out, expected_gather(src, offsets, rest_shape, rest_strides))
    assert not np.any(out[1:1 + len(bad)])
    np.testing.assert_array_equal(out[0], src.reshape(3, 6, 4).transpose(1, 2, 0)[2])


def test_gather_rest_empty_and_zero_size_storage():
    src = np.arange(5, dtype=np.int64)
    out = ix.gather_cpu(src, np.array([4, 0, 5, -1], np.int64), (), ())
    np.testing.assert_array_equal(out, [4, 0, 0, 0])
    empty = ix.gather_cpu(np.zeros(0, np.float32), np.array([0, 3], np.int64), (2,), (1,))
    np.testing.assert_array_equal(empty, np.zeros((2, 2), np.float32))


# ================================================================ scatter

# accumulate is float32 / int64 only (the others are refused: see the bad-input test).
SCATTER_MODES = [(d, False) for d in DTYPES] + [(np.float32, True), (np.int64, True)]


@pytest.mark.parametrize("dtype,accumulate", SCATTER_MODES,
                         ids=lambda v: np.dtype(v).name if isinstance(v, type) else
                         ("accumulate" if v else "set"))
@pytest.mark.parametrize("spec", LAYOUTS, ids=str)
def test_scatter_matches_loop(spec, dtype, accumulate):
    rng = np.random.default_rng(5)
    size, stride0, rest_shape, rest_strides = case(*spec)
    for count in (0, 1, 3 * spec[0][0] + 2):      # duplicates, unsorted
        dst = values(rng, size, dtype)
        offsets = indices(rng, spec[0][0], count) * stride0
        src = values(rng, count * int(np.prod(rest_shape)), dtype).reshape(count, *rest_shape)
        expected = expected_scatter(dst, offsets, rest_shape, rest_strides, src, accumulate)
        assert ix.scatter_cpu(dst, offsets, rest_shape, rest_strides, src, accumulate) is dst
        np.testing.assert_array_equal(dst, expected)   # bit-exact: same order of additions


def test_scatter_accumulate_against_add_at():
    # np.add.at in float64: the sums are right, not just equal to a loop written like them.
    rng = np.random.default_rng(6)
    size, stride0, rest_shape, rest_strides = case((5, 2, 3, 4, 5), (4, 2, 0, 3, 1))
    offsets = indices(rng, 5, 40) * stride0
    src = values(rng, 40 * 120, np.float32).reshape(40, *rest_shape)
    dst = values(rng, size, np.float32)
    expected = dst.astype(np.float64)
    pat = pattern(rest_shape, rest_strides)
    np.add.at(expected, offsets[:, None, None, None, None] + pat[None], src.astype(np.float64))
    ix.scatter_cpu(dst, offsets, rest_shape, rest_strides, src, True)
    np.testing.assert_allclose(dst, expected, rtol=0, atol=1e-5)

    ints = np.zeros(size, np.int64)
    ix.scatter_cpu(ints, offsets, rest_shape, rest_strides, (src * 1000).astype(np.int64), True)
    expected_ints = np.zeros(size, np.int64)
    np.add.at(expected_ints, offsets[:, None, None, None, None] + pat[None],
              (src * 1000).astype(np.int64))
    np.testing.assert_array_equal(ints, expected_ints)


def test_scatter_last_wins():
    dst = np.zeros(12, np.float32)
    offsets = np.array([8, 0, 8, 4, 0, 8], np.int64)
    src = np.arange(6 * 4, dtype=np.float32).reshape(6, 4)
    ix.scatter_cpu(dst, offsets, (4,), (1,), src, False)
    np.testing.assert_array_equal(dst, np.concatenate([src[4], src[3], src[5]]))


def test_scatter_accumulate_is_bit_identical_across_thread_counts():
    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    if threads < 2:
        pytest.skip("numba has a single thread here")
    rng = np.random.default_rng(7)
    offsets = indices(rng, 30, 3000) * 17
    # Magnitudes spread over six decades: any change in the order of additions shows.
    src = (values(rng, 3000 * 17, np.float32)
           * 10.0 ** rng.integers(-3, 3, 3000 * 17)).astype(np.float32).reshape(3000, 17)
    results = []
    before = numba.get_num_threads()
    try:
        for n in (1, threads, 1):
            numba.set_num_threads(n)
            dst = np.zeros(30 * 17, np.float32)
            ix.scatter_cpu(dst, offsets, (17,), (1,), src, True)
            results.append(dst.view(np.int32).copy())
    finally:
        numba.set_num_threads(before)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)


@pytest.mark.parametrize("accumulate", [False, True], ids=["set", "accumulate"])
def test_scatter_out_of_range_offsets_write_nothing(accumulate):
    rng = np.random.default_rng(8)
    size, stride0, rest_shape, rest_strides = case((6, 4, 3), (2, 0, 1))
    pad = 50
    big = np.full(size + 2 * pad, 12345.0, np.float32)
    dst = big[pad:pad + size]
    dst[:] = values(rng, size, np.float32)
    span = max(pattern(rest_shape, rest_strides).ravel())
    offsets = np.array([3 * stride0, -1, -stride0, size - span, size, 1 << 62, -(1 << 62),
                        size - 1 - span, 3 * stride0], np.int64)
    src = values(rng, offsets.size * 12, np.float32).reshape(offsets.size, *rest_shape)
    expected = expected_scatter(dst, offsets, rest_shape, rest_strides, src, accumulate)
    ix.scatter_cpu(dst, offsets, rest_shape, rest_strides, src, accumulate)
    np.testing.assert_array_equal(dst, expected)
    assert np.all(big[:pad] == 12345.0) and np.all(big[pad + size:] == 12345.0)


# ================================================================ nonzero

@pytest.mark.parametrize("n", [0, 1, 7, ix.CPU_CHUNK - 1, ix.CPU_CHUNK, ix.CPU_CHUNK + 1,
                               3 * ix.CPU_CHUNK + 5, 100_003])
def test_nonzero(n):
    rng = np.random.default_rng(n)
    for density in (0.0, 0.003, 0.5, 1.0):
        mask = rng.random(n) < density
        out = ix.nonzero_cpu(mask)
        assert out.dtype == np.int64 and out.ndim == 1
        np.testing.assert_array_equal(out, np.flatnonzero(mask))


def test_nonzero_into_out():
    mask = np.array([False, True, True, False, True])
    out = np.full(3, -1, np.int64)
    assert ix.nonzero_cpu(mask, out=out) is out
    np.testing.assert_array_equal(out, [1, 2, 4])


# ================================================================ bad input

def fake_device_array(shape, dtype):
    """What a CPU twin must refuse: an array-like that is not a NumPy array."""
    return types.SimpleNamespace(shape=shape, dtype=np.dtype(dtype), size=int(np.prod(shape)))


def test_gather_rejects_bad_input():
    src, offsets = np.zeros(20, np.float32), np.array([0, 5], np.int64)
    ok = (src, offsets, (5,), (1,))
    good_out = np.zeros((2, 5), np.float32)
    bad = [
        (TypeError, "src", (np.zeros(20), offsets, (5,), (1,))),                    # float64
        (TypeError, "src", (np.zeros(20, np.int16), offsets, (5,), (1,))),
        (ValueError, "src", (src.reshape(4, 5), offsets, (5,), (1,))),              # 2-D
        (ValueError, "src", (np.zeros(40, np.float32)[::2], offsets, (5,), (1,))),  # strided
        (TypeError, "src", (fake_device_array((20,), np.float32), offsets, (5,), (1,))),
        (TypeError, "src", ([0.0] * 20, offsets, (5,), (1,))),
        (TypeError, "offsets", (src, offsets.astype(np.int32), (5,), (1,))),
        (ValueError, "offsets", (src, offsets.reshape(2, 1), (5,), (1,))),
        (ValueError, "offsets", (src, np.zeros(4, np.int64)[::2], (5,), (1,))),
        (ValueError, "more than 4", (src, offsets, (1, 1, 1, 1, 5), (0, 0, 0, 0, 1))),
        (ValueError, "non-negative", (src, offsets, (5,), (-1,))),
        (ValueError, "non-negative", (src, offsets, (-5,), (1,))),
        (ValueError, "length", (src, offsets, (5,), (1, 1))),
        (TypeError, "rest_strides", (src, offsets, (5,), (1.0,))),
        (TypeError, "rest_shape", (src, offsets, 5, (1,))),
    ]
    for error, word, args in bad:
        with pytest.raises(error, match=f"gather_cpu: .*{word}"):
            ix.gather_cpu(*args)
    for error, out in [(ValueError, np.zeros((2, 4), np.float32)),
                       (TypeError, np.zeros((2, 5), np.int32)),
                       (ValueError, np.zeros((5, 2), np.float32).T),
                       (TypeError, fake_device_array((2, 5), np.float32))]:
        with pytest.raises(error, match="gather_cpu: out"):
            ix.gather_cpu(*ok, out=out)
    ix.gather_cpu(*ok, out=good_out)


def test_scatter_rejects_bad_input_before_writing():
    dst = np.arange(20, dtype=np.float32)
    offsets = np.array([0, 5], np.int64)
    src = np.ones((2, 5), np.float32)
    bad = [
        (TypeError, "src", (dst, offsets, (5,), (1,), src.astype(np.int64), False)),  # mismatch
        (ValueError, "src", (dst, offsets, (5,), (1,), np.ones((2, 4), np.float32), False)),
        (ValueError, "src", (dst, offsets, (5,), (1,), np.ones((5, 2), np.float32).T, False)),
        (ValueError, "src", (dst, offsets, (5,), (1,), np.ones((3, 5), np.float32), False)),
        (TypeError, "dst", (dst.astype(np.float64), offsets, (5,), (1,), src, False)),
        (ValueError, "dst", (dst.reshape(4, 5), offsets, (5,), (1,), src, False)),
        (TypeError, "dst", (fake_device_array((20,), np.float32), offsets, (5,), (1,), src,
                            False)),
        (TypeError, "offsets", (dst, offsets.astype(np.float32), (5,), (1,), src, False)),
        (ValueError, "repeat", (dst, offsets, (5,), (0,), src, True)),       # zero stride
        (ValueError, "more than 4", (dst, offsets, (1, 1, 1, 1, 5), (0, 0, 0, 0, 1),
                                     src.reshape(2, 1, 1, 1, 1, 5), False)),
        (ValueError, "non-negative", (dst, offsets, (5,), (-1,), src, False)),
        (TypeError, "accumulate", (dst, offsets, (5,), (1,), src, 1)),
        (TypeError, "accumulate", (np.zeros(20, np.bool_), offsets, (5,), (1,),
                                   np.ones((2, 5), np.bool_), True)),
        (TypeError, "accumulate", (np.zeros(20, np.int32), offsets, (5,), (1,),
                                   np.ones((2, 5), np.int32), True)),
    ]
    for error, word, args in bad:
        before = args[0].copy() if isinstance(args[0], np.ndarray) else None
        with pytest.raises(error, match=f"scatter_cpu: .*{word}"):
            ix.scatter_cpu(*args)
        if before is not None:
            np.testing.assert_array_equal(args[0], before)


def test_nonzero_rejects_bad_input():
    mask = np.array([True, False, True])
    for error, word, arg in [(TypeError, "mask", mask.astype(np.int8)),
                             (ValueError, "mask", mask.reshape(3, 1)),
                             (ValueError, "mask", np.ones(6, np.bool_)[::2]),
                             (TypeError, "mask", fake_device_array((3,), np.bool_))]:
        with pytest.raises(error, match=f"nonzero_cpu: {word}"):
            ix.nonzero_cpu(arg)
    for error, out in [(ValueError, np.zeros(3, np.int64)),       # wrong count
                       (ValueError, np.zeros(1, np.int64)),
                       (ValueError, np.zeros((2, 1), np.int64)),
                       (TypeError, np.zeros(2, np.int32))]:
        with pytest.raises(error, match="nonzero_cpu: out"):
            ix.nonzero_cpu(mask, out=out)


def test_ops_table():
    assert set(ix.OPS) == {"gather", "scatter", "nonzero"}
    assert ix.OPS["gather"].cpu is ix.gather_cpu and ix.OPS["scatter"].cuda is ix.scatter_cuda
