"""gather / scatter / nonzero CUDA launchers against their CPU twins in numba's simulator.

Outputs start poisoned (NaN or a sentinel) so an unwritten element fails; storages sit inside
sentinel-filled buffers so a read or write past their ends shows. Shapes are tiny but cross
block boundaries, and with MAX_BLOCKS = 2 every kernel runs its grid-stride loop. Both twins
make the same float32 additions in the same order, so results must agree bit for bit."""
import numpy as np
import pytest
from numba import cuda

from gpucnn.kernels import index as ix
from tests.helpers import poisoned

DTYPES = [np.float32, np.int64, np.int32, np.bool_]


@pytest.fixture(params=[False, True], ids=["one-pass", "grid-stride"])
def stride(request, monkeypatch):
    if request.param:
        monkeypatch.setattr(ix, "MAX_BLOCKS", 2)
    return request.param


def values(rng, size, dtype):
    if dtype == np.float32:
        return rng.uniform(-1.0, 1.0, size).astype(np.float32)
    if dtype == np.bool_:
        return rng.random(size) < 0.5
    return rng.integers(0, 1 << 30, size).astype(dtype)


def poison(shape, dtype):
    return np.ones(shape, np.bool_) if dtype == np.bool_ else poisoned(shape, dtype)


def in_buffer(data, pad, fill):
    """A device buffer of fill | data | fill and the device view of its data part."""
    big = np.concatenate([np.full(pad, fill, data.dtype), data, np.full(pad, fill, data.dtype)])
    d_big = cuda.to_device(big)
    return d_big, d_big[pad:pad + data.size]


# A (5, 4, 3, 7) tensor stored as dims (3, 2, 0, 1), indexed along dim 0: offsets idx * 4,
# rest (4, 3, 7) non-contiguous with strides (1, 20, 60): 84 elements per index.
REST_SHAPE, REST_STRIDES, STRIDE0, SIZE = (4, 3, 7), (1, 20, 60), 4, 420
SPAN = 3 * 1 + 2 * 20 + 6 * 60


def offsets_with_trouble(rng, count):
    """Unsorted indices with duplicates, plus offsets out of range at both ends and one that
    starts inside the storage but whose pattern leaves it."""
    good = rng.integers(0, 5, count) * STRIDE0
    bad = [-1, SIZE - SPAN, SIZE, 1 << 62, -(1 << 62)]
    return np.concatenate([good[:2], bad, good[2:], [SIZE - 1 - SPAN]]).astype(np.int64)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gather(dtype, stride):
    rng = np.random.default_rng(1)
    src = values(rng, SIZE, dtype)
    offsets = offsets_with_trouble(rng, 8)          # 14 x 84 = 1176 elements: > 2 blocks
    d_big, d_src = in_buffer(src, 64, True if dtype == np.bool_ else 99)
    out = cuda.to_device(poison((offsets.size, *REST_SHAPE), dtype))
    assert ix.gather_cuda(d_src, cuda.to_device(offsets), REST_SHAPE, REST_STRIDES,
                          out=out) is out
    expected = ix.gather_cpu(src, offsets, REST_SHAPE, REST_STRIDES)
    np.testing.assert_array_equal(out.copy_to_host(), expected)
    assert not np.any(expected[2:7])                 # out-of-range rows are zeros


def test_gather_allocates_rest_empty_and_b_zero():
    src = np.arange(10, dtype=np.float32)
    offsets = np.array([9, 0, 10, -1, 3], np.int64)
    out = ix.gather_cuda(cuda.to_device(src), cuda.to_device(offsets), (), ())
    np.testing.assert_array_equal(out.copy_to_host(), [9, 0, 0, 0, 3])
    empty = ix.gather_cuda(cuda.to_device(src), cuda.to_device(np.zeros(0, np.int64)), (2,), (1,))
    assert empty.shape == (0, 2)


@pytest.mark.parametrize("dtype,accumulate", [(np.float32, False), (np.int64, False),
                                              (np.int32, False), (np.bool_, False),
                                              (np.float32, True), (np.int64, True)],
                         ids=["float32-set", "int64-set", "int32-set", "bool-set",
                              "float32-accumulate", "int64-accumulate"])
def test_scatter(dtype, accumulate, stride):
    rng = np.random.default_rng(2)
    offsets = offsets_with_trouble(rng, 12)
    src = values(rng, offsets.size * 84, dtype).reshape(offsets.size, *REST_SHAPE)
    dst = values(rng, SIZE, dtype)
    fill = True if dtype == np.bool_ else 99
    d_big, d_dst = in_buffer(dst, 64, fill)
    assert ix.scatter_cuda(d_dst, cuda.to_device(offsets), REST_SHAPE, REST_STRIDES,
                           cuda.to_device(src), accumulate) is d_dst
    ix.scatter_cpu(dst, offsets, REST_SHAPE, REST_STRIDES, src, accumulate)
    big = d_big.copy_to_host()
    np.testing.assert_array_equal(big[64:64 + SIZE], dst)
    assert np.all(big[:64] == fill) and np.all(big[64 + SIZE:] == fill)


def test_scatter_duplicates_on_contiguous_rows(stride):
    # Many b per offset, rows of 37: a segment's sum runs through one thread per element.
    rng = np.random.default_rng(3)
    offsets = (rng.integers(0, 6, 40) * 37).astype(np.int64)
    src = values(rng, 40 * 37, np.float32).reshape(40, 37)
    for accumulate in (False, True):
        dst = values(rng, 6 * 37, np.float32)
        d_dst = cuda.to_device(dst)
        ix.scatter_cuda(d_dst, cuda.to_device(offsets), (37,), (1,), cuda.to_device(src),
                        accumulate)
        ix.scatter_cpu(dst, offsets, (37,), (1,), src, accumulate)
        np.testing.assert_array_equal(d_dst.copy_to_host(), dst)


# nonzero's blocks synchronise 18 times per chunk, which the simulator makes slow (about a
# second per 256-thread block): few launches, each still covering the cases.
def test_nonzero_partial_block():
    rng = np.random.default_rng(4)
    for mask in (np.zeros(300, np.bool_), rng.random(300) < 0.3, np.ones(300, np.bool_)):
        out = ix.nonzero_cuda(cuda.to_device(mask))
        np.testing.assert_array_equal(out.copy_to_host(), ix.nonzero_cpu(mask))


def test_nonzero_chunks_grid_stride(monkeypatch):
    # 3 chunks (the last one partial) on 2 blocks: block 0 also takes chunk 2, so the chunk
    # starts, the in-chunk prefix sums and the block-stride loop all matter.
    monkeypatch.setattr(ix, "MAX_BLOCKS", 2)
    mask = np.random.default_rng(5).random(2 * ix.CHUNK + 333) < 0.3
    mask[ix.CHUNK - 1:ix.CHUNK + 1] = True          # Trues on both sides of a chunk boundary
    expected = ix.nonzero_cpu(mask)
    given = cuda.to_device(poisoned((expected.size,), np.int64))
    assert ix.nonzero_cuda(cuda.to_device(mask), out=given) is given
    np.testing.assert_array_equal(given.copy_to_host(), expected)


def test_cuda_launchers_reject_bad_input():
    d = cuda.to_device
    src, offsets = np.zeros(20, np.float32), np.array([0, 5], np.int64)
    with pytest.raises(TypeError, match="gather_cuda: src must be a device array"):
        ix.gather_cuda(src, d(offsets), (5,), (1,))
    with pytest.raises(TypeError, match="gather_cuda: offsets must be a device array"):
        ix.gather_cuda(d(src), offsets, (5,), (1,))
    with pytest.raises(ValueError, match="gather_cuda: out has shape"):
        ix.gather_cuda(d(src), d(offsets), (5,), (1,), out=d(np.zeros((2, 4), np.float32)))
    with pytest.raises(ValueError, match="gather_cuda: rest_shape .* more than 4"):
        ix.gather_cuda(d(src), d(offsets), (1,) * 5, (0,) * 5)
    with pytest.raises(TypeError, match="scatter_cuda: src must be a device array"):
        ix.scatter_cuda(d(src), d(offsets), (5,), (1,), np.ones((2, 5), np.float32), True)
    with pytest.raises(TypeError, match="scatter_cuda: src is int64"):
        ix.scatter_cuda(d(src), d(offsets), (5,), (1,), d(np.ones((2, 5), np.int64)), True)
    with pytest.raises(TypeError, match="scatter_cuda: accumulate"):
        ix.scatter_cuda(d(np.zeros(20, np.bool_)), d(offsets), (5,), (1,),
                        d(np.ones((2, 5), np.bool_)), True)
    with pytest.raises(TypeError, match="nonzero_cuda: mask must be a device array"):
        ix.nonzero_cuda(np.ones(3, np.bool_))
    with pytest.raises(ValueError, match="nonzero_cuda: out has shape"):
        ix.nonzero_cuda(d(np.ones(3, np.bool_)), out=d(np.zeros(2, np.int64)))
