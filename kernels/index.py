"""Advanced indexing: gather (x[idx], x[mask]), scatter (its gradient and __setitem__), nonzero.

The engine turns an index into element offsets into a tensor's storage (one per indexed
position b) plus a "rest" pattern, the shape and element strides of the dims that are not
indexed. These kernels only walk offsets + pattern; they know nothing of tensors.

    gather(src, offsets, rest_shape, rest_strides, out=None)
        out[b, r0, r1, ...] = src[offsets[b] + r0*s0 + r1*s1 + ...]
        src: 1-D C-contiguous storage, float32, int64, int32 or bool. offsets: 1-D
        C-contiguous int64 (B,). rest_shape / rest_strides: at most 4 non-negative ints each
        (element strides; () means one element). out: (B, *rest_shape) C-contiguous of src's
        dtype, allocated when None. Returns out.

    scatter(dst, offsets, rest_shape, rest_strides, src, accumulate)
        dst[offsets[b] + r0*s0 + ...] = src[b, r0, ...]       (accumulate=False)
        dst[offsets[b] + r0*s0 + ...] += src[b, r0, ...]      (accumulate=True)
        dst: 1-D C-contiguous storage, written in place and returned. src: (B, *rest_shape)
        C-contiguous of dst's dtype (float32, int64, int32 or bool; accumulate only for
        float32 and int64). Where several b share one offset, accumulate=False keeps the
        LAST b (largest b), and accumulate=True adds their contributions to dst in increasing
        b order: both are deterministic, bit for bit, whatever the thread count or device
        (no atomics). Distinct offsets must name disjoint regions of dst (the engine
        guarantees it), and the rest pattern must not repeat an element (a zero stride over
        a dim longer than 1 is refused).

    nonzero(mask, out=None)
        the positions of the True elements of a 1-D C-contiguous bool mask, increasing, as a
        1-D int64 array. Given, `out` must be int64 1-D of exactly that count.

Out-of-range offsets. The engine checks indices first and raises IndexError; the kernels are
the safety net. An offset whose pattern would leave the storage (offset < 0, or offset + the
largest rest offset >= storage size) is never used to read or write: gather sets its out
elements to 0, scatter skips it.

How scatter stays deterministic without atomics. The launcher sorts the offsets on the host
(a stable argsort, so equal offsets keep increasing b) and finds the segments of equal
offsets; the CUDA launcher first copies the B offsets to the host for this (B is small: one
batch of indices) and then uploads `order` and the segment starts. One thread (CPU: one
prange task) owns one segment's region of dst: it writes the last b of the segment, or adds
the segment's rows one after another in b order. Since distinct offsets name disjoint regions,
no two threads ever write one element.

How nonzero sizes its output. The result's length depends on the data. The CUDA launcher
counts the True elements of each chunk of CHUNK elements on the device, copies the per-chunk
counts to the host (one small transfer, and a synchronisation, as torch.nonzero makes too),
turns them into chunk starts there, uploads those, and writes the positions in a second
kernel: inside a chunk each thread takes ITEMS consecutive elements and a block-wide prefix
sum of the threads' counts gives each thread its first output slot. The CPU twin counts per
CPU_CHUNK elements in parallel, then writes each chunk's positions in parallel.

Bad input (dtypes, ranks, shapes, non-contiguous arrays, NumPy arrays given to a CUDA launcher
or device arrays to a CPU twin, more than 4 rest dims, negative strides or sizes, src / dst
dtype mismatch, accumulate for bool or int32) raises TypeError / ValueError naming the op and
the argument before any kernel runs.

The CUDA kernels run grid-stride loops over a grid capped at MAX_BLOCKS blocks of THREADS
threads with int64 index arithmetic, one compiled signature per dtype. The CPU twins run
numba prange loops over b (gather), over segments (scatter) or over chunks (nonzero).
"""
import numbers

import numpy as np
from numba import cuda, int32, int64, njit, prange

from . import _views
from ._checks import ceil_div, check_device, check_host, is_c_contiguous
from ._registry import Twins, cuda_kernel

VERSIONS = (1,)
DEFAULT_VERSION = 1

THREADS = 256
# Enough blocks to fill an H100 (132 SMs x 8 blocks of 256) several times over; larger
# problems are covered by the grid-stride loops. Tests lower it to exercise the stride.
MAX_BLOCKS = 4096
MAX_DIMS = 4
# nonzero on CUDA: each thread scans ITEMS consecutive mask elements, so a block covers a
# chunk of CHUNK elements and the host receives one count per 4096 elements.
ITEMS = 16
CHUNK = THREADS * ITEMS
CPU_CHUNK = 1 << 14   # mask elements per task of the CPU nonzero loops

FLOAT32, INT64, INT32, BOOL = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.int32),
                               np.dtype(np.bool_))
DTYPES = (FLOAT32, INT64, INT32, BOOL)
ACCUMULATE_DTYPES = (FLOAT32, INT64)
_TYPE_NAMES = {FLOAT32: "float32", INT64: "int64", INT32: "int32", BOOL: "b1"}


def grid_1d(n: int) -> int:
    return max(1, min(ceil_div(n, THREADS), MAX_BLOCKS))


# ================================================================ checks

def _side(on_device):
    return check_device if on_device else check_host


def _check_array(op, on_device, name, a, dtypes, shape=None):
    """`a` an array on the launcher's side of the bus, of an allowed dtype, C-contiguous,
    1-D or of exactly `shape` when given."""
    if not hasattr(a, "shape") or not hasattr(a, "dtype"):
        raise TypeError(f"{op}: {name} must be an array, got {type(a).__name__}")
    _side(on_device)(op, name, a)
    if np.dtype(a.dtype) not in dtypes:
        raise TypeError(f"{op}: {name} is {np.dtype(a.dtype).name} (shape {tuple(a.shape)}); "
                        f"expected {', '.join(d.name for d in dtypes)}")
    if shape is None and len(a.shape) != 1:
        raise ValueError(f"{op}: {name} must be 1-D, got shape {tuple(a.shape)}")
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise ValueError(f"{op}: {name} has shape {tuple(a.shape)}, expected {tuple(shape)}")
    if not is_c_contiguous(a):
        raise ValueError(f"{op}: {name} must be C-contiguous (shape {tuple(a.shape)}, "
                         f"strides {tuple(a.strides)})")


def _ints(op, name, values):
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"{op}: {name} must be a tuple of ints, got {values!r}")
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{op}: {name} must be a tuple of ints, got {tuple(values)!r}")
    return tuple(int(v) for v in values)


def _check_rest(op, rest_shape, rest_strides, writes):
    """The rest pattern as tuples of Python ints: at most MAX_DIMS dims, sizes and strides
    non-negative; a pattern that is written (scatter) must not repeat an element."""
    shape = _ints(op, "rest_shape", rest_shape)
    strides = _ints(op, "rest_strides", rest_strides)
    if len(shape) != len(strides):
        raise ValueError(f"{op}: rest_shape {shape} and rest_strides {strides} differ in length")
    if len(shape) > MAX_DIMS:
        raise ValueError(f"{op}: rest_shape {shape} has more than {MAX_DIMS} dims")
    if min(shape, default=0) < 0 or min(strides, default=0) < 0:
        raise ValueError(f"{op}: rest_shape {shape} and rest_strides {strides} must be "
                         f"non-negative")
    if writes and 0 not in shape and any(s == 0 and n > 1 for n, s in zip(shape, strides)):
        raise ValueError(f"{op}: rest_strides {strides} (rest_shape {shape}) repeat an element "
                         f"of dst; write into a real array")
    return shape, strides


def _pattern(shape, strides, storage_size):
    """(rest size, 4-D shape, 4-D strides, limit) for the kernels: the dims coalesced where
    they walk memory as one (fewer divisions per element; the flat order of the rest elements
    is unchanged), padded in front to 4 with size-1 dims. An offset is in range exactly when
    0 <= offset <= limit = storage size - 1 - the pattern's largest offset (compared that
    way, a huge offset cannot overflow)."""
    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    span = sum((n - 1) * s for n, s in zip(shape, strides) if n > 0)
    limit = storage_size - 1 - span
    shape, (strides,) = _views.coalesce(shape, strides)
    pad = MAX_DIMS - len(shape)
    return size, (1,) * pad + shape, (0,) * pad + strides, np.int64(limit)


def _check_accumulate(op, accumulate, dtype):
    if not isinstance(accumulate, (bool, np.bool_)):
        raise TypeError(f"{op}: accumulate must be a bool, got {accumulate!r}")
    if accumulate and dtype not in ACCUMULATE_DTYPES:
        raise TypeError(f"{op}: accumulate=True needs float32 or int64 dst and src, got "
                        f"{dtype.name}")
    return bool(accumulate)


def _segments(offsets):
    """(order, seg) of host offsets: order a stable argsort (equal offsets keep increasing b),
    seg the S + 1 bounds of the runs of equal offsets in sorted order."""
    order = np.argsort(offsets, kind="stable").astype(np.int64)
    ordered = offsets[order]
    starts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    seg = np.concatenate(([0], starts, [offsets.size])).astype(np.int64)
    return order, seg


# ================================================================ CUDA kernels
# Rest patterns travel as two 4-tuples of int64 (shape, strides): scalars in the launch's
# parameter buffer, not arrays that each cost a pointer and a descriptor to pass.

@cuda.jit(device=True, inline="always")
def _rest_offset(r, shape, strides):
    """The storage offset of rest element r (flat, C order) of the 4-D pattern. 64-bit
    divisions are dear on a GPU: a remainder comes from its quotient, and once the quotient
    is 0 the outer indices are all 0 (always so for a rest coalesced to one dim)."""
    q = r // shape[3]
    offset = (r - q * shape[3]) * strides[3]
    if q == 0:
        return offset
    r = q
    q = r // shape[2]
    offset += (r - q * shape[2]) * strides[2]
    r = q
    q = r // shape[1]
    offset += (r - q * shape[1]) * strides[1]
    return offset + q * strides[0]


_PATTERN = "UniTuple(int64, 4), UniTuple(int64, 4)"


def _gather_sig(t):
    # src, offsets, out (flat), rest size, limit, rest shape, rest strides
    return f"void({t}[::1], int64[::1], {t}[::1], int64, int64, {_PATTERN})"


@cuda_kernel(*(_gather_sig(_TYPE_NAMES[d]) for d in DTYPES))
def _gather_kernel(src, offsets, out, rest_size, limit, shape, strides):
    # One thread per out element: consecutive threads write consecutive out elements.
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b = i // rest_size
        off = offsets[b]
        if off < 0 or off > limit:
            out[i] = 0           # out of range: not read (two stores keep float32 float32)
        else:
            out[i] = src[off + _rest_offset(i - b * rest_size, shape, strides)]


def _scatter_sig(t):
    # dst, offsets, order, seg, src (flat), rest size, limit, rest shape, rest strides
    return (f"void({t}[::1], int64[::1], int64[::1], int64[::1], {t}[::1], int64, int64, "
            f"{_PATTERN})")


@cuda.jit(device=True, inline="always")
def _segment_element(i, offsets, order, seg, rest_size, limit, shape, strides):
    """(segment s, rest element r, dst position) of scatter thread index i; the position is
    -1 where the segment's offset is out of range (dst is then not touched)."""
    s = i // rest_size
    r = i - s * rest_size
    off = offsets[order[seg[s]]]
    if off < 0 or off > limit:
        return s, r, int64(-1)
    return s, r, off + _rest_offset(r, shape, strides)


@cuda_kernel(*(_scatter_sig(_TYPE_NAMES[d]) for d in DTYPES))
def _scatter_set_kernel(dst, offsets, order, seg, src, rest_size, limit, shape, strides):
    # One thread per (segment, rest element): it alone writes that element of dst, with the
    # segment's last b (the largest: the argsort is stable).
    for i in range(cuda.grid(1), (seg.size - 1) * rest_size, cuda.gridsize(1)):
        s, r, pos = _segment_element(i, offsets, order, seg, rest_size, limit, shape, strides)
        if pos >= 0:
            dst[pos] = src[order[seg[s + 1] - 1] * rest_size + r]


@cuda_kernel(*(_scatter_sig(_TYPE_NAMES[d]) for d in ACCUMULATE_DTYPES))
def _scatter_add_kernel(dst, offsets, order, seg, src, rest_size, limit, shape, strides):
    # As _scatter_set_kernel, adding the segment's rows to dst in increasing b order: the
    # same sequence of roundings as the CPU twin, whatever the grid.
    for i in range(cuda.grid(1), (seg.size - 1) * rest_size, cuda.gridsize(1)):
        s, r, pos = _segment_element(i, offsets, order, seg, rest_size, limit, shape, strides)
        if pos >= 0:
            acc = dst[pos]
            for k in range(seg[s], seg[s + 1]):
                acc += src[order[k] * rest_size + r]
            dst[pos] = acc


@cuda.jit(device=True, inline="always")
def _block_scan(scan, t, value):
    """(exclusive prefix sum of `value` over the block's threads up to t, block total).
    Hillis-Steele in shared memory; every thread of the block must call it."""
    cuda.syncthreads()           # earlier readers of `scan` are done
    scan[t] = value
    cuda.syncthreads()
    step = 1
    while step < THREADS:
        add = scan[t - step] if t >= step else 0
        cuda.syncthreads()
        scan[t] += add
        cuda.syncthreads()
        step *= 2
    return scan[t] - value, scan[THREADS - 1]


@cuda.jit(device=True, inline="always")
def _thread_count(mask, first):
    """True elements among mask[first : first + ITEMS] (clipped to the mask)."""
    count = 0
    for j in range(first, min(first + ITEMS, mask.size)):
        if mask[j]:
            count += 1
    return count


@cuda_kernel("void(b1[::1], int32[::1])")
def _nonzero_count_kernel(mask, counts):
    # Block-stride loop over chunks: the loop bounds depend on the block only, so every
    # thread of a block reaches every syncthreads of _block_scan.
    scan = cuda.shared.array(THREADS, int32)
    t = cuda.threadIdx.x
    for c in range(cuda.blockIdx.x, counts.size, cuda.gridDim.x):
        first = int64(c) * CHUNK + t * ITEMS
        _, total = _block_scan(scan, t, int32(_thread_count(mask, first)))
        if t == 0:
            counts[c] = total


@cuda_kernel("void(b1[::1], int64[::1], int64[::1])")
def _nonzero_write_kernel(mask, chunk_starts, out):
    # Thread t of chunk c writes the positions of its ITEMS elements from out slot
    # chunk_starts[c] + (True elements before it in the chunk): positions stay increasing.
    scan = cuda.shared.array(THREADS, int32)
    t = cuda.threadIdx.x
    for c in range(cuda.blockIdx.x, chunk_starts.size, cuda.gridDim.x):
        first = int64(c) * CHUNK + t * ITEMS
        before, _ = _block_scan(scan, t, int32(_thread_count(mask, first)))
        slot = chunk_starts[c] + before
        for j in range(first, min(first + ITEMS, mask.size)):
            if mask[j]:
                out[slot] = j
                slot += 1


# ================================================================ CPU twins
# prange over b (gather), over segments (scatter) or over chunks (nonzero); the rest pattern
# is walked by four nested loops, innermost the last dim (contiguous after coalescing when
# the rest is contiguous, so the copy is a plain loop that numba vectorises).

_JIT = dict(parallel=True, cache=True, error_model="numpy")


# How _walk_row moves the elements of one row (a constant at each call site, so after
# inlining the compiler keeps only that branch of the innermost loop).
_GATHER, _SET, _ADD = 0, 1, 2


@njit(inline="always")
def _walk_row(storage, off, flat, j, shape, strides, mode):
    """Walks the rest pattern from storage offset `off` alongside flat[j], flat[j + 1], ...:
    _GATHER: flat[j + r] = storage[off + pattern(r)]; _SET: storage[off + pattern(r)] =
    flat[j + r]; _ADD: storage[off + pattern(r)] += flat[j + r], for every rest element r."""
    n0, n1, n2, n3 = shape
    s0, s1, s2, s3 = strides
    for i0 in range(n0):
        for i1 in range(n1):
            for i2 in range(n2):
                p = off + i0 * s0 + i1 * s1 + i2 * s2
                for i3 in range(n3):
                    if mode == _GATHER:
                        flat[j] = storage[p + i3 * s3]
                    elif mode == _SET:
                        storage[p + i3 * s3] = flat[j]
                    else:
                        storage[p + i3 * s3] += flat[j]
                    j += 1


@njit(**_JIT)
def _gather_cpu(src, offsets, out, rest_size, limit, shape, strides):
    for b in prange(offsets.size):
        off = offsets[b]
        j = b * rest_size
        if off < 0 or off > limit:
            for k in range(rest_size):
                out[j + k] = 0
        else:
            _walk_row(src, off, out, j, shape, strides, _GATHER)


@njit(**_JIT)
def _scatter_set_cpu(dst, offsets, order, seg, src, rest_size, limit, shape, strides):
    for s in prange(seg.size - 1):
        off = offsets[order[seg[s]]]
        if off >= 0 and off <= limit:
            _walk_row(dst, off, src, order[seg[s + 1] - 1] * rest_size, shape, strides, _SET)


@njit(**_JIT)
def _scatter_add_cpu(dst, offsets, order, seg, src, rest_size, limit, shape, strides):
    # Rows one after another in b order: each dst element sees the same additions, in the
    # same order, as in the CUDA kernel's per-element loop.
    for s in prange(seg.size - 1):
        off = offsets[order[seg[s]]]
        if off >= 0 and off <= limit:
            for k in range(seg[s], seg[s + 1]):
                _walk_row(dst, off, src, order[k] * rest_size, shape, strides, _ADD)


@njit(**_JIT)
def _nonzero_count_cpu(mask, counts):
    for c in prange(counts.size):
        count = 0
        for j in range(c * CPU_CHUNK, min((c + 1) * CPU_CHUNK, mask.size)):
            if mask[j]:
                count += 1
        counts[c] = count


@njit(**_JIT)
def _nonzero_write_cpu(mask, chunk_starts, out):
    for c in prange(chunk_starts.size):
        slot = chunk_starts[c]
        for j in range(c * CPU_CHUNK, min((c + 1) * CPU_CHUNK, mask.size)):
            if mask[j]:
                out[slot] = j
                slot += 1


# ================================================================ launchers

def _flat(a):
    return a.reshape(a.size)


def _gather(op, on_device, src, offsets, rest_shape, rest_strides, out):
    _check_array(op, on_device, "src", src, DTYPES)
    _check_array(op, on_device, "offsets", offsets, (INT64,))
    shape, strides = _check_rest(op, rest_shape, rest_strides, writes=False)
    out_shape = (offsets.shape[0], *shape)
    dtype = np.dtype(src.dtype)
    if out is None:
        out = cuda.device_array(out_shape, dtype) if on_device else np.empty(out_shape, dtype)
    else:
        _check_array(op, on_device, "out", out, (dtype,), out_shape)
    if out.size == 0:
        return out
    rest_size, shape4, strides4, limit = _pattern(shape, strides, src.size)
    args = (src, offsets, _flat(out), np.int64(rest_size), limit, shape4, strides4)
    if on_device:
        _gather_kernel[grid_1d(out.size), THREADS](*args)
    else:
        _gather_cpu(*args)
    return out


def _scatter(op, on_device, dst, offsets, rest_shape, rest_strides, src, accumulate):
    _check_array(op, on_device, "dst", dst, DTYPES)
    _check_array(op, on_device, "offsets", offsets, (INT64,))
    shape, strides = _check_rest(op, rest_shape, rest_strides, writes=True)
    dtype = np.dtype(dst.dtype)
    _check_array(op, on_device, "src", src, (dtype,), (offsets.shape[0], *shape))
    accumulate = _check_accumulate(op, accumulate, dtype)
    if src.size == 0:
        return dst
    rest_size, shape4, strides4, limit = _pattern(shape, strides, dst.size)
    # The sort runs on the host: B offsets down, order and segment bounds up (B is small).
    order, seg = _segments(offsets.copy_to_host() if on_device else offsets)
    n_segments = seg.size - 1
    if on_device:
        order, seg = cuda.to_device(order), cuda.to_device(seg)
    args = (dst, offsets, order, seg, _flat(src), np.int64(rest_size), limit, shape4, strides4)
    if on_device:
        kernel = _scatter_add_kernel if accumulate else _scatter_set_kernel
        kernel[grid_1d(n_segments * rest_size), THREADS](*args)
    else:
        (_scatter_add_cpu if accumulate else _scatter_set_cpu)(*args)
    return dst


def _nonzero(op, on_device, mask, out):
    _check_array(op, on_device, "mask", mask, (BOOL,))
    if out is not None:
        _check_array(op, on_device, "out", out, (INT64,))
    n = mask.size
    chunk = CHUNK if on_device else CPU_CHUNK
    n_chunks = ceil_div(n, chunk)
    if on_device and n:
        d_counts = cuda.device_array(n_chunks, np.int32)
        _nonzero_count_kernel[max(1, min(n_chunks, MAX_BLOCKS)), THREADS](mask, d_counts)
        counts = d_counts.copy_to_host()     # the one device-to-host copy that sizes out
    else:
        counts = np.zeros(n_chunks, np.int32)
        if n:
            _nonzero_count_cpu(mask, counts)
    ends = np.cumsum(counts, dtype=np.int64)
    total = int(ends[-1]) if n else 0
    if out is None:
        out = cuda.device_array(total, np.int64) if on_device else np.empty(total, np.int64)
    elif out.shape[0] != total:
        raise ValueError(f"{op}: out has shape {tuple(out.shape)}, but mask (shape "
                         f"{tuple(mask.shape)}) holds {total} True elements")
    if total == 0:
        return out
    starts = ends - counts                     # exclusive prefix sum: each chunk's first slot
    if on_device:
        _nonzero_write_kernel[max(1, min(n_chunks, MAX_BLOCKS)), THREADS](
            mask, cuda.to_device(starts), out)
    else:
        _nonzero_write_cpu(mask, starts, out)
    return out


def gather_cpu(src, offsets, rest_shape, rest_strides, out=None):
    """out[b, r...] = src[offsets[b] + sum(r_k * rest_strides[k])]; out-of-range offsets give
    zeros. src 1-D storage (float32, int64, int32, bool), offsets 1-D int64."""
    return _gather("gather_cpu", False, src, offsets, rest_shape, rest_strides, out)


def gather_cuda(src, offsets, rest_shape, rest_strides, out=None):
    return _gather("gather_cuda", True, src, offsets, rest_shape, rest_strides, out)


def scatter_cpu(dst, offsets, rest_shape, rest_strides, src, accumulate):
    """dst[offsets[b] + pattern(r)] = (or +=) src[b, r], in place; duplicates: last b wins, or
    sums in b order. Out-of-range offsets are skipped. Returns dst."""
    return _scatter("scatter_cpu", False, dst, offsets, rest_shape, rest_strides, src,
                    accumulate)


def scatter_cuda(dst, offsets, rest_shape, rest_strides, src, accumulate):
    """As scatter_cpu; copies the B offsets to the host to sort them (a synchronisation)."""
    return _scatter("scatter_cuda", True, dst, offsets, rest_shape, rest_strides, src,
                    accumulate)


def nonzero_cpu(mask, out=None):
    """The positions of mask's True elements (1-D bool), increasing, as int64."""
    return _nonzero("nonzero_cpu", False, mask, out)


def nonzero_cuda(mask, out=None):
    """As nonzero_cpu; copies one count per CHUNK elements to the host to size out."""
    return _nonzero("nonzero_cuda", True, mask, out)


OPS = {
    "gather": Twins(gather_cpu, gather_cuda),
    "scatter": Twins(scatter_cpu, scatter_cuda),
    "nonzero": Twins(nonzero_cpu, nonzero_cuda),
}
