"""Reductions of a strided 4-D view over its last two dims: sum, max, min, argmax, argmin.

    reduce_cpu(op, x, out=None)     the @njit CPU twin (NumPy arrays)
    reduce_cuda(op, x, out=None)    the CUDA launcher (numba device arrays)

    op   R_SUM, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN (0 ... 4)
    x    (K0, K1, R0, R1), float32 or int64, any non-negative strides: zero strides (broadcast
         views) and non-contiguous views made by kernels/_views.as_strided included
    out  (K0, K1), C-contiguous, allocated when None; x's dtype for SUM/MAX/MIN, int64 for
         ARGMAX/ARGMIN. out[k0, k1] = the reduction over every (r0, r1) of x[k0, k1, r0, r1].
         Returned.

The engine sends every reduction through this one shape: the kept dims become (K0, K1) and the
reduced ones (R0, R1), with views (a full sum is (1, 1, 1, n); a channel sum of NCHW is
(1, C, N, H*W) with strides (0, H*W, C*H*W, 1)).

Semantics (PyTorch's):
  - ARGMAX/ARGMIN give the flat index r0*R1 + r1 of the FIRST extreme element (ties go to the
    smallest index). A NaN counts as the extreme, and the first NaN wins (torch.argmax).
  - MAX/MIN propagate NaN: any NaN in the reduced set gives NaN.
  - float32 SUM is deterministic: the same bits run to run and on any number of CPU threads.
    The CPU accumulates in float64 over chunks whose boundaries depend only on the shape, and
    adds the chunks' partials in a fixed order; the GPU adds in float32 over block trees of a
    fixed shape, with no atomics. int64 SUM wraps around.
  - An empty reduced range (R0*R1 == 0): SUM gives 0, the others raise ValueError. No outputs
    (K0*K1 == 0): out is returned empty, nothing is launched.
  - Bad input (not an array, wrong rank or dtype, out of the wrong shape or dtype or not
    contiguous, a host array to the CUDA launcher or a device array to the CPU twin, an unknown
    op code, negative strides) raises TypeError/ValueError naming the op, the argument and the
    shapes, before any kernel runs.

Layout. Both twins first simplify the view: kept dims that step as one become one dim, and so
do reduced dims; for SUM/MAX/MIN (which do not care about the order) the reduced dim with the
smaller stride goes innermost. Then each picks a strategy from the strides:

  CPU  rows     one task per (output, chunk of CPU_CHUNK reduced elements), walking runs of r1
                (a contiguous run is summed by a vectorised loop). The default.
       columns  when the kept dim is contiguous and r1 is not (a sum over dim 0 of a matrix):
                one task per (CPU_COLUMNS neighbouring outputs, chunk of reduced elements),
                adding each row of the block into a vector of sums, reading rows contiguously.
       Chunks split every long reduction, whatever the number of outputs: the boundaries then
       depend on the shape alone, never on the thread count. With more than one chunk the
       chunks' partials are combined in order by a second parallel loop.
  CUDA rows     one block of THREADS per (output, chunk): threads stride along the flat reduced
                index, so a warp reads 32 consecutive r1 (coalesced when r1 is contiguous),
                then a shared-memory tree. The default, for reductions of a block or longer.
       columns  one block per (32 consecutive outputs, chunk): thread (col, lane) folds output
                col over the lane-th of every COLUMN_LANES reduced elements, so a warp reads 32
                consecutive k1 (coalesced when k1 is contiguous), then a tree over the lanes.
                When k1 is contiguous and r1 is not, and for reductions shorter than a block.
       Outputs too few to fill the GPU split their reduced range into chunks (a number fixed by
       the shape); a finish kernel then folds each output's partials with a tree of a fixed
       shape (the smallest power of two of threads that covers them, up to a block).
       Every kernel loops grid-stride over its tasks, on a grid capped at MAX_BLOCKS blocks.
"""
import numbers

import numpy as np
from numba import cuda, int64, njit, prange

from . import _views
from ._checks import ceil_div, check_array, check_device, check_host, output, run_cpu
from ._registry import Twins, cuda_kernel

R_SUM, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN = 0, 1, 2, 3, 4
OP_NAMES = ("sum", "max", "min", "argmax", "argmin")

VERSIONS = (1,)
DEFAULT_VERSION = 1

FLOAT32, INT64 = np.dtype(np.float32), np.dtype(np.int64)
DTYPES = (FLOAT32, INT64)

# CUDA geometry.
THREADS = 256            # threads of every reduction block
COLUMN_OUTPUTS = 32      # columns kernel: outputs per block, one warp wide
COLUMN_LANES = THREADS // COLUMN_OUTPUTS   # columns kernel: threads sharing one output
# Blocks a launch aims at when its outputs alone are too few to fill the GPU (an H200 holds
# 132 SMs x 8 blocks of 256 threads at once); the reduced range is then cut into chunks, but
# never into chunks shorter than these (each thread folds at least 16 elements).
GPU_BLOCKS = 2048
ROWS_MIN_CHUNK = THREADS * 16
COLUMNS_MIN_CHUNK = COLUMN_LANES * 16
# Cap on the grid: larger launches are covered by grid-stride loops. Tests lower it.
MAX_BLOCKS = 4096

# CPU tasks. Fixed sizes: float sums must not depend on the thread count.
CPU_CHUNK = 16384        # rows: reduced elements per task
CPU_COLUMNS = 4096       # columns: outputs per task (runs of up to 16 KiB of float32 per row)
CPU_COLUMN_TASK = 1 << 20   # columns: elements per task (256 rows of 4096 outputs)
SCAN_BLOCK = 64          # max/min scans: elements tested at once before a one-by-one scan

_JIT = dict(parallel=True, cache=True, error_model="numpy")


# ================================================================ formulas shared by the twins
# Compiled for the CPU as called functions and inlined into the CUDA kernels (numba compiles an
# @njit function for the GPU by inlining it; see map_ops.py).

@njit(inline="always")
def _is_max(op):
    return op == R_MAX or op == R_ARGMAX


@njit(inline="always")
def _wins(op, w, j, v, i):
    """Whether element w at flat index j beats v at index i (both real elements) for a
    max-like (MAX, ARGMAX) or min-like op: a NaN beats any number, the first of two NaNs wins,
    and of two equal values the first wins. A total order: any fold order gives one answer."""
    if w != w:
        return v == v or j < i
    if v != v:
        return False
    if w == v:
        return j < i
    return (w > v) == _is_max(op)


@njit(inline="always")
def _fold(op, v, i, w, j):
    """(v, i) and (w, j) folded into one (value, flat index) pair. An index of -1 marks an
    empty pair (a thread that had no element); SUM carries no index and adds the values."""
    if op == R_SUM:
        return v + w, i
    if j < 0:
        return v, i
    if i < 0 or _wins(op, w, j, v, i):
        return w, j
    return v, i


@njit(inline="always")
def _advance(r0, r1, step, n1):
    """(r0, r1) moved on by `step` flat positions in rows of n1: a division only on a wrap."""
    r1 += step
    if r1 >= n1:
        r0 += r1 // n1
        r1 = r1 % n1
    return r0, r1


# ================================================================ layouts

def _canonical(shape, strides, reorder):
    """(shape, strides) of the same reduction with dims merged: kept dims that step as one
    become one (K0 = 1), and so do reduced dims (R0 = 1); size-1 dims go outermost. With
    `reorder` (an op blind to the order: SUM, MAX, MIN) the reduced dim with the smaller stride
    goes innermost first, so that a transposed view is still read along its rows. Merging keeps
    the flat indices k0*K1 + k1 and r0*R1 + r1, so outputs and argmax indices do not move."""
    k0, k1, r0, r1 = shape
    t0, t1, t2, t3 = strides
    if k1 == 1:
        k0, k1, t0, t1 = 1, k0, 0, t0
    elif k0 > 1 and t0 == k1 * t1:
        k0, k1, t0, t1 = 1, k0 * k1, 0, t1
    if reorder and r0 > 1 and r1 > 1 and t2 < t3:
        r0, r1, t2, t3 = r1, r0, t3, t2
    if r1 == 1:
        r0, r1, t2, t3 = 1, r0, 0, t2
    elif r0 > 1 and t2 == r1 * t3:
        r0, r1, t2, t3 = 1, r0 * r1, 0, t3
    return (k0, k1, r0, r1), (t0, t1, t2, t3)


def _span(shape, strides):
    """Elements from a view's first element to its last, inclusive."""
    return 1 + sum((n - 1) * s for n, s in zip(shape, strides))


# ================================================================ CUDA kernels
# Every kernel writes a (value, flat index) pair per (output k, chunk c) through _store, into
# vals[k, c] and idxs[k, c]: the partials when a reduction is cut into chunks (both arrays
# (K, chunks)), or the result (the array that is `out`, viewed (K, 1); the other a 1 x 1
# stand-in, never written).

def _sigs(*arrays):
    """One signature per dtype T: '(int32 op, <arrays with T substituted>, int64)'."""
    return [f"void(int32, {', '.join(a.replace('T', t) for a in arrays)})"
            for t in ("float32", "int64")]


@cuda.jit(device=True, inline="always")
def _store(op, vals, idxs, k, c, v, i):
    """Indices only for ARGMAX/ARGMIN; values for the others, and for every partial (when
    idxs holds partials, the finish kernel needs their values to compare)."""
    if op >= R_ARGMAX:
        idxs[k, c] = i
    if op < R_ARGMAX or idxs.shape[1] > 1:
        vals[k, c] = v


@cuda.jit(device=True, inline="always")
def _tree_fold(op, sv, si, tid, lane, count, spacing):
    """Fold each group of `count` (a power of two) pairs in shared memory, sv[t + m*spacing]
    for m < count, into its first, sv[t], si[t]; thread tid holds its group's pair m = lane.
    The pairing order is fixed (no atomics): the result is the same run to run. Every thread
    of the block must call it."""
    cuda.syncthreads()
    step = count // 2
    while step > 0:
        if lane < step:
            other = tid + step * spacing
            v, i = _fold(op, sv[tid], si[tid], sv[other], si[other])
            sv[tid] = v
            si[tid] = i
        cuda.syncthreads()
        step //= 2


@cuda.jit(device=True, inline="always")
def _fold_walk(op, x, k0, k1, r, stop, step, acc, acc_i):
    """(acc, acc_i) folded with x[k0, k1, r0, r1] at the flat reduced indices r, r + step, ...
    below stop. Four loads are issued before any is used: one load in flight per thread is too
    little to reach a GPU's memory bandwidth. SUM has a loop of its own, its four loads feeding
    one add tree; the other ops fold the four in index order."""
    n1 = x.shape[3]
    r0 = r // n1
    r1 = r - r0 * n1
    while r + 3 * step < stop:
        b0, b1 = _advance(r0, r1, step, n1)
        c0, c1 = _advance(b0, b1, step, n1)
        d0, d1 = _advance(c0, c1, step, n1)
        va = x[k0, k1, r0, r1]
        vb = x[k0, k1, b0, b1]
        vc = x[k0, k1, c0, c1]
        vd = x[k0, k1, d0, d1]
        if op == R_SUM:
            acc += (va + vb) + (vc + vd)
        else:
            acc, acc_i = _fold(op, acc, acc_i, va, r)
            acc, acc_i = _fold(op, acc, acc_i, vb, r + step)
            acc, acc_i = _fold(op, acc, acc_i, vc, r + 2 * step)
            acc, acc_i = _fold(op, acc, acc_i, vd, r + 3 * step)
        r0, r1 = _advance(d0, d1, step, n1)
        r += 4 * step
    while r < stop:
        acc, acc_i = _fold(op, acc, acc_i, x[k0, k1, r0, r1], r)
        r0, r1 = _advance(r0, r1, step, n1)
        r += step
    return acc, acc_i


@cuda_kernel(*_sigs("T[:, :, :, :]", "T[:, ::1]", "int64[:, ::1]", "int64"))
def _rows_kernel(op, x, vals, idxs, chunk):
    """Task (k, c): output k over the flat reduced range [c*chunk, (c+1)*chunk), one block;
    thread t folds indices t, t + THREADS, ... (consecutive threads, consecutive r1)."""
    n_k1 = x.shape[1]
    n_k = x.shape[0] * n_k1
    n_r = x.shape[2] * x.shape[3]
    n_chunks = (n_r + chunk - 1) // chunk
    tid = cuda.threadIdx.x
    sv = cuda.shared.array(THREADS, x.dtype)
    si = cuda.shared.array(THREADS, int64)
    for task in range(cuda.blockIdx.x, n_k * n_chunks, cuda.gridDim.x):
        k = task // n_chunks
        c = task - k * n_chunks
        k0 = k // n_k1
        start = c * chunk
        acc, acc_i = _fold_walk(op, x, k0, k - k0 * n_k1, start + tid, min(n_r, start + chunk),
                                THREADS, x.dtype.type(0), int64(-1))
        sv[tid] = acc
        si[tid] = acc_i
        _tree_fold(op, sv, si, tid, tid, THREADS, 1)
        if tid == 0:
            _store(op, vals, idxs, k, c, sv[0], si[0])


@cuda_kernel(*_sigs("T[:, :, :, :]", "T[:, ::1]", "int64[:, ::1]", "int64"))
def _columns_kernel(op, x, vals, idxs, chunk):
    """Task (g, c): outputs k = 32g ... 32g + 31 over the flat reduced range [c*chunk,
    (c+1)*chunk), one block; thread (col, lane) folds output 32g + col at indices lane,
    lane + COLUMN_LANES, ... (a warp is one lane: consecutive threads, consecutive k1)."""
    n_k1 = x.shape[1]
    n_k = x.shape[0] * n_k1
    n_r = x.shape[2] * x.shape[3]
    n_chunks = (n_r + chunk - 1) // chunk
    n_groups = (n_k + COLUMN_OUTPUTS - 1) // COLUMN_OUTPUTS
    tid = cuda.threadIdx.x
    lane = tid // COLUMN_OUTPUTS
    sv = cuda.shared.array(THREADS, x.dtype)
    si = cuda.shared.array(THREADS, int64)
    for task in range(cuda.blockIdx.x, n_groups * n_chunks, cuda.gridDim.x):
        g = task // n_chunks
        c = task - g * n_chunks
        k = g * COLUMN_OUTPUTS + (tid - lane * COLUMN_OUTPUTS)
        acc = x.dtype.type(0)
        acc_i = int64(-1)
        if k < n_k:
            k0 = k // n_k1
            start = c * chunk
            acc, acc_i = _fold_walk(op, x, k0, k - k0 * n_k1, start + lane,
                                    min(n_r, start + chunk), COLUMN_LANES, acc, acc_i)
        sv[tid] = acc
        si[tid] = acc_i
        _tree_fold(op, sv, si, tid, lane, COLUMN_LANES, COLUMN_OUTPUTS)
        if lane == 0 and k < n_k:
            _store(op, vals, idxs, k, c, sv[tid], si[tid])


@cuda_kernel(*_sigs("T[:, ::1]", "int64[:, ::1]", "T[:, ::1]", "int64[:, ::1]", "int64"))
def _finish_kernel(op, pvals, pidx, vals, idxs, lanes):
    """Each output k from its partials pvals[k, :] (and, for ARGMAX/ARGMIN, their indices
    pidx): a block folds THREADS // lanes outputs, `lanes` (a power of two) neighbouring
    threads per output striding over its partials, then a tree per output. The chunks are in
    index order, so for SUM/MAX/MIN the chunk number serves as the index that breaks ties."""
    n_k, n_p = pvals.shape
    tid = cuda.threadIdx.x
    lane = tid % lanes
    per_block = THREADS // lanes
    sv = cuda.shared.array(THREADS, pvals.dtype)
    si = cuda.shared.array(THREADS, int64)
    for group in range(cuda.blockIdx.x, (n_k + per_block - 1) // per_block, cuda.gridDim.x):
        k = group * per_block + tid // lanes
        acc = pvals.dtype.type(0)
        acc_i = int64(-1)
        if k < n_k:
            for p in range(lane, n_p, lanes):
                j = pidx[k, p] if op >= R_ARGMAX else p
                acc, acc_i = _fold(op, acc, acc_i, pvals[k, p], j)
        sv[tid] = acc
        si[tid] = acc_i
        _tree_fold(op, sv, si, tid, lane, lanes, 1)
        if lane == 0 and k < n_k:
            _store(op, vals, idxs, k, 0, sv[tid], si[tid])


def _cuda_plan(shape, strides):
    """(kernel, chunk) for a canonical view: the strategy, and the reduced elements per block
    task (the whole range when the outputs alone fill the GPU). Depends on the shape only."""
    n_k, n_r = shape[0] * shape[1], shape[2] * shape[3]
    if (strides[1] == 1 and strides[3] != 1) or n_r < THREADS:
        # k1 coalesces (r1 does not), or a rows block would leave threads idle
        kernel, tasks, min_chunk = "columns", ceil_div(n_k, COLUMN_OUTPUTS), COLUMNS_MIN_CHUNK
    else:
        # r1 coalesces, or neither does and the range is long: chunks give parallelism
        kernel, tasks, min_chunk = "rows", n_k, ROWS_MIN_CHUNK
    chunks = max(1, min(ceil_div(GPU_BLOCKS, tasks), ceil_div(n_r, min_chunk)))
    return kernel, ceil_div(n_r, chunks)


_CUDA = {"rows": _rows_kernel, "columns": _columns_kernel}


def _pow2_at_least(n):
    return 1 << max(0, (int(n) - 1).bit_length())


def _targets(op, out2, dtype):
    """(vals, idxs) for a kernel writing results: out2 is one of them, a stand-in the other."""
    if op >= R_ARGMAX:
        return cuda.device_array((1, 1), dtype), out2
    return out2, cuda.device_array((1, 1), INT64)


def _run_cuda(op, view, out):
    """Launch the plan's kernel on a canonical view (and the finish kernel over partials)."""
    kernel, chunk = _cuda_plan(view.shape, _views.element_strides(view))
    n_k, n_r = view.shape[0] * view.shape[1], view.shape[2] * view.shape[3]
    n_chunks = ceil_div(n_r, chunk)
    tasks = n_k if kernel == "rows" else ceil_div(n_k, COLUMN_OUTPUTS)
    targets = _targets(op, out.reshape(n_k, 1), view.dtype)
    if n_chunks == 1:
        vals, idxs = targets
    else:
        vals = cuda.device_array((n_k, n_chunks), view.dtype)
        idxs = cuda.device_array((n_k, n_chunks) if op >= R_ARGMAX else (1, 1), INT64)
    _CUDA[kernel][min(tasks * n_chunks, MAX_BLOCKS), THREADS](
        np.int32(op), view, vals, idxs, np.int64(chunk))
    if n_chunks > 1:
        lanes = min(THREADS, _pow2_at_least(n_chunks))
        blocks = min(ceil_div(n_k, THREADS // lanes), MAX_BLOCKS)
        _finish_kernel[blocks, THREADS](np.int32(op), vals, idxs, *targets, np.int64(lanes))


# ================================================================ CPU twins
# They read x through `flat`, a 1-D contiguous view from x's first element to its last, with
# element strides as plain integers, and read each contiguous run through a slice indexed by a
# range variable: LLVM then knows the index is non-negative and vectorises. (Indexing
# flat[off + j], or a 4-D array of runtime strides, costs a negative-index check per element
# and no vectors: 4x slower.) Each task writes its (value, index) straight to out when a
# reduction is one chunk, else to the partials pvals[c, k], pidx[c, k] (float64 values for
# float32 x: the sums' accumulator type; indices only for ARGMAX/ARGMIN: the chunk number
# breaks MAX/MIN's ties). Partials are stored chunk-major, so that a columns task writes its
# outputs' partials contiguously.

@njit(inline="always")
def _final(op, out, k, v, i):
    if op >= R_ARGMAX:
        out[k] = i
    else:
        out[k] = v


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum_segment(flat, off, n, step, zero):
    """Sum of flat[off + j*step], j < n, in the accumulator type of `zero`.

    Only this loop may reassociate (fastmath "reassoc", nothing that changes NaN or inf): LLVM
    then vectorises it with its own fixed set of partial sums (4 x 4 doubles on AVX2), 4x
    faster than the strict one-by-one order. That order is compiled in and depends on n alone,
    not on the thread count or the data's alignment (LLVM does not peel loops to align them;
    the tests check both)."""
    acc = zero
    if step == 1:
        seg = flat[off:off + n]
        for j in range(n):
            acc += seg[j]
    else:
        for j in range(n):
            acc += flat[off + j * step]
    return acc


@njit(inline="always")
def _beats(is_max, v, best):
    """v is larger (smaller) than best, or NaN; best is never NaN."""
    return not v <= best if is_max else not v >= best


@njit(cache=True, error_model="numpy")
def _extreme_run(is_max, seg):
    """(value, j) of the first extreme of the contiguous run seg (size >= 1): the first NaN if
    there is one, else the first largest or smallest. Blocks of SCAN_BLOCK elements are first
    tested for any element that beats the best so far (an OR of comparisons, which vectorises);
    only the blocks that pass, rare on most data, are scanned one element at a time."""
    best = seg[0]
    at = 0
    if best != best:
        return best, at
    for j0 in range(1, seg.size, SCAN_BLOCK):
        block = seg[j0:j0 + SCAN_BLOCK]
        hit = False
        if is_max:
            for j in range(block.size):
                hit = hit | (block[j] > best) | (block[j] != block[j])
        else:
            for j in range(block.size):
                hit = hit | (block[j] < best) | (block[j] != block[j])
        if hit:
            for j in range(block.size):
                v = block[j]
                if _beats(is_max, v, best):
                    best, at = v, j0 + j
                    if v != v:
                        return best, at      # the first NaN: nothing later can win
    return best, at


@njit(cache=True, error_model="numpy")
def _extreme_strided(is_max, flat, off, n, step):
    """_extreme_run over flat[off + j*step], j < n, one element at a time."""
    best = flat[off]
    at = 0
    if best != best:
        return best, at
    for j in range(1, n):
        v = flat[off + j * step]
        if _beats(is_max, v, best):
            best, at = v, j
            if v != v:
                break
    return best, at


@njit(cache=True, error_model="numpy")
def _fold_range(op, flat, base, start, stop, n1, s2, s3, zero):
    """(value, index) of the flat reduced range [start, stop) of the output at `base`: runs of
    r1 within one r0, one after the other."""
    acc = zero
    acc_i = -1
    r0 = start // n1
    r1 = start - r0 * n1
    r = start
    while r < stop:
        n = min(n1 - r1, stop - r)
        off = base + r0 * s2 + r1 * s3
        if op == R_SUM:
            acc += _sum_segment(flat, off, n, s3, zero)
        else:
            if s3 == 1:
                v, j = _extreme_run(_is_max(op), flat[off:off + n])
            else:
                v, j = _extreme_strided(_is_max(op), flat, off, n, s3)
            if acc_i < 0 or _wins(op, v, r + j, acc, acc_i):
                acc, acc_i = v, r + j
            if acc != acc:
                break                # the first NaN: nothing later can win
        r += n
        r0 += 1
        r1 = 0
    return acc, acc_i


@njit(**_JIT)
def _rows_cpu(op, flat, shape, strides, chunk, out, pvals, pidx):
    """Task (k, c): output k over the flat reduced range [c*chunk, (c+1)*chunk). Tasks are
    numbered chunk-major, so that neighbouring tasks read neighbouring memory when outputs
    interleave within the reduced rows (a channel sum of NCHW)."""
    n_k1, n1 = shape[1], shape[3]
    n_k, n_r = shape[0] * n_k1, shape[2] * n1
    n_chunks = pvals.shape[0]
    zero = pvals.dtype.type(0)
    for task in prange(n_k * n_chunks):
        c = task // n_k
        k = task - c * n_k
        base = (k // n_k1) * strides[0] + (k % n_k1) * strides[1]
        start = c * chunk
        v, i = _fold_range(op, flat, base, start, min(n_r, start + chunk), n1, strides[2],
                           strides[3], zero)
        if n_chunks == 1:
            _final(op, out, k, v, i)
        else:
            pvals[c, k] = v
            if op >= R_ARGMAX:
                pidx[c, k] = i


@njit(inline="always")
def _takes(is_max, v, a):
    """Whether v replaces the running extreme a (v comes later): v is larger (smaller) or NaN,
    and a is not NaN (the first NaN stays). Bitwise, not short-circuit: a select, no branch."""
    beyond = (v > a) if is_max else (v < a)
    return (a == a) & (beyond | (v != v))


@njit(inline="always")
def _fold_columns(op, acc, idx, row, r):
    """acc[j] (and idx[j], for ARGMAX/ARGMIN) folded with row[j] at flat reduced index r, for
    every j: selects, not branches, so the loops vectorise."""
    is_max = _is_max(op)
    if op == R_SUM:
        for j in range(acc.size):
            acc[j] += row[j]
    elif op < R_ARGMAX:
        for j in range(acc.size):
            acc[j] = row[j] if _takes(is_max, row[j], acc[j]) else acc[j]
    else:
        for j in range(acc.size):
            take = _takes(is_max, row[j], acc[j])
            acc[j] = row[j] if take else acc[j]
            idx[j] = r if take else idx[j]


@njit(**_JIT)
def _columns_cpu(op, flat, shape, strides, chunk, out, pvals, pidx):
    """Task (k0, g, c): outputs k1 in [g*CPU_COLUMNS, (g+1)*CPU_COLUMNS) of row k0 over the
    flat reduced range [c*chunk, (c+1)*chunk). Needs strides[1] == 1: each reduced element's
    run of outputs is contiguous, read whole (rows of up to 16 KiB keep the prefetcher busy)
    into a vector of accumulators."""
    n_k1, n1 = shape[1], shape[3]
    n_r = shape[2] * n1
    n_chunks = pvals.shape[0]
    n_groups = (n_k1 + CPU_COLUMNS - 1) // CPU_COLUMNS
    for task in prange(shape[0] * n_groups * n_chunks):
        g = task // n_chunks
        c = task - g * n_chunks
        k0 = g // n_groups
        j0 = (g - k0 * n_groups) * CPU_COLUMNS
        width = min(CPU_COLUMNS, n_k1 - j0)
        base = k0 * strides[0] + j0
        start = c * chunk
        r0 = start // n1
        r1 = start - r0 * n1
        off = base + r0 * strides[2] + r1 * strides[3]
        acc = flat[off:off + width].astype(pvals.dtype)
        idx = np.full(width if op >= R_ARGMAX else 0, start, np.int64)
        for r in range(start + 1, min(n_r, start + chunk)):
            r0, r1 = _advance(r0, r1, 1, n1)
            off = base + r0 * strides[2] + r1 * strides[3]
            _fold_columns(op, acc, idx, flat[off:off + width], r)
        k = k0 * n_k1 + j0
        if n_chunks == 1 and op >= R_ARGMAX:
            out[k:k + width] = idx
        elif n_chunks == 1:
            out[k:k + width] = acc
        else:
            pvals[c, k:k + width] = acc
            if op >= R_ARGMAX:
                pidx[c, k:k + width] = idx


@njit(**_JIT)
def _finish_cpu(op, out, pvals, pidx):
    """Each output from its chunks' partials, folded in chunk order. Only ARGMAX/ARGMIN have
    pidx; for MAX/MIN the chunk number c serves as the index that breaks ties."""
    for k in prange(pvals.shape[1]):
        v = pvals[0, k]
        i = pidx[0, k] if op >= R_ARGMAX else 0
        for c in range(1, pvals.shape[0]):
            j = pidx[c, k] if op >= R_ARGMAX else c
            if op == R_SUM:
                v += pvals[c, k]
            elif _wins(op, pvals[c, k], j, v, i):
                v, i = pvals[c, k], j
        _final(op, out, k, v, i)


def _cpu_plan(shape, strides):
    """(kernel, chunk) for a canonical view: columns when the kept dim is contiguous and r1
    is not, else rows; chunk: reduced elements per task. Depends on the shape only."""
    if strides[1] == 1 and strides[3] != 1 and shape[1] > 1:
        return _columns_cpu, max(1, CPU_COLUMN_TASK // min(shape[1], CPU_COLUMNS))
    return _rows_cpu, CPU_CHUNK


def _run_cpu(op, x, shape, strides, out):
    """The CPU twin's plan on a canonical (shape, strides) of x, then the partials' fold."""
    kernel, chunk = _cpu_plan(shape, strides)
    n_k, n_r = shape[0] * shape[1], shape[2] * shape[3]
    n_chunks = ceil_div(n_r, chunk)
    acc_dtype = np.float64 if np.dtype(x.dtype) == FLOAT32 else np.int64
    # np.empty maps memory lazily: the partials of a one-chunk reduction, never written, cost
    # nothing.
    pvals = np.empty((n_chunks, n_k), acc_dtype)
    pidx = np.empty((n_chunks if op >= R_ARGMAX else 0, n_k), np.int64)
    flat = _views.as_strided(x, (_span(x.shape, _views.element_strides(x)),), (1,))
    out1 = out.reshape(n_k)
    run_cpu(kernel, n_k * n_r, np.int32(op), flat, tuple(np.int64(n) for n in shape),
            tuple(np.int64(s) for s in strides), np.int64(chunk), out1, pvals, pidx)
    if n_chunks > 1:
        _finish_cpu(np.int32(op), out1, pvals, pidx)


# ================================================================ launchers

def _check_op(name, op):
    if isinstance(op, bool) or not isinstance(op, numbers.Integral):
        raise TypeError(f"{name}: op must be an int code (R_SUM ... R_ARGMIN), got {op!r}")
    if not 0 <= op < len(OP_NAMES):
        raise ValueError(f"{name}: unknown op code {op}; expected 0 ... {len(OP_NAMES) - 1} "
                         f"({', '.join(OP_NAMES)})")
    return int(op)


def _check_x(name, on_device, x):
    """A 4-D float32 or int64 array on the launcher's side of the bus, with non-negative
    strides that are whole elements."""
    check_array(name, "x", x, ndim=4, dtype=None, contiguous=False)
    (check_device if on_device else check_host)(name, "x", x)
    if np.dtype(x.dtype) not in DTYPES:
        raise TypeError(f"{name}: x is {np.dtype(x.dtype).name} (shape {tuple(x.shape)}); "
                        f"expected float32 or int64")
    itemsize = np.dtype(x.dtype).itemsize
    if min(x.strides) < 0 or any(s % itemsize for s in x.strides):
        raise ValueError(f"{name}: x (shape {tuple(x.shape)}) has strides {tuple(x.strides)} "
                         f"bytes; expected non-negative multiples of {itemsize}")


def _reduce(name, on_device, op, x, out):
    """Both twins: every check, then out (allocated after them), then the twin's plan on the
    simplified view; the empty cases launch nothing."""
    op = _check_op(name, op)
    _check_x(name, on_device, x)
    k0, k1, r0, r1 = (int(n) for n in x.shape)
    if r0 * r1 == 0 and op != R_SUM:
        raise ValueError(f"{name}: {OP_NAMES[op]} of an empty range: x has shape "
                         f"{tuple(x.shape)}, reduced dims ({r0}, {r1})")
    out_dtype = INT64 if op >= R_ARGMAX else np.dtype(x.dtype)
    out = output(name, on_device, out, (k0, k1), out_dtype, x=x)
    if k0 * k1 == 0:
        return out
    if r0 * r1 == 0:
        zeros = np.zeros((k0, k1), out_dtype)
        if on_device:
            out.copy_to_device(zeros)
        else:
            out[...] = zeros
        return out
    shape, strides = _canonical(x.shape, _views.element_strides(x), op <= R_MIN)
    if on_device:
        _run_cuda(op, _views.as_strided(x, shape, strides), out)
    else:
        _run_cpu(op, x, shape, strides, out)
    return out


def reduce_cpu(op, x, out=None):
    """out[k0, k1] = op over (r0, r1) of x[k0, k1, r0, r1]; NumPy arrays (module docstring)."""
    return _reduce("reduce_cpu", False, op, x, out)


def reduce_cuda(op, x, out=None):
    """reduce_cpu on numba device arrays."""
    return _reduce("reduce_cuda", True, op, x, out)


OPS = {"reduce": Twins(reduce_cpu, reduce_cuda)}
