"""The per-image CPU convolution pipeline: each thread lowers and multiplies one block of one
image at a time, inside one parallel loop.

Why. The whole-batch pipeline (conv2d_cpu_batched.py) builds one column matrix for the batch,
e.g. 19 MB for a batch-64 CIFAR layer, runs one big sgemm on it and converts the output
between (K, N*P*Q) and NCHW. Each of those passes streams the matrix through DRAM, and each
hands the cores from numba's thread pool to BLAS's and back: measured on 2 cores, 20-60% on
top of the sgemm itself. Here one image's columns (295 KB for that layer) go into a buffer of
the thread's own that stays in its core's cache while BLAS multiplies it on the same thread,
called from inside the loop (kernels/_cblas.py), and the (K, P*Q) product of one image already
is its NCHW output: no layout change. OpenBLAS runs a 64x288x256 product at the same FLOP rate
as a 64x288x16384 one (measured), so nothing is lost by multiplying image by image.

Blocks. A large image (a 720x960 photo's columns are 75 MB) is split so that its columns stay
near BLOCK_FLOATS, and a batch smaller than the thread count is split until every thread has
work. Forward and weight gradient split an image by output rows [p0, p1): each block's product
is a column range of the image's output (or of its gradient, read in place through BLAS's
leading dimension). The data gradient splits by input channels instead, because output-row
blocks overlap on the input (their receptive fields) and two threads would add into one
pixel; a channel's column rows only ever land on that channel's plane.

Threads. Thread t of T takes items t*I/T to (t+1)*I/T of the I (image, block) items. Forward
and backward-data outputs do not depend on T; the weight gradient is summed per thread and the
T partial sums are added in thread order, so it is reproducible for a given thread count.

BLAS must run single-threaded here (each thread calls it): the caller wraps these in
_blas.single_threaded().
"""
from numba import njit, prange

from ._cblas import gemm
from ._checks import ceil_div
from .conv2d_lowering import (col2im_plane, col2im_plane_flat, im2col_row, im2col_row_flat,
                              is_flat, is_unit_stride, unit_stride)

# Columns per block (1 MB of float32): a CIFAR layer's image is one block, a photo is many.
BLOCK_FLOATS = 1 << 18


def blocks_per_image(n, units, floats_per_unit, threads):
    """How many blocks to cut each image's `units` (output rows or input channels) into: few
    enough that a block holds about BLOCK_FLOATS column entries, and, when the batch has fewer
    images than threads, enough that every thread gets one."""
    blocks = ceil_div(units * floats_per_unit, BLOCK_FLOATS)
    if n < threads:
        blocks = max(blocks, ceil_div(threads, n))
    return max(1, min(blocks, units))


def block_size(units, blocks):
    """Units per block, so that `blocks` blocks of it cover `units`."""
    return ceil_div(units, blocks)


@njit(inline="always")
def _thread_items(t, threads, items):
    return t * items // threads, (t + 1) * items // threads


@njit(inline="always")
def _lower(xf, geo, crs, n, p0, p1, cols):
    """cols (C*R*S, (p1-p0)*Q) = im2col of output rows [p0, p1) of image n, through the
    fastest helper that applies."""
    cf = cols.reshape(cols.size)
    if is_flat(geo):
        for row in range(crs):
            im2col_row_flat(xf, geo, row, n, 1, p0, p1, cf)
    elif is_unit_stride(geo):
        unit = unit_stride(geo)
        for row in range(crs):
            im2col_row(xf, unit, row, n, 1, p0, p1, cf)
    else:
        for row in range(crs):
            im2col_row(xf, geo, row, n, 1, p0, p1, cf)


@njit(inline="always")
def _lowered_block(xf, geo, crs, item, rows, buffer):
    """Work item -> (n, p0, p1, cols): output rows [p0, p1) of image n, lowered into the front
    of buffer as cols (C*R*S, (p1-p0)*Q)."""
    p_size, q_size = geo[11], geo[12]
    blocks = (p_size + rows - 1) // rows
    n = item // blocks
    p0 = (item % blocks) * rows
    p1 = min(p0 + rows, p_size)
    width = (p1 - p0) * q_size
    cols = buffer[:crs * width].reshape(crs, width)
    _lower(xf, geo, crs, n, p0, p1, cols)
    return n, p0, p1, cols


@njit(inline="always")
def _raise(dcols, geo, n, c0, c1, dxf):
    """dx planes c0..c1 of image n = col2im of dcols, whose rows are (c - c0, r, s) for the
    whole output plane; dcols is scratch and is changed."""
    c_size, hw = geo[0], geo[1] * geo[2]
    dcf = dcols.reshape(dcols.size)
    if is_flat(geo):
        for c in range(c0, c1):
            col2im_plane_flat(dcf, geo, 0, 1, c - c0, dxf, (n * c_size + c) * hw)
    elif is_unit_stride(geo):
        unit = unit_stride(geo)
        for c in range(c0, c1):
            col2im_plane(dcf, unit, 0, 1, c - c0, dxf, (n * c_size + c) * hw)
    else:
        for c in range(c0, c1):
            col2im_plane(dcf, geo, 0, 1, c - c0, dxf, (n * c_size + c) * hw)


@njit(parallel=True, cache=True)
def forward(sgemm, x, w2, b, has_bias, geo, groups, rows, y3, col_buffers):
    """y3 (N, K, PQ) = conv(x, w2 (K, Cg*R*S)) + b, in blocks of `rows` output rows."""
    n_size = x.shape[0]
    k_size, cgrs = w2.shape
    kg = k_size // groups
    p_size, q_size = geo[11], geo[12]
    pq = p_size * q_size
    blocks = (p_size + rows - 1) // rows
    xf = x.reshape(x.size)
    threads = col_buffers.shape[0]
    for t in prange(threads):
        first, last = _thread_items(t, threads, n_size * blocks)
        for item in range(first, last):
            n, p0, p1, cols = _lowered_block(xf, geo, cgrs * groups, item, rows, col_buffers[t])
            width = cols.shape[1]
            y = y3[n]
            for g in range(groups):
                # y[group rows, block columns] = w2[group rows] @ cols[group rows]
                gemm(sgemm, False, False, kg, width, cgrs, w2[g * kg:], cgrs, cols[g * cgrs:],
                     width, 0.0, y[g * kg:, p0 * q_size:], pq)
            if has_bias:
                for k in range(k_size):
                    y[k, p0 * q_size:p1 * q_size] += b[k]


@njit(parallel=True, cache=True)
def backward_data(sgemm, dy3, w2, geo, groups, channels, dx, col_buffers):
    """dx (N, C, H, W) from dy3 (N, K, PQ) and w2 (K, Cg*R*S), in blocks of `channels` input
    channels within a group."""
    n_size = dx.shape[0]
    k_size, cgrs = w2.shape
    kg = k_size // groups
    cg = dx.shape[1] // groups
    rs = cgrs // cg
    pq = dy3.shape[2]
    blocks = (cg + channels - 1) // channels         # per group
    dxf = dx.reshape(dx.size)
    threads = col_buffers.shape[0]
    for t in prange(threads):
        first, last = _thread_items(t, threads, n_size * groups * blocks)
        for item in range(first, last):
            n = item // (groups * blocks)
            g = (item // blocks) % groups
            first_c = (item % blocks) * channels       # within the group
            count = min(channels, cg - first_c)
            dcols = col_buffers[t][:count * rs * pq].reshape(count * rs, pq)
            # dcols = (the block's columns of w2[group rows])^T @ dy[group rows]
            gemm(sgemm, True, False, count * rs, pq, kg, w2[g * kg:, first_c * rs:], cgrs,
                 dy3[n, g * kg:], pq, 0.0, dcols, pq)
            c0 = g * cg + first_c
            _raise(dcols, geo, n, c0, c0 + count, dxf)


@njit(parallel=True, cache=True)
def backward_weight(sgemm, x, dy3, geo, groups, rows, partials, col_buffers):
    """partials[t] (K, Cg*R*S) = thread t's share of dW, in blocks of `rows` output rows; the
    caller adds the partials in order."""
    n_size = x.shape[0]
    k_size, cgrs = partials.shape[1], partials.shape[2]
    kg = k_size // groups
    p_size, q_size = geo[11], geo[12]
    pq = p_size * q_size
    blocks = (p_size + rows - 1) // rows
    xf = x.reshape(x.size)
    threads = col_buffers.shape[0]
    for t in prange(threads):
        partial = partials[t]
        first, last = _thread_items(t, threads, n_size * blocks)
        if first == last:
            partial[:] = 0.0
        for item in range(first, last):
            n, p0, p1, cols = _lowered_block(xf, geo, cgrs * groups, item, rows, col_buffers[t])
            width = cols.shape[1]
            dy = dy3[n]
            for g in range(groups):
                # partial[group rows] (+)= dy[group rows, block columns] @ cols[group rows]^T
                gemm(sgemm, False, True, kg, cgrs, width, dy[g * kg:, p0 * q_size:], pq,
                     cols[g * cgrs:], width, 0.0 if item == first else 1.0, partial[g * kg:],
                     cgrs)
