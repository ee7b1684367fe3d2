"""The CPU convolutions: im2col lowering around BLAS sgemm, in two pipelines.

    per image   each thread lowers a cache-sized block of one image into a buffer of its own
                and multiplies it there, inside one parallel loop (the usual case)
    batched     one column matrix and one big sgemm for the whole batch (1x1 convolutions,
                which need no lowering, and a BLAS without cblas_sgemm)

`pipeline(geo)` picks one; the tests run every case through both. conv2d.py checks the
arguments and calls `forward`, `backward_data` or `backward_weight` here.

Column layout. For a run of `nb` images starting at image n0, the column matrix is
cols[(c, r, s), (j, p, q)] of shape (C*R*S, nb*P*Q): row (c, r, s) holds, for every image j of
the run and every output position (p, q), the input value tap (r, s) of channel c meets there
(zero in the padding). A block of output rows [p0, p1) has nb*(p1-p0)*Q columns instead. A
group's rows are one contiguous block, so a group's product is one sgemm on a row slice. "Rows"
arrays hold a (K, nb*P*Q) output (or its gradient) in the same column order.

Why per image. The batched pipeline builds one column matrix for the batch (19 MB for a
batch-64 CIFAR layer), multiplies it and converts the output between (K, N*P*Q) and NCHW:
each pass streams the matrix through DRAM and hands the cores from numba's threads to BLAS's
and back, measured 20-60% on top of the sgemm on 2 cores. Per image, one image's columns
(295 KB for that layer) stay in the core's cache while BLAS multiplies them on the same thread,
called from inside the loop (_cblas.py), and an image's (K, P*Q) product already is its NCHW
output. OpenBLAS runs a 64x288x256 product at the rate of a 64x288x16384 one (measured).

Blocks. A large image (a 720x960 photo's columns are 75 MB) is cut so that its columns stay
near BLOCK_FLOATS, and a batch smaller than the thread count is cut until every thread has
work. Forward and weight gradient cut an image by output rows; the data gradient by input
channels, because output-row blocks overlap on the input (their receptive fields).

Threads. numba's parallel loops and OpenBLAS's threads are two pools that starve each other
when both spin (a LeNet conv step took hundreds of ms instead of ~3 ms on 2 cores): BLAS runs
single-threaded inside these loops (_blas.single_threaded), and numba's OpenMP workers spin
only briefly (gpucnn/process_settings.py).

Determinism. Forward and data-gradient outputs have one writer per element, summed in a fixed
order. The weight gradient is summed over fixed chunks of the batch (WEIGHT_GRAD_CHUNKS, not
the thread count), each chunk's partial kept apart and the partials added in chunk order: the
same bits on 1 thread or 16.

The loops work on flat views with unsigned (uint64) indices. With a signed index numba guards
every access for negative (wrap-around) indexing, and that guard stops LLVM from vectorising: a
signed copy loop ran at a fifth of memcpy speed, an unsigned one at memcpy speed. Everything
inside the run helpers stays uint64, since numba turns uint64 mixed with int64 into float64.
"""
import numba
import numpy as np
from numba import njit, prange

from . import _blas as blas
from ._cblas import gemm, sgemm_function
from ._checks import ceil_div

# Columns per block (1 MB of float32): a CIFAR layer's image is one block, a photo is many.
BLOCK_FLOATS = 1 << 18


def pipeline(geo) -> str:
    """'per_image' unless the convolution is 1x1 (nothing to lower) or NumPy's BLAS exports
    no cblas_sgemm."""
    if geo.is_pointwise or sgemm_function() is None:
        return "batched"
    return "per_image"


# ================================================================ data movement (serial helpers)

@njit(inline="always")
def _valid_range(pad, offset, stride, size, count):
    """Output indices o in [lo, hi) with 0 <= o*stride - pad + offset < size (hi >= lo)."""
    lo = -((offset - pad) // stride)            # ceil((pad - offset) / stride)
    hi = -((offset - pad - size) // stride)     # ceil((size + pad - offset) / stride)
    lo = min(max(lo, 0), count)
    hi = min(max(hi, lo), count)
    return lo, hi


@njit(inline="always")
def _zero(dst, start, count):
    d = np.uint64(start)
    for i in range(np.uint64(count)):
        dst[d + i] = 0.0


@njit(inline="always")
def _transfer(cols, col_start, image, image_start, image_step, count, add_to_image):
    """Column entries cols[col_start + i] and image values image[image_start + i*image_step],
    i < count, are the same pairs in both directions: im2col copies each image value into its
    entry, col2im (add_to_image) adds each entry onto its image value. A unit step gets a copy
    of the loop of its own, contiguous on both sides, which LLVM vectorises."""
    if image_step == 1:
        _transfer_loop(cols, col_start, image, image_start, 1, count, add_to_image)
    else:
        _transfer_loop(cols, col_start, image, image_start, image_step, count, add_to_image)


@njit(inline="always")
def _transfer_loop(cols, col_start, image, image_start, image_step, count, add_to_image):
    c = np.uint64(col_start)
    x = np.uint64(image_start)
    step = np.uint64(image_step)
    for i in range(np.uint64(count)):
        if add_to_image:
            image[x + i * step] += cols[c + i]
        else:
            cols[c + i] = image[x + i * step]


@njit(inline="always")
def _is_unit_stride(geo):
    return geo.sh == 1 and geo.sw == 1 and geo.dh == 1 and geo.dw == 1


@njit(inline="always")
def _is_flat(geo):
    """Stride 1 and an output as wide as the input: the *_flat helpers apply."""
    return geo.sh == 1 and geo.sw == 1 and geo.q == geo.w


@njit(inline="always")
def _im2col_row(xf, geo, steps, row, n0, nb, p0, p1, cf):
    """Column row `row` = (c, r, s) for output rows [p0, p1) of images n0..n0+nb of x (flat
    NCHW) into cf: flat (C*R*S, nb, (p1-p0)*Q) columns. `steps` is (sh, sw, dh, dw): the
    callers pass the constant (1, 1, 1, 1) where it applies, and since this is inlined, that
    compiles a copy with the unit steps folded in (contiguous copies, no step multiplies;
    measured about 0.4 ms faster per batch-64 CIFAR layer than the general copy)."""
    sh, sw, dh, dw = steps
    q_size = geo.q
    width = (p1 - p0) * q_size
    hw = geo.h * geo.w
    c = row // (geo.r * geo.s)
    r = (row // geo.s) % geo.r
    s = row % geo.s
    p_lo, p_hi = _valid_range(geo.pt, r * dh, sh, geo.h, geo.p)
    p_lo = min(max(p_lo, p0), p1)
    p_hi = min(max(p_hi, p_lo), p1)
    q_lo, q_hi = _valid_range(geo.pl, s * dw, sw, geo.w, q_size)
    for j in range(nb):
        base = (row * nb + j) * width - p0 * q_size     # line p starts at base + p*Q
        # Padding is written as zeros here, never read from x.
        _zero(cf, base + p0 * q_size, (p_lo - p0) * q_size)
        for p in range(p_lo, p_hi):
            o = base + p * q_size
            src = ((n0 + j) * geo.c + c) * hw + (p * sh - geo.pt + r * dh) * geo.w + s * dw \
                - geo.pl
            _zero(cf, o, q_lo)
            _transfer(cf, o + q_lo, xf, src + q_lo * sw, sw, q_hi - q_lo, add_to_image=False)
            _zero(cf, o + q_hi, q_size - q_hi)
        _zero(cf, base + p_hi * q_size, (p1 - p_hi) * q_size)


@njit(inline="always")
def _flat_span(geo, r, s, p0, p1):
    """For a stride-1 convolution whose output is as wide as its input (Q == W, "same"
    padding), output position i = p*Q + q of tap (r, s) reads input position i + offset, so
    the valid outputs [p_lo, p_hi) x [q_lo, q_hi) with p in [p0, p1) lie in one span [i0, i1)
    of the flat plane that is copied in one go. Returns (offset, i0, i1, p_lo, p_hi, q_lo,
    q_hi); i0 == i1 == p0*Q when the tap meets no input there."""
    q_size = geo.q
    p_lo, p_hi = _valid_range(geo.pt, r * geo.dh, 1, geo.h, geo.p)
    p_lo = min(max(p_lo, p0), p1)
    p_hi = min(max(p_hi, p_lo), p1)
    q_lo, q_hi = _valid_range(geo.pl, s * geo.dw, 1, geo.w, q_size)
    offset = (r * geo.dh - geo.pt) * geo.w + s * geo.dw - geo.pl
    if p_lo >= p_hi or q_lo >= q_hi:
        return offset, p0 * q_size, p0 * q_size, p_lo, p_hi, q_lo, q_hi
    return offset, p_lo * q_size + q_lo, (p_hi - 1) * q_size + q_hi, p_lo, p_hi, q_lo, q_hi


@njit(inline="always")
def _zero_wrapped(dst, base, q_size, p_lo, p_hi, q_lo, q_hi):
    """Zero the positions inside a flat span that lie left of q_lo or right of q_hi on their
    line: the span ran over them from one input row into the next, and they are padding."""
    for p in range(p_lo, p_hi):
        line = base + p * q_size
        if p > p_lo:
            _zero(dst, line, q_lo)
        if p < p_hi - 1:
            _zero(dst, line + q_hi, q_size - q_hi)


@njit(inline="always")
def _im2col_row_flat(xf, geo, row, n0, nb, p0, p1, cf):
    """_im2col_row for stride 1 and Q == W: one contiguous copy per image instead of one per
    output line (a 16-wide line costs about as much to set up as to copy)."""
    q_size = geo.q
    width = (p1 - p0) * q_size
    c = row // (geo.r * geo.s)
    r = (row // geo.s) % geo.r
    s = row % geo.s
    offset, i0, i1, p_lo, p_hi, q_lo, q_hi = _flat_span(geo, r, s, p0, p1)
    for j in range(nb):
        base = (row * nb + j) * width - p0 * q_size     # flat position i lands at base + i
        plane = ((n0 + j) * geo.c + c) * geo.h * geo.w
        _zero(cf, base + p0 * q_size, i0 - p0 * q_size)
        if i1 > i0:
            _transfer(cf, base + i0, xf, plane + i0 + offset, 1, i1 - i0, add_to_image=False)
            _zero_wrapped(cf, base, q_size, p_lo, p_hi, q_lo, q_hi)
        _zero(cf, base + i1, p1 * q_size - i1)


@njit(inline="always")
def _col2im_plane_flat(dcf, geo, j, nb, c, dxf, plane_start):
    """_col2im_plane for stride 1 and Q == W: one contiguous add per tap. The wrapped-over
    padding positions of the column rows are zeroed first, so dcf (scratch) is changed."""
    pq = geo.p * geo.q
    _zero(dxf, plane_start, geo.h * geo.w)
    for r in range(geo.r):
        for s in range(geo.s):
            offset, i0, i1, p_lo, p_hi, q_lo, q_hi = _flat_span(geo, r, s, 0, geo.p)
            if i1 > i0:
                base = (((c * geo.r + r) * geo.s + s) * nb + j) * pq
                _zero_wrapped(dcf, base, geo.q, p_lo, p_hi, q_lo, q_hi)
                _transfer(dcf, base + i0, dxf, plane_start + i0 + offset, 1, i1 - i0,
                          add_to_image=True)


@njit(inline="always")
def _col2im_plane(dcf, geo, steps, j, nb, c, dxf, plane_start):
    """dx plane (image n0+j, channel c), starting at dxf[plane_start], = the sum of the column
    rows (c, r, s) that land on it, for a run of nb images. One plane has one writer, and its
    R*S rows are added in a fixed order: the result does not depend on the thread count."""
    sh, sw, dh, dw = steps
    q_size = geo.q
    pq = geo.p * q_size
    _zero(dxf, plane_start, geo.h * geo.w)
    for r in range(geo.r):
        p_lo, p_hi = _valid_range(geo.pt, r * dh, sh, geo.h, geo.p)
        for s in range(geo.s):
            q_lo, q_hi = _valid_range(geo.pl, s * dw, sw, geo.w, q_size)
            row = (c * geo.r + r) * geo.s + s
            for p in range(p_lo, p_hi):
                dst = plane_start + (p * sh - geo.pt + r * dh) * geo.w + q_lo * sw + s * dw \
                    - geo.pl
                src = (row * nb + j) * pq + p * q_size + q_lo
                _transfer(dcf, src, dxf, dst, sw, q_hi - q_lo, add_to_image=True)


@njit(inline="always")
def _lower(xf, geo, n0, nb, p0, p1, cf):
    """Every column row of output rows [p0, p1) of images n0..n0+nb, through the fastest
    helper that applies."""
    rows = geo.c * geo.r * geo.s
    if _is_flat(geo):
        for row in range(rows):
            _im2col_row_flat(xf, geo, row, n0, nb, p0, p1, cf)
    elif _is_unit_stride(geo):
        for row in range(rows):
            _im2col_row(xf, geo, (1, 1, 1, 1), row, n0, nb, p0, p1, cf)
    else:
        for row in range(rows):
            _im2col_row(xf, geo, (geo.sh, geo.sw, geo.dh, geo.dw), row, n0, nb, p0, p1, cf)


@njit(inline="always")
def _raise(dcf, geo, n, nb, j, c0, c1, first_row_channel, dxf):
    """dx planes c0..c1 of image n = col2im of column rows whose channel c is stored as row
    channel c - first_row_channel; dcf (scratch) is changed."""
    hw = geo.h * geo.w
    if _is_flat(geo):
        for c in range(c0, c1):
            _col2im_plane_flat(dcf, geo, j, nb, c - first_row_channel, dxf, (n * geo.c + c) * hw)
    elif _is_unit_stride(geo):
        for c in range(c0, c1):
            _col2im_plane(dcf, geo, (1, 1, 1, 1), j, nb, c - first_row_channel, dxf,
                          (n * geo.c + c) * hw)
    else:
        for c in range(c0, c1):
            _col2im_plane(dcf, geo, (geo.sh, geo.sw, geo.dh, geo.dw), j, nb,
                          c - first_row_channel, dxf, (n * geo.c + c) * hw)


# ================================================================ the per-image pipeline

def blocks_per_image(n, units, floats_per_unit, threads):
    """How many blocks to cut each image's `units` (output rows or input channels) into: few
    enough that a block holds about BLOCK_FLOATS column entries, and, when the batch has fewer
    images than threads, enough that every thread gets one."""
    blocks = ceil_div(units * floats_per_unit, BLOCK_FLOATS)
    if n < threads:
        blocks = max(blocks, ceil_div(threads, n))
    return max(1, min(blocks, units))


@njit(inline="always")
def _thread_items(t, threads, items):
    return t * items // threads, (t + 1) * items // threads


@njit(inline="always")
def _lowered_block(xf, geo, item, rows, buffer):
    """Work item -> (n, p0, p1, cols): output rows [p0, p1) of image n, lowered into the front
    of buffer as cols (C*R*S, (p1-p0)*Q)."""
    blocks = (geo.p + rows - 1) // rows
    n = item // blocks
    p0 = (item % blocks) * rows
    p1 = min(p0 + rows, geo.p)
    width = (p1 - p0) * geo.q
    crs = geo.c * geo.r * geo.s
    cols = buffer[:crs * width].reshape(crs, width)
    _lower(xf, geo, n, 1, p0, p1, cols.reshape(cols.size))
    return n, p0, p1, cols


@njit(parallel=True, cache=True)
def _forward_per_image(sgemm, x, w2, b, has_bias, geo, rows, y3, col_buffers):
    """y3 (N, K, PQ) = conv(x, w2 (K, Cg*R*S)) + b, in blocks of `rows` output rows."""
    kg, cgrs = geo.k // geo.groups, w2.shape[1]
    pq = geo.p * geo.q
    blocks = (geo.p + rows - 1) // rows
    xf = x.reshape(x.size)
    threads = col_buffers.shape[0]
    for t in prange(threads):
        first, last = _thread_items(t, threads, geo.n * blocks)
        for item in range(first, last):
            n, p0, p1, cols = _lowered_block(xf, geo, item, rows, col_buffers[t])
            width = cols.shape[1]
            y = y3[n]
            for g in range(geo.groups):
                # y[group rows, block columns] = w2[group rows] @ cols[group rows]
                gemm(sgemm, False, False, kg, width, cgrs, w2[g * kg:], cgrs, cols[g * cgrs:],
                     width, 0.0, y[g * kg:, p0 * geo.q:], pq)
            if has_bias:
                for k in range(geo.k):
                    y[k, p0 * geo.q:p1 * geo.q] += b[k]


@njit(parallel=True, cache=True)
def _backward_data_per_image(sgemm, dy3, w2, geo, channels, dx, col_buffers):
    """dx (N, C, H, W) from dy3 (N, K, PQ) and w2 (K, Cg*R*S), in blocks of `channels` input
    channels within a group."""
    kg, cgrs = geo.k // geo.groups, w2.shape[1]
    rs = geo.r * geo.s
    pq = geo.p * geo.q
    blocks = (geo.cg + channels - 1) // channels         # per group
    dxf = dx.reshape(dx.size)
    threads = col_buffers.shape[0]
    for t in prange(threads):
        first, last = _thread_items(t, threads, geo.n * geo.groups * blocks)
        for item in range(first, last):
            n = item // (geo.groups * blocks)
            g = (item // blocks) % geo.groups
            first_c = (item % blocks) * channels       # within the group
            count = min(channels, geo.cg - first_c)
            dcols = col_buffers[t][:count * rs * pq].reshape(count * rs, pq)
            # dcols = (the block's columns of w2[group rows])^T @ dy[group rows]
            gemm(sgemm, True, False, count * rs, pq, kg, w2[g * kg:, first_c * rs:], cgrs,
                 dy3[n, g * kg:], pq, 0.0, dcols, pq)
            c0 = g * geo.cg + first_c
            _raise(dcols.reshape(dcols.size), geo, n, 1, 0, c0, c0 + count, c0, dxf)


@njit(parallel=True, cache=True)
def _backward_weight_per_image(sgemm, x, dy3, geo, rows, partials, col_buffers):
    """partials[i] (K, Cg*R*S) = the weight gradient of work items [i*I/C, (i+1)*I/C) of the
    I = N * blocks (image, block of `rows` output rows) items, C = len(partials) chunks; the
    caller adds the partials in order."""
    kg, cgrs = geo.k // geo.groups, partials.shape[2]
    pq = geo.p * geo.q
    items = geo.n * ((geo.p + rows - 1) // rows)
    xf = x.reshape(x.size)
    threads = col_buffers.shape[0]
    chunks = partials.shape[0]
    for t in prange(threads):
        first_chunk, last_chunk = _thread_items(t, threads, chunks)
        for chunk in range(first_chunk, last_chunk):
            partial = partials[chunk]
            first, last = _thread_items(chunk, chunks, items)
            if first == last:
                partial[:] = 0.0
            for item in range(first, last):
                n, p0, p1, cols = _lowered_block(xf, geo, item, rows, col_buffers[t])
                width = cols.shape[1]
                dy = dy3[n]
                for g in range(geo.groups):
                    # partial[group rows] (+)= dy[group rows, block columns] @ cols[group]^T
                    gemm(sgemm, False, True, kg, cgrs, width, dy[g * kg:, p0 * geo.q:], pq,
                         cols[g * cgrs:], width, 0.0 if item == first else 1.0,
                         partial[g * kg:], cgrs)


def _rows_per_block(geo, threads):
    """Output rows per block for forward and weight gradient."""
    crs = geo.c * geo.r * geo.s
    return ceil_div(geo.p, blocks_per_image(geo.n, geo.p, crs * geo.q, threads))


def _column_buffers(geo, rows, threads):
    return np.empty((threads, geo.c * geo.r * geo.s * rows * geo.q), np.float32)


def _channel_blocks(geo, threads):
    """Input channels per block for the data gradient, and the column buffers."""
    rs, pq = geo.r * geo.s, geo.p * geo.q
    blocks = blocks_per_image(geo.n * geo.groups, geo.cg, rs * pq, threads)
    channels = ceil_div(geo.cg, blocks)
    return channels, np.empty((threads, channels * rs * pq), np.float32)


# The weight gradient is summed in chunks fixed by the shapes, never by the thread count, so
# that "same seed, same result" holds on any number of threads (see Determinism): its blocks
# are cut as for WEIGHT_GRAD_CHUNKS threads, into at most that many chunks, fewer where their
# partial sums would pass PARTIAL_FLOATS (64 MB) together.
WEIGHT_GRAD_CHUNKS = 16
PARTIAL_FLOATS = 1 << 24


# ================================================================ the batched pipeline

@njit(parallel=True, cache=True)
def _im2col_batch(x, geo, cols):
    xf = x.reshape(x.size)
    cf = cols.reshape(cols.size)
    for row in prange(cols.shape[0]):
        steps = (geo.sh, geo.sw, geo.dh, geo.dw)
        _im2col_row(xf, geo, steps, row, 0, geo.n, 0, geo.p, cf)


@njit(parallel=True, cache=True)
def _col2im_batch(dcols, geo, dx):
    dcf = dcols.reshape(dcols.size)
    dxf = dx.reshape(dx.size)
    hw = geo.h * geo.w
    for plane in prange(geo.n * geo.c):
        steps = (geo.sh, geo.sw, geo.dh, geo.dw)
        _col2im_plane(dcf, geo, steps, plane // geo.c, geo.n, plane % geo.c, dxf, plane * hw)


@njit(parallel=True, cache=True)
def _rows_to_images(y_rows, b, has_bias, y):
    """y[n, k, :] = y_rows[k, n*PQ:(n+1)*PQ] (+ b[k])."""
    n_size, k_size, pq = y.shape
    yf = y.reshape(y.size)
    rf = y_rows.reshape(y_rows.size)
    for plane in prange(n_size * k_size):
        k = plane % k_size
        bias = b[k] if has_bias else np.float32(0.0)
        d = np.uint64(plane * pq)
        s = np.uint64((k * n_size + plane // k_size) * pq)
        for i in range(np.uint64(pq)):
            yf[d + i] = rf[s + i] + bias


@njit(parallel=True, cache=True)
def _images_to_rows(dy, dy_rows):
    """dy_rows[k, n*PQ:(n+1)*PQ] = dy[n, k, :]."""
    n_size, k_size, pq = dy.shape
    df = dy.reshape(dy.size)
    rf = dy_rows.reshape(dy_rows.size)
    for plane in prange(n_size * k_size):
        _transfer(rf, ((plane % k_size) * n_size + plane // k_size) * pq, df, plane * pq, 1, pq,
                  add_to_image=False)


@njit(parallel=True, cache=True)
def _add_bias(y, b):
    n_size, k_size, pq = y.shape
    yf = y.reshape(y.size)
    for plane in prange(n_size * k_size):
        d = np.uint64(plane * pq)
        for i in range(np.uint64(pq)):
            yf[d + i] += b[plane % k_size]


def _columns(x, geo):
    cols = np.empty((geo.c * geo.r * geo.s, geo.n * geo.p * geo.q), np.float32)
    _im2col_batch(x, geo, cols)
    return cols


def _dy_rows(dy, geo):
    dy_rows = np.empty((geo.k, geo.n * geo.p * geo.q), np.float32)
    _images_to_rows(dy.reshape(geo.n, geo.k, geo.p * geo.q), dy_rows)
    return dy_rows


def _by_group(a, groups):
    """(groups*rows, cols) -> (groups, rows, cols): the batch dimension np.matmul loops over."""
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


def _forward_batched(x, w, b, geo, out):
    g, kg, pq = geo.groups, geo.k // geo.groups, geo.p * geo.q
    if geo.is_pointwise:
        # The input (N, C, H*W) already is a batch of column matrices.
        y = out.reshape(geo.n, g, kg, pq)
        blas.matmul(w.reshape(g, kg, geo.cg), x.reshape(geo.n, g, geo.cg, pq), out=y)
        if b is not None:
            _add_bias(out.reshape(geo.n, geo.k, pq), b)
        return out
    cols = _columns(x, geo)
    y_rows = np.empty((geo.k, cols.shape[1]), np.float32)
    blas.matmul(_by_group(w.reshape(geo.k, -1), g), _by_group(cols, g), out=_by_group(y_rows, g))
    has_bias = b is not None
    _rows_to_images(y_rows, b if has_bias else y_rows[0], has_bias,
                    out.reshape(geo.n, geo.k, pq))
    return out


def _backward_data_batched(dy, w, geo, out):
    g, kg, cg = geo.groups, geo.k // geo.groups, geo.cg
    w_by_group = w.reshape(g, kg, cg * geo.r * geo.s)
    if geo.is_pointwise:
        hw = geo.h * geo.w
        blas.matmul(w_by_group.transpose(0, 2, 1), dy.reshape(geo.n, g, kg, hw),
                    out=out.reshape(geo.n, g, cg, hw))
        return out
    dy_rows = _dy_rows(dy, geo)
    dcols = np.empty((geo.c * geo.r * geo.s, dy_rows.shape[1]), np.float32)
    blas.matmul(w_by_group.transpose(0, 2, 1), _by_group(dy_rows, g), out=_by_group(dcols, g))
    _col2im_batch(dcols, geo, out)
    return out


def _backward_weight_batched(x, dy, geo, out):
    g = geo.groups
    cols = _columns(x, geo)
    dy_rows = _dy_rows(dy, geo)
    blas.matmul(_by_group(dy_rows, g), _by_group(cols, g).transpose(0, 2, 1),
                out=out.reshape(g, geo.k // g, geo.cg * geo.r * geo.s))
    return out


# ================================================================ entry points (conv2d.py's)

def forward(x, w, b, geo, out):
    """out (N, K, P, Q) = conv(x, w) + b."""
    if pipeline(geo) == "batched":
        return _forward_batched(x, w, b, geo, out)
    has_bias = b is not None
    threads = numba.get_num_threads()
    rows = _rows_per_block(geo, threads)
    buffers = _column_buffers(geo, rows, threads)
    with blas.single_threaded():
        _forward_per_image(sgemm_function(), x, w.reshape(geo.k, -1),
                           b if has_bias else np.zeros(1, np.float32), has_bias, geo, rows,
                           out.reshape(geo.n, geo.k, geo.p * geo.q), buffers)
    return out


def backward_data(dy, w, geo, out):
    """out (N, C, H, W) = the gradient of the forward with respect to x."""
    if pipeline(geo) == "batched":
        return _backward_data_batched(dy, w, geo, out)
    channels, buffers = _channel_blocks(geo, numba.get_num_threads())
    with blas.single_threaded():
        _backward_data_per_image(sgemm_function(), dy.reshape(geo.n, geo.k, geo.p * geo.q),
                                 w.reshape(geo.k, -1), geo, channels, out, buffers)
    return out


def backward_weight(x, dy, geo, out):
    """out (K, C/groups, R, S) = the gradient of the forward with respect to w."""
    if pipeline(geo) == "batched":
        return _backward_weight_batched(x, dy, geo, out)
    rows = _rows_per_block(geo, WEIGHT_GRAD_CHUNKS)
    items = geo.n * ceil_div(geo.p, rows)
    cgrs = geo.cg * geo.r * geo.s
    chunks = max(1, min(WEIGHT_GRAD_CHUNKS, items, PARTIAL_FLOATS // (geo.k * cgrs)))
    partials = np.empty((chunks, geo.k, cgrs), np.float32)
    buffers = _column_buffers(geo, rows, numba.get_num_threads())
    with blas.single_threaded():
        _backward_weight_per_image(sgemm_function(), x, dy.reshape(geo.n, geo.k, geo.p * geo.q),
                                   geo, rows, partials, buffers)
    # Chunk order, whatever the thread count or timing: the same bits on any machine size.
    total = out.reshape(partials.shape[1:])
    total[...] = partials[0]
    for partial in partials[1:]:
        total += partial
    return out
