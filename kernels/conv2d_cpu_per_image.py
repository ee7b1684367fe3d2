"""The per-image CPU convolution pipeline: each thread lowers and multiplies one image at a
time, inside one parallel loop.

Why. The whole-batch pipeline (conv2d_cpu_batched.py) builds one column matrix for the batch,
e.g. 19 MB for a batch-64 CIFAR layer, runs one big sgemm on it and converts the output
between (K, N*P*Q) and NCHW. Each of those passes streams the matrix through DRAM, and each
hands the cores from numba's thread pool to BLAS's and back: measured on 2 cores, 20-60% on
top of the sgemm itself. Here one image's columns (295 KB for that layer) go into a buffer of
the thread's own that stays in its core's cache while BLAS multiplies it on the same thread,
called from inside the loop (kernels/_cblas.py), and the (K, P*Q) product of one image already
is its NCHW output: no layout change. OpenBLAS runs a 64x288x256 product at the same FLOP rate
as a 64x288x16384 one (measured), so nothing is lost by multiplying image by image.

Threads. Thread t of T takes images t*N/T to (t+1)*N/T. Forward and backward-data outputs do
not depend on T; the weight gradient is summed per thread and the T partial sums are added in
thread order, so it is reproducible for a given thread count.

BLAS must run single-threaded here (each thread calls it): the caller wraps these in
_blas.single_threaded().
"""
import numpy as np
from numba import njit, prange

from ._cblas import gemm
from .conv2d_lowering import (col2im_plane, col2im_plane_flat, im2col_row, im2col_row_flat,
                              is_flat, is_unit_stride, unit_stride)


@njit(inline="always")
def _thread_images(t, threads, n_size):
    return t * n_size // threads, (t + 1) * n_size // threads


@njit(inline="always")
def _lower(xf, geo, crs, n, cols):
    """cols (C*R*S, P*Q) = im2col of image n, through the fastest helper that applies."""
    cf = cols.reshape(cols.size)
    if is_flat(geo):
        for row in range(crs):
            im2col_row_flat(xf, geo, row, n, 1, cf)
    elif is_unit_stride(geo):
        unit = unit_stride(geo)
        for row in range(crs):
            im2col_row(xf, unit, row, n, 1, cf)
    else:
        for row in range(crs):
            im2col_row(xf, geo, row, n, 1, cf)


@njit(inline="always")
def _raise(dcols, geo, n, dxf):
    """dx planes of image n = col2im of dcols (C*R*S, P*Q); dcols is scratch and is changed."""
    c_size, hw = geo[0], geo[1] * geo[2]
    dcf = dcols.reshape(dcols.size)
    if is_flat(geo):
        for c in range(c_size):
            col2im_plane_flat(dcf, geo, 0, 1, c, dxf, (n * c_size + c) * hw)
    elif is_unit_stride(geo):
        unit = unit_stride(geo)
        for c in range(c_size):
            col2im_plane(dcf, unit, 0, 1, c, dxf, (n * c_size + c) * hw)
    else:
        for c in range(c_size):
            col2im_plane(dcf, geo, 0, 1, c, dxf, (n * c_size + c) * hw)


@njit(parallel=True, cache=True)
def forward(sgemm, x, w2, b, has_bias, geo, groups, y3, col_buffers):
    """y3 (N, K, PQ) = conv(x, w2 (K, Cg*R*S)) + b."""
    n_size = x.shape[0]
    k_size, cgrs = w2.shape
    kg = k_size // groups
    pq = y3.shape[2]
    xf = x.reshape(x.size)
    threads = col_buffers.shape[0]
    for t in prange(threads):
        cols = col_buffers[t]
        first, last = _thread_images(t, threads, n_size)
        for n in range(first, last):
            _lower(xf, geo, cgrs * groups, n, cols)
            y = y3[n]
            for g in range(groups):
                gemm(sgemm, False, False, kg, pq, cgrs, w2[g * kg:], cgrs, cols[g * cgrs:], pq,
                     0.0, y[g * kg:], pq)
            if has_bias:
                for k in range(k_size):
                    y[k] += b[k]


@njit(parallel=True, cache=True)
def backward_data(sgemm, dy3, w2, geo, groups, dx, col_buffers):
    """dx (N, C, H, W) from dy3 (N, K, PQ) and w2 (K, Cg*R*S)."""
    n_size = dx.shape[0]
    k_size, cgrs = w2.shape
    kg = k_size // groups
    pq = dy3.shape[2]
    dxf = dx.reshape(dx.size)
    threads = col_buffers.shape[0]
    for t in prange(threads):
        dcols = col_buffers[t]
        first, last = _thread_images(t, threads, n_size)
        for n in range(first, last):
            dy = dy3[n]
            for g in range(groups):
                # dcols[group rows] = w2[group rows]^T @ dy[group rows]
                gemm(sgemm, True, False, cgrs, pq, kg, w2[g * kg:], cgrs, dy[g * kg:], pq,
                     0.0, dcols[g * cgrs:], pq)
            _raise(dcols, geo, n, dxf)


@njit(parallel=True, cache=True)
def backward_weight(sgemm, x, dy3, geo, groups, partials, col_buffers):
    """partials[t] (K, Cg*R*S) = thread t's share of dW; the caller adds them in order."""
    n_size = x.shape[0]
    k_size, cgrs = partials.shape[1], partials.shape[2]
    kg = k_size // groups
    pq = dy3.shape[2]
    xf = x.reshape(x.size)
    threads = col_buffers.shape[0]
    for t in prange(threads):
        cols = col_buffers[t]
        partial = partials[t]
        first, last = _thread_images(t, threads, n_size)
        if first == last:
            partial[:] = 0.0
        for n in range(first, last):
            _lower(xf, geo, cgrs * groups, n, cols)
            dy = dy3[n]
            for g in range(groups):
                # partial[group rows] (+)= dy[group rows] @ cols[group rows]^T
                gemm(sgemm, False, True, kg, cgrs, pq, dy[g * kg:], pq, cols[g * cgrs:], pq,
                     0.0 if n == first else 1.0, partial[g * kg:], cgrs)
