"""2-D max pooling, forward and backward, with PyTorch's semantics.

    max_pool2d_forward_*(x, kernel_size, stride, padding, ceil_mode, out=None, indices=None)
        -> (y, indices)
    max_pool2d_backward_*(dy, indices, x_shape, kernel_size, stride, padding, ceil_mode,
                          out=None) -> dx

x (N, C, H, W) float32; y and indices (N, C, OH, OW), indices int32 holding h * W + w, the flat
position of each window's maximum inside its (n, c) input plane. Padding is symmetric and acts
as -inf: a padded position never wins. Ties go to the first position in row-major window order
and a NaN wins (and propagates), as in PyTorch's CPU kernel. The backward writes dx (it does not
accumulate into it): dx[n, c, i] = sum of dy over the outputs whose recorded index is i, so
overlapping windows (stride < kernel) are handled.

The backward takes the pooling geometry as well as the indices: the GPU version is a gather
(one thread per input element visits only the windows that can contain it) and needs the
geometry to find them; it also lets both twins check that dy has the pooled shape of x_shape.

Pooling is bandwidth-bound. The GPU kernels use one thread per output (forward) or per input
element (backward) over a flat 1-D grid, so consecutive threads walk along W (coalesced) and
every warp is full even when planes are tiny (4x4 outputs late in a CNN). The CPU twins run in
parallel over the N*C planes. The geometry checks and the window arithmetic are average
pooling's too: they live in pool2d_common.py.
"""
import math

import numpy as np
from numba import cuda, float32, njit, prange

from ._checks import check_array, output, outputs
from ._device_functions import thread_element
from ._registry import Twins, cuda_kernel
from .pool2d_common import (ARRAY4, INT32_MAX, WINDOW_ARGS, flat_planes, launch_flat,
                            pooled_output_hw, window_bounds, window_params,
                            window_rect, windows_containing_rect)

VERSIONS = (1,)
DEFAULT_VERSION = 1

THREADS_PER_BLOCK = 256


# ---------------------------------------------------------------- geometry and argument checks

def pooled_hw(op, x_shape, kernel_size, stride, padding, ceil_mode):
    """Validate the pooling geometry as PyTorch does.

    Returns (kh, kw), (sh, sw), (ph, pw), (OH, OW).
    """
    if len(x_shape) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(x_shape)}")
    if min(int(v) for v in x_shape) < 1:
        raise ValueError(f"{op}: empty input {tuple(x_shape)}")
    k, s, p = window_params(op, x_shape, kernel_size, stride, padding)
    return k, s, p, pooled_output_hw(op, x_shape, k, s, p, ceil_mode)


def _check_forward(op, x, kernel_size, stride, padding, ceil_mode, out, indices, on_device):
    check_array(op, "x", x, 4)
    k, s, p, (oh, ow) = pooled_hw(op, x.shape, kernel_size, stride, padding, ceil_mode)
    y_shape = (x.shape[0], x.shape[1], oh, ow)
    y, ind = outputs(op, on_device, (out, y_shape, np.float32, "out"),
                     (indices, y_shape, np.int32, "indices"), x=x)
    return k, s, p, y, ind


def _check_indices(op, indices, y_shape):
    check_array(op, "indices", indices, 4, np.int32)
    if tuple(indices.shape) != tuple(y_shape):
        raise ValueError(f"{op}: indices has shape {tuple(indices.shape)}, "
                         f"expected {tuple(y_shape)}")


def _check_backward(op, dy, indices, x_shape, kernel_size, stride, padding, ceil_mode, out,
                    on_device):
    check_array(op, "dy", dy, 4)
    x_shape = tuple(int(v) for v in x_shape)
    k, s, p, (oh, ow) = pooled_hw(op, x_shape, kernel_size, stride, padding, ceil_mode)
    y_shape = (x_shape[0], x_shape[1], oh, ow)
    if tuple(dy.shape) != y_shape:
        raise ValueError(f"{op}: dy has shape {tuple(dy.shape)}, but pooling {x_shape} with kernel "
                         f"{k}, stride {s}, padding {p}, ceil_mode={ceil_mode} gives {y_shape}")
    _check_indices(op, indices, y_shape)
    return k, s, p, x_shape, output(op, on_device, out, x_shape, dy=dy, indices=indices)


# ------------------------------------------------------------------------------------- forward

@njit(inline="always")
def keep_max(v, at, best, best_at):
    """(v, at) if v beats best, else (best, best_at). Strict > keeps the first maximum; a NaN
    wins and then only a later NaN replaces it."""
    if (v > best) | (v != v):
        return v, at
    return best, best_at


@cuda.jit(device=True, inline="always")
def window_max(x, n, c, h_start, h_end, w_start, w_end):
    """(maximum, its h * W + w) over rows [h_start, h_end) and columns [w_start, w_end) of
    x's (n, c) plane, by keep_max in row-major order: one GPU thread's window (max pooling) or
    bin (adaptive max pooling). An empty rectangle gives (-inf, h_start * W + w_start)."""
    width = x.shape[3]
    best = float32(-math.inf)
    best_at = h_start * width + w_start
    for h in range(h_start, h_end):
        for w in range(w_start, w_end):
            best, best_at = keep_max(x[n, c, h, w], h * width + w, best, best_at)
    return best, best_at


@njit(parallel=True, cache=True)
def _forward_cpu_kernel(x, y, indices, kh, kw, sh, sw, ph, pw):
    height, width = x.shape[2], x.shape[3]
    out_h, out_w = y.shape[2], y.shape[3]
    # Flat planes indexed with unsigned offsets: no negative-index wraparound code in the
    # inner loop, and the offset is already the h * W + w that indices records.
    x_planes = flat_planes(x)
    y_planes = flat_planes(y)
    i_planes = flat_planes(indices)
    row_step = np.uint32(width)
    for plane in prange(x_planes.shape[0]):
        xp = x_planes[plane]
        yp = y_planes[plane]
        ip = i_planes[plane]
        for oh in range(out_h):
            h_start, h_end = window_bounds(oh, kh, sh, ph, height)
            row_out = oh * out_w
            for ow in range(out_w):
                w_start, w_end = window_bounds(ow, kw, sw, pw, width)
                span = w_end - w_start
                k = np.uint32(h_start * width + w_start)
                best = np.float32(-np.inf)
                best_at = k
                # Windows 2 or 3 wide (almost every CNN pool) are unrolled: a loop of two
                # iterations costs more than the comparisons it runs. With the flat unsigned
                # offsets this measured 2.4x faster than plain 2-D loops (2x2/s2, one thread).
                for h in range(h_start, h_end):
                    if span == 2:
                        best, best_at = keep_max(xp[k], k, best, best_at)
                        best, best_at = keep_max(xp[k + 1], k + 1, best, best_at)
                    elif span == 3:
                        best, best_at = keep_max(xp[k], k, best, best_at)
                        best, best_at = keep_max(xp[k + 1], k + 1, best, best_at)
                        best, best_at = keep_max(xp[k + 2], k + 2, best, best_at)
                    else:
                        for j in range(np.uint32(span)):
                            best, best_at = keep_max(xp[k + j], k + j, best, best_at)
                    k += row_step
                yp[row_out + ow] = best
                ip[row_out + ow] = best_at


def max_pool2d_forward_cpu(x, kernel_size, stride, padding, ceil_mode, out=None, indices=None):
    op = "max_pool2d_forward_cpu"
    (kh, kw), (sh, sw), (ph, pw), y, ind = _check_forward(op, x, kernel_size, stride, padding,
                                                          ceil_mode, out, indices, False)
    _forward_cpu_kernel(x, y, ind, kh, kw, sh, sw, ph, pw)
    return y, ind


@cuda_kernel(f"void({ARRAY4}, {ARRAY4}, int32[:, :, :, ::1], {WINDOW_ARGS})")
def _forward_cuda_kernel(x, y, indices, kh, kw, sh, sw, ph, pw):
    # Consecutive threads take consecutive ow: stores are coalesced, loads stride by sw.
    n, c, oh, ow, inside = thread_element(y)
    if inside:
        h_start, h_end, w_start, w_end = window_rect(oh, ow, kh, kw, sh, sw, ph, pw, x.shape)
        y[n, c, oh, ow], indices[n, c, oh, ow] = window_max(x, n, c, h_start, h_end, w_start,
                                                            w_end)


def max_pool2d_forward_cuda(x, kernel_size, stride, padding, ceil_mode, out=None, indices=None):
    op = "max_pool2d_forward_cuda"
    (kh, kw), (sh, sw), (ph, pw), y, ind = _check_forward(op, x, kernel_size, stride, padding,
                                                          ceil_mode, out, indices, True)
    # Indices are int32 on the device; h * W + w must fit (H * W < 2**31).
    if x.shape[2] * x.shape[3] > INT32_MAX:
        raise ValueError(f"{op}: input planes of {x.shape[2]}x{x.shape[3]} overflow int32 indices")
    launch_flat(op, _forward_cuda_kernel, y.size, THREADS_PER_BLOCK, x, y, ind, kh, kw, sh, sw,
                ph, pw)
    return y, ind


# ------------------------------------------------------------------------------------ backward

@njit(parallel=True, cache=True)
def scatter_to_argmax_cpu(dy, indices, dx):
    """dx = 0, then dy added at each output's recorded argmax (max and adaptive max pooling's
    backward); True if an index lies outside its plane."""
    # Flat planes: the recorded index is the offset h * W + w into a dx plane.
    dx_planes = flat_planes(dx)
    dy_planes = flat_planes(dy)
    i_planes = flat_planes(indices)
    planes, plane_size = dx_planes.shape
    out_size = dy_planes.shape[1]
    # One flag per plane: raising inside a prange body is not something to rely on.
    bad = np.zeros(planes, np.bool_)
    for plane in prange(planes):
        dxp = dx_planes[plane]
        dyp = dy_planes[plane]
        ip = i_planes[plane]
        dxp[:] = 0.0
        # Each plane belongs to one thread, so this scatter needs no atomics; it adds in the
        # same (oh, ow) order as the GPU gather, so both give bit-identical sums.
        for o in range(out_size):
            k = ip[o]
            if k < 0 or k >= plane_size:
                bad[plane] = True
            else:
                dxp[k] += dyp[o]
    return bad.any()


@cuda.jit(device=True, inline="always")
def gather_argmax(dy, indices, n, c, oh_start, oh_end, ow_start, ow_end, at):
    """The sum of dy over the outputs in rows [oh_start, oh_end) and columns [ow_start, ow_end)
    of the (n, c) plane whose recorded index is `at`: one GPU thread's input gradient in max
    and adaptive max pooling. A gather in fixed (oh, ow) order, the CPU scatter's: no atomics,
    so the result is deterministic and equal to the CPU twin's."""
    acc = float32(0)
    for oh in range(oh_start, oh_end):
        for ow in range(ow_start, ow_end):
            if indices[n, c, oh, ow] == at:
                acc += dy[n, c, oh, ow]
    return acc


def max_pool2d_backward_cpu(dy, indices, x_shape, kernel_size, stride, padding, ceil_mode,
                            out=None):
    op = "max_pool2d_backward_cpu"
    _, _, _, x_shape, dx = _check_backward(op, dy, indices, x_shape, kernel_size, stride,
                                           padding, ceil_mode, out, False)
    if scatter_to_argmax_cpu(dy, indices, dx):
        raise ValueError(f"{op}: indices {tuple(indices.shape)} hold positions outside the "
                         f"{x_shape[2]}x{x_shape[3]} input plane (not from max_pool2d_forward?)")
    return dx


@cuda_kernel(f"void({ARRAY4}, int32[:, :, :, ::1], {ARRAY4}, {WINDOW_ARGS})")
def _backward_cuda_kernel(dy, indices, dx, kh, kw, sh, sw, ph, pw):
    n, c, h, w, inside = thread_element(dx)
    if inside:
        oh_start, oh_end, ow_start, ow_end = windows_containing_rect(
            h, w, kh, kw, sh, sw, ph, pw, dy.shape)
        dx[n, c, h, w] = gather_argmax(dy, indices, n, c, oh_start, oh_end, ow_start, ow_end,
                                       h * dx.shape[3] + w)


def max_pool2d_backward_cuda(dy, indices, x_shape, kernel_size, stride, padding, ceil_mode,
                             out=None):
    op = "max_pool2d_backward_cuda"
    (kh, kw), (sh, sw), (ph, pw), x_shape, dx = _check_backward(
        op, dy, indices, x_shape, kernel_size, stride, padding, ceil_mode, out, True)
    # An index outside its window (or the plane) matches no thread: it is dropped, never
    # written out of bounds.
    launch_flat(op, _backward_cuda_kernel, math.prod(x_shape), THREADS_PER_BLOCK, dy, indices,
                dx, kh, kw, sh, sw, ph, pw)
    return dx


OPS = {
    "max_pool2d_forward": Twins(max_pool2d_forward_cpu, max_pool2d_forward_cuda),
    "max_pool2d_backward": Twins(max_pool2d_backward_cpu, max_pool2d_backward_cuda),
}
