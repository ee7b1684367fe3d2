"""reduce_cuda against reduce_cpu, in numba's simulator (or on a GPU with GPUCNN_TEST_GPU=1).

Outputs are poisoned (NaN, or int64's minimum) before each launch, so an output no thread
writes fails. The shapes are tiny but reach every path: the rows and columns kernels, chunked
reductions with their finish kernel, partial blocks (reduced ranges and output groups that do
not fill a block), grid-stride loops over tasks (MAX_BLOCKS = 1, the most tests: one simulated
block per launch), zero strides, int64, NaN and ties.

The simulator runs one OS thread per CUDA thread, about 0.7 s per block of 256: most tests run
with `small` geometry, which lowers the launcher's chunking thresholds (so a few hundred
elements are cut into chunks) and, in the simulator only, the block to 16 threads (4 lanes of
4 outputs for the columns kernel). On a real GPU the block shape is compiled into the kernels,
so there only the launcher's thresholds change. test_full_size_blocks runs the real geometry.
"""
import numpy as np
import pytest
from numba import cuda

from gpucnn.kernels import _views
from gpucnn.kernels import reduce as rd
from tests.cudasim.small_geometry import shrink_reduce_blocks
from tests.helpers import assert_close, poisoned

OPS = (rd.R_SUM, rd.R_MAX, rd.R_MIN, rd.R_ARGMAX, rd.R_ARGMIN)


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setattr(rd, "GPU_BLOCKS", 8)
    monkeypatch.setattr(rd, "ROWS_MIN_CHUNK", 64)
    monkeypatch.setattr(rd, "COLUMNS_MIN_CHUNK", 16)
    shrink_reduce_blocks(monkeypatch)


@pytest.fixture
def one_block(monkeypatch, small):
    """MAX_BLOCKS = 1: every launch runs all its tasks through the kernels' grid-stride loops
    (and costs one simulated block)."""
    monkeypatch.setattr(rd, "MAX_BLOCKS", 1)


def views(base, shape, strides, offset=0):
    """The same strided view of `base` on the host and on the device."""
    return (_views.as_strided(base, shape, strides, offset),
            _views.as_strided(cuda.to_device(base), shape, strides, offset))


def check(op, host, device, what=""):
    """reduce_cuda(op) into a poisoned out equals reduce_cpu(op): exactly, except float sums
    (float32 block trees against float64 chunks), and NaN where the CPU twin has NaN."""
    out_dtype = np.int64 if op >= rd.R_ARGMAX else host.dtype
    out = cuda.to_device(poisoned(host.shape[:2], out_dtype))
    assert rd.reduce_cuda(op, device, out=out) is out
    got, expected = out.copy_to_host(), rd.reduce_cpu(op, host)
    label = f"{rd.OP_NAMES[op]} {what} {host.shape} {host.strides}"
    if op == rd.R_SUM and host.dtype == np.float32:
        assert_close(got, expected, 1e-5, label)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=label)


def data(rng, n, dtype):
    """n values with ties (few distinct values), as float32 or int64."""
    values = rng.integers(-50, 50, size=n)
    return values.astype(dtype) if dtype == np.int64 else (values / 8).astype(np.float32)


# (name, base size, shape, element strides), and the kernel each reaches in the simulator
# (blocks of 16). On a GPU (blocks of 256) reductions shorter than a block go to the columns
# kernel, so there all but rows-chunked do.
CASES = [
    ("rows", 270, (2, 3, 1, 45), (135, 45, 0, 1)),              # rows, partial block
    ("rows-chunked", 300, (1, 1, 3, 100), (0, 0, 100, 1)),      # rows, 5 chunks + finish
    ("unmerged-kept", 240, (3, 2, 5, 8), (8, 120, 24, 1)),      # rows, k0 > 0
    ("transposed-reduced", 240, (1, 4, 10, 6), (0, 60, 1, 10)),  # rows: strided r1 (ARG*),
                                                                # r0, r1 swapped (SUM/MAX/MIN)
    ("columns-dim0", 360, (1, 12, 1, 30), (0, 1, 0, 12)),       # columns, 2 chunks + finish
    ("columns-short", 65, (1, 13, 1, 5), (0, 5, 0, 1)),         # columns, partial group
    ("broadcast-reduced", 3, (1, 3, 4, 50), (0, 1, 0, 0)),      # columns, zero strides, 8 chunks
    ("broadcast-kept", 40, (2, 5, 1, 40), (0, 0, 0, 1)),        # rows, zero kept strides
]
# int64 runs the same kernel code as float32: a sum (wrapping) and an index are enough.
DTYPE_OPS = {np.float32: OPS, np.int64: (rd.R_SUM, rd.R_ARGMIN)}


@pytest.mark.parametrize("dtype", [np.float32, np.int64], ids=["float32", "int64"])
@pytest.mark.parametrize("name,size,shape,strides", CASES, ids=[c[0] for c in CASES])
def test_reduce_matches_cpu(name, size, shape, strides, dtype, one_block):
    rng = np.random.default_rng(size)
    host, device = views(data(rng, size, dtype), shape, strides)
    for op in DTYPE_OPS[dtype]:
        check(op, host, device, name)


@pytest.mark.parametrize("name,size,shape,strides", [CASES[i] for i in (1, 2, 4)],
                         ids=[CASES[i][0] for i in (1, 2, 4)])
def test_one_block_per_task(name, size, shape, strides, small):
    """The default grid: a block per task (and per finish group), no grid-stride loop."""
    rng = np.random.default_rng(size)
    host, device = views(data(rng, size, np.float32), shape, strides)
    for op in (rd.R_SUM, rd.R_ARGMAX):
        check(op, host, device, name)


def test_nan_propagates_and_first_nan_wins(one_block):
    # Output 0 has NaNs at flat indices 7 and 40 (two threads of one chunk: the block tree
    # decides) and 150 (the next chunk: the finish kernel decides), output 1 none, output 2
    # one at its last index. (3 chunks of 100 with `small` geometry.)
    x = (np.arange(3 * 300, dtype=np.float32) % 17).reshape(1, 3, 3, 100)
    flat = x.reshape(3, 300)
    flat[0, [7, 40, 150]] = np.nan
    flat[2, 299] = np.nan
    device = cuda.to_device(x)
    for op in OPS[1:]:
        check(op, x, device, "nan")
    argmax = rd.reduce_cuda(rd.R_ARGMAX, device).copy_to_host()
    assert argmax.tolist() == [[7, int(np.argmax(flat[1])), 299]]


def test_argmax_ties_pick_the_first(one_block):
    # Every element equal: index 0 wins in each output, across chunks and lanes.
    x = np.full((1, 10, 1, 200), 3, np.int64)
    columns = _views.as_strided(x.reshape(200, 10), (1, 10, 1, 200), (0, 1, 0, 10))
    for host in (x, columns):
        device = _views.as_strided(cuda.to_device(np.ascontiguousarray(x)), host.shape,
                                   _views.element_strides(host))
        for op in (rd.R_ARGMAX, rd.R_ARGMIN):
            assert not rd.reduce_cuda(op, device).copy_to_host().any()


def test_full_size_blocks(monkeypatch):
    """The real geometry (256 threads): a rows reduction longer than a block's stride, and a
    columns one with a partial group, each on one block."""
    monkeypatch.setattr(rd, "MAX_BLOCKS", 1)
    rng = np.random.default_rng(7)
    x = data(rng, 700, np.float32)
    check(rd.R_SUM, *views(x, (1, 1, 1, 700), (0, 0, 0, 1)), "rows")
    check(rd.R_ARGMAX, *views(x, (1, 35, 1, 20), (0, 1, 0, 35)), "columns")


def test_allocates_out_and_empty_cases():
    x = np.arange(12, dtype=np.int64).reshape(1, 2, 2, 3)
    x[0, 1] = 2 ** 62                    # output 1: 6 * 2**62 wraps around to -2**63
    out = rd.reduce_cuda(rd.R_SUM, cuda.to_device(x))
    assert out.shape == (1, 2) and out.dtype == np.int64
    assert out.copy_to_host().tolist() == [[15, -2 ** 63]]
    empty_range = cuda.to_device(np.zeros((2, 3, 0, 4), np.float32))
    out = cuda.to_device(poisoned((2, 3)))
    assert rd.reduce_cuda(rd.R_SUM, empty_range, out=out) is out
    assert not out.copy_to_host().any()
    with pytest.raises(ValueError, match="reduce_cuda: argmax"):
        rd.reduce_cuda(rd.R_ARGMAX, empty_range)
    no_outputs = rd.reduce_cuda(rd.R_MAX, cuda.to_device(np.zeros((0, 3, 2, 2), np.float32)))
    assert no_outputs.shape == (0, 3)


def test_rejects_bad_arguments():
    host = np.ones((1, 2, 3, 4), np.float32)
    device = cuda.to_device(host)
    with pytest.raises(TypeError, match="reduce_cuda: x must be a device array"):
        rd.reduce_cuda(rd.R_SUM, host)
    with pytest.raises(TypeError, match="reduce_cpu: x must be a NumPy array"):
        rd.reduce_cpu(rd.R_SUM, device)
    with pytest.raises(TypeError, match="reduce_cuda: out must be a device array"):
        rd.reduce_cuda(rd.R_SUM, device, out=np.empty((1, 2), np.float32))
    with pytest.raises(TypeError, match="reduce_cuda: out must be int64"):
        rd.reduce_cuda(rd.R_ARGMAX, device, out=cuda.device_array((1, 2), np.float32))
    with pytest.raises(ValueError, match=r"reduce_cuda: out has shape \(2, 1\)"):
        rd.reduce_cuda(rd.R_SUM, device, out=cuda.device_array((2, 1), np.float32))
    with pytest.raises(ValueError, match="reduce_cuda: unknown op code 9"):
        rd.reduce_cuda(9, device)
    with pytest.raises(ValueError, match="reduce_cuda: x must be 4-D"):
        rd.reduce_cuda(rd.R_SUM, cuda.to_device(np.ones((2, 3), np.float32)))
