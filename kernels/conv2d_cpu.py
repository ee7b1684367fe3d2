"""CPU twins of the convolution kernels: im2col lowering, with the products done by BLAS.

Two pipelines compute the same thing (conv2d_lowering.py holds the data movement both use):

    conv2d_cpu_per_image.py   each thread lowers and multiplies a cache-sized block of one
                              image at a time, inside one parallel loop (the usual case)
    conv2d_cpu_batched.py     one column matrix and one big sgemm for the whole batch (1x1
                              convolutions, and a BLAS without cblas_sgemm)

`pipeline(geo)` picks one; the tests run every case through both.

Threads. numba's parallel loops and OpenBLAS's threads are two pools; when both spin while
idle they starve each other on a small machine (a LeNet conv step took hundreds of ms instead
of ~3 ms on 2 cores). So BLAS runs on one thread per caller (kernels/_blas.py) and numba's
OpenMP workers spin only briefly (gpucnn/__init__.py).
"""
import numba
import numpy as np
from numba import njit, prange

from . import _blas as blas
from . import conv2d_cpu_batched as batched
from . import conv2d_cpu_per_image as per_image
from .conv2d_args import backward_bias_args, backward_data_args, backward_weight_args, forward_args
from ._cblas import sgemm_function
from .conv2d_lowering import geometry_tuple


def pipeline(geo) -> str:
    """'per_image' unless the convolution is 1x1 (nothing to lower) or NumPy's BLAS exports
    no cblas_sgemm."""
    if geo.is_pointwise or sgemm_function() is None:
        return "batched"
    return "per_image"


def _row_blocks(geo, threads):
    """Output rows per block for forward and weight gradient, and the column buffers."""
    crs = geo.c * geo.r * geo.s
    blocks = per_image.blocks_per_image(geo.n, geo.p, crs * geo.q, threads)
    rows = per_image.block_size(geo.p, blocks)
    return rows, np.empty((threads, crs * rows * geo.q), np.float32)


def _channel_blocks(geo, threads):
    """Input channels per block for the data gradient, and the column buffers."""
    rs, pq = geo.r * geo.s, geo.p * geo.q
    blocks = per_image.blocks_per_image(geo.n * geo.groups, geo.cg, rs * pq, threads)
    channels = per_image.block_size(geo.cg, blocks)
    return channels, np.empty((threads, channels * rs * pq), np.float32)


# ---------------------------------------------------------------- public CPU twins

def conv2d_forward_cpu(x, w, b, stride, padding, dilation, groups, out=None):
    """y[n, k, p, q] = b[k] + sum_{c in group(k), r, s} w[k, c, r, s] x[n, c, p*sh - pt + r*dh,
    q*sw - pl + s*dw] (zero outside x). Returns y (N, K, P, Q)."""
    geo, out = forward_args("conv2d_forward_cpu", x, w, b, stride, padding, dilation, groups,
                            out, device=False)
    if pipeline(geo) == "batched":
        return batched.forward(x, w, b, geo, out)
    has_bias = b is not None
    rows, buffers = _row_blocks(geo, numba.get_num_threads())
    with blas.single_threaded():
        per_image.forward(sgemm_function(), x, w.reshape(geo.k, -1),
                          b if has_bias else np.zeros(1, np.float32), has_bias,
                          geometry_tuple(geo), geo.groups, rows,
                          out.reshape(geo.n, geo.k, geo.p * geo.q), buffers)
    return out


def conv2d_backward_data_cpu(dy, w, x_shape, stride, padding, dilation, groups, out=None):
    """dx (N, C, H, W): the gradient of conv2d_forward with respect to its input."""
    geo, out = backward_data_args("conv2d_backward_data_cpu", dy, w, x_shape, stride, padding,
                                  dilation, groups, out, device=False)
    if pipeline(geo) == "batched":
        return batched.backward_data(dy, w, geo, out)
    channels, buffers = _channel_blocks(geo, numba.get_num_threads())
    with blas.single_threaded():
        per_image.backward_data(sgemm_function(), dy.reshape(geo.n, geo.k, geo.p * geo.q),
                                w.reshape(geo.k, -1), geometry_tuple(geo), geo.groups,
                                channels, out, buffers)
    return out


def conv2d_backward_weight_cpu(x, dy, w_shape, stride, padding, dilation, groups, out=None):
    """dw (K, C/groups, R, S): the gradient of conv2d_forward with respect to its weight."""
    geo, out = backward_weight_args("conv2d_backward_weight_cpu", x, dy, w_shape, stride,
                                    padding, dilation, groups, out, device=False)
    if pipeline(geo) == "batched":
        return batched.backward_weight(x, dy, geo, out)
    threads = numba.get_num_threads()
    rows, buffers = _row_blocks(geo, threads)
    partials = np.empty((threads, geo.k, geo.cg * geo.r * geo.s), np.float32)
    with blas.single_threaded():
        per_image.backward_weight(sgemm_function(), x, dy.reshape(geo.n, geo.k, geo.p * geo.q),
                                  geometry_tuple(geo), geo.groups, rows, partials, buffers)
    # Thread order, whatever the timing: reproducible for a given thread count.
    total = out.reshape(partials.shape[1:])
    total[...] = partials[0]
    for partial in partials[1:]:
        total += partial
    return out


def conv2d_backward_bias_cpu(dy, out=None):
    """db (K,) = dy summed over N, P, Q."""
    out = backward_bias_args("conv2d_backward_bias_cpu", dy, out, device=False)
    n, k, p, q = dy.shape
    _sum_over_n_pq(dy.reshape(n, k, p * q), out)
    return out


@njit(parallel=True, cache=True)
def _sum_over_n_pq(dy, db):
    # Per channel, float64 sums in a fixed order (eight interleaved partial sums, so the loop
    # vectorises, then combined left to right): deterministic for any thread count.
    n_size, k_size, pq = dy.shape
    df = dy.reshape(dy.size)
    for k in prange(k_size):
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        for n in range(n_size):
            start = np.uint64((n * k_size + k) * pq)
            end = start + np.uint64(pq)
            i = start
            while i + np.uint64(8) <= end:
                a0 += df[i]
                a1 += df[i + np.uint64(1)]
                a2 += df[i + np.uint64(2)]
                a3 += df[i + np.uint64(3)]
                a4 += df[i + np.uint64(4)]
                a5 += df[i + np.uint64(5)]
                a6 += df[i + np.uint64(6)]
                a7 += df[i + np.uint64(7)]
                i += np.uint64(8)
            while i < end:
                a0 += df[i]
                i += np.uint64(1)
        db[k] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))


