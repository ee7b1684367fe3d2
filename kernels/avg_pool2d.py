"""2-D average pooling and adaptive (average and max) pooling, forward and backward, with
PyTorch's semantics.

    avg_pool2d_forward_*(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                         divisor_override, out=None) -> y
    avg_pool2d_backward_*(dy, x_shape, kernel_size, stride, padding, ceil_mode,
                          count_include_pad, divisor_override, out=None) -> dx
    adaptive_avg_pool2d_forward_*(x, output_size, out=None) -> y
    adaptive_avg_pool2d_backward_*(dy, x_shape, out=None) -> dx
    adaptive_max_pool2d_forward_*(x, output_size, out=None, indices=None) -> (y, indices)
    adaptive_max_pool2d_backward_*(dy, indices, x_shape, out=None) -> dx

x (N, C, H, W) float32, C-contiguous; as in PyTorch, the batch N may be 0, and so may an
adaptive output_size (an empty output launches nothing; its gradient dx is zeros). The backward kernels write dx (they
do not accumulate into it).

Average pooling. Window (oh, ow) covers rows [oh*sh - ph, oh*sh - ph + kh) and the same for
columns; the window geometry (padding at most half the kernel, ceil_mode's last window
starting inside the input or the left padding) is max_pool2d's, checked and computed by the
same code (pool2d_common.py). Its average is the sum of the inputs inside it divided by:
divisor_override when given; else, with count_include_pad, the window's size clipped to the
padded input (so the extra windows ceil_mode adds count the padding but not the positions
beyond it); else the number of inputs it covers. The divisor factorises into a row factor
times a column factor. Each input's gradient is the sum over the windows that contain it of
dy / divisor.

Adaptive pooling. Output (oh, ow) covers the bin of rows [floor(oh*H/OH), ceil((oh+1)*H/OH))
and the same for columns: bins of neighbouring outputs may overlap, and OH may exceed H.
The average divides by the bin's area; the maximum keeps the first maximum in row-major bin
order, a NaN wins (and a later NaN replaces it), as in PyTorch's CPU kernel, and indices
(int64) hold its h * W + w inside the (n, c) plane. The backward of the maximum sends each
dy to its recorded index.

Rounding. Both twins add the same float32 values in the same order, so they agree bit for
bit: forward sums run over the window row by row from 0; backward sums take the windows (or
bins) containing an input in ascending (oh, ow) order. The GPU kernels run one thread per
output (forward) or per input element (backward) over a flat 1-D grid, as max_pool2d's do:
the backward is a gather over the windows that can contain the element, found by
arithmetic, with no atomics. The CPU twins run in parallel over the N*C planes, each plane
in one thread (so their backward scatters need no atomics either); average pooling's loops
walk along an output row one window tap at a time, so the innermost loop runs over a row of
outputs rather than over a window a few taps wide; adaptive average pooling sums a group of
planes side by side (PLANE_GROUP), so a global pool is not one long chain of dependent adds.
"""
import numbers

import numpy as np
from numba import cuda, float32, njit, prange

from ._checks import check_array, output, outputs, pair
from ._device_functions import thread_element
from ._registry import Twins, cuda_kernel
from .max_pool2d import gather_argmax, keep_max, scatter_to_argmax_cpu, window_max
from .pool2d_common import (ARRAY4, INT32_MAX, WINDOW_ARGS, flat_planes, launch_flat,
                            pooled_output_hw, window_bounds, window_params,
                            window_rect, windows_containing_rect)

VERSIONS = (1,)
DEFAULT_VERSION = 1

THREADS = 256
PLANE_GROUP = 8    # planes the CPU twin of adaptive average pooling sums side by side


# ---------------------------------------------------------------- geometry and argument checks

def _input_hw(op, x_shape):
    if len(x_shape) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(x_shape)}")
    n, c, h, w = (int(v) for v in x_shape)
    if n < 0 or min(c, h, w) < 1:
        raise ValueError(f"{op}: input {tuple(x_shape)} must have non-empty C, H and W (only the "
                         f"batch may be empty)")
    # The CPU twins address a plane with 32-bit offsets (cheaper loops, no wraparound checks).
    if h * w > INT32_MAX:
        raise ValueError(f"{op}: input planes of {h}x{w} are too large (at most 2**31 - 1 "
                         f"elements, input {tuple(x_shape)})")
    return h, w


def avg_pooled_hw(op, x_shape, kernel_size, stride, padding, ceil_mode):
    """Validate an average pool's geometry as PyTorch does (max pooling's rules).

    Returns (kh, kw), (sh, sw), (ph, pw), (OH, OW).
    """
    h, w = _input_hw(op, x_shape)
    k, s, p = window_params(op, x_shape, kernel_size, stride, padding)
    # Bounded so that the kernels' int32 arguments and window arithmetic cannot overflow.
    if max(*k, *s, h, w) > INT32_MAX // 4:
        raise ValueError(f"{op}: kernel_size {k}, stride {s} or input {tuple(x_shape)} too large")
    return k, s, p, pooled_output_hw(op, x_shape, k, s, p, ceil_mode)


def check_divisor_override(op, divisor_override):
    """None, or a non-zero int (PyTorch refuses a zero divisor; a negative one is taken)."""
    if divisor_override is None:
        return None
    if isinstance(divisor_override, (bool, np.bool_)) or \
            not isinstance(divisor_override, numbers.Integral):
        raise TypeError(f"{op}: divisor_override must be an int or None, got "
                        f"{divisor_override!r}")
    if divisor_override == 0:
        raise ValueError(f"{op}: divisor_override must not be zero")
    if abs(int(divisor_override)) > INT32_MAX:
        raise ValueError(f"{op}: divisor_override {divisor_override} does not fit in int32")
    return int(divisor_override)


def adaptive_output_hw(op, x_shape, output_size):
    """(OH, OW) from an int or a pair of ints >= 0 (the caller resolves PyTorch's None)."""
    h, w = _input_hw(op, x_shape)
    oh, ow = pair(op, "output_size", output_size)
    if min(oh, ow) < 0:
        raise ValueError(f"{op}: output_size {(oh, ow)} must be >= 0 (input {tuple(x_shape)})")
    if max(oh, ow, h, w) > INT32_MAX // 4:
        raise ValueError(f"{op}: output_size {(oh, ow)} or input {tuple(x_shape)} too large")
    return oh, ow


def _check_pooled(op, name, a, dtype, x_shape, out_hw):
    """a (dy or indices) has the pooled shape of x_shape."""
    check_array(op, name, a, 4, dtype)
    expected = (x_shape[0], x_shape[1], *out_hw)
    if tuple(a.shape) != expected:
        raise ValueError(f"{op}: {name} has shape {tuple(a.shape)}, expected {expected} for input "
                         f"{x_shape}")


def _check_avg_forward(op, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, out, on_device):
    """The kernels' scalar arguments (kh, kw, sh, sw, ph, pw, count_include_pad,
    divisor_override) and y."""
    check_array(op, "x", x, 4)
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = avg_pooled_hw(op, x.shape, kernel_size, stride,
                                                           padding, ceil_mode)
    # 0 stands for "no override" in the kernels (a zero divisor is refused above).
    divisor = check_divisor_override(op, divisor_override) or 0
    y = output(op, on_device, out, (x.shape[0], x.shape[1], oh, ow), x=x)
    return (kh, kw, sh, sw, ph, pw, int(bool(count_include_pad)), divisor), y


def _check_avg_backward(op, dy, x_shape, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override, out, on_device):
    """The kernels' scalar arguments, as _check_avg_forward gives them, and dx."""
    x_shape = tuple(int(v) for v in x_shape)
    (kh, kw), (sh, sw), (ph, pw), out_hw = avg_pooled_hw(op, x_shape, kernel_size, stride,
                                                         padding, ceil_mode)
    # 0 stands for "no override" in the kernels (a zero divisor is refused above).
    divisor = check_divisor_override(op, divisor_override) or 0
    _check_pooled(op, "dy", dy, np.float32, x_shape, out_hw)
    dx = output(op, on_device, out, x_shape, dy=dy)
    return (kh, kw, sh, sw, ph, pw, int(bool(count_include_pad)), divisor), dx


def _check_adaptive_backward(op, dy, indices, x_shape, out, on_device):
    x_shape = tuple(int(v) for v in x_shape)
    _input_hw(op, x_shape)
    check_array(op, "dy", dy, 4)
    out_hw = tuple(int(v) for v in dy.shape[2:])
    adaptive_output_hw(op, x_shape, out_hw)
    _check_pooled(op, "dy", dy, np.float32, x_shape, out_hw)
    inputs = {"dy": dy}
    if indices is not None:
        _check_pooled(op, "indices", indices, np.int64, x_shape, out_hw)
        inputs["indices"] = indices
    return x_shape, output(op, on_device, out, x_shape, **inputs)


# ---------------------------------------------------------------- formulas both twins call

@njit(inline="always")
def _window_factor(o, size, kernel, stride, pad, count_include_pad):
    """Window o's extent along one axis, as the divisor counts it: clipped to the padded input
    with count_include_pad, else to the input."""
    start = o * stride - pad
    if count_include_pad:
        return min(start + kernel, size + pad) - start
    return min(start + kernel, size) - max(start, 0)


@njit(inline="always")
def _window_divisor(oh, ow, height, width, kh, kw, sh, sw, ph, pw, count_include_pad,
                    divisor_override):
    if divisor_override != 0:
        return divisor_override
    return (_window_factor(oh, height, kh, sh, ph, count_include_pad)
            * _window_factor(ow, width, kw, sw, pw, count_include_pad))


@njit(inline="always")
def _bin(o, size, n_out):
    """[start, end) of adaptive bin o along one axis: [floor(o*size/n_out),
    ceil((o+1)*size/n_out))."""
    return (o * size) // n_out, ((o + 1) * size + n_out - 1) // n_out


@njit(inline="always")
def _bins_containing(i, size, n_out):
    """[first, end) of the adaptive bins along one axis that contain input position i: bin o
    holds i when floor(o*size/n_out) <= i < ceil((o+1)*size/n_out), that is when
    (i*n_out) // size <= o <= ((i+1)*n_out - 1) // size."""
    return (i * n_out) // size, min(((i + 1) * n_out - 1) // size + 1, n_out)


@cuda.jit(device=True, inline="always")
def _bin_rect(oh, ow, x_shape, y_shape):
    """(h_start, h_end, w_start, w_end): the rows and columns of adaptive bin (oh, ow) for an
    input of x_shape pooled to y_shape, by _bin."""
    h_start, h_end = _bin(oh, x_shape[2], y_shape[2])
    w_start, w_end = _bin(ow, x_shape[3], y_shape[3])
    return h_start, h_end, w_start, w_end


@cuda.jit(device=True, inline="always")
def _bins_containing_rect(h, w, x_shape, y_shape):
    """(oh_start, oh_end, ow_start, ow_end): the rows and columns of the adaptive bins that
    contain input (h, w), by _bins_containing."""
    oh_start, oh_end = _bins_containing(h, x_shape[2], y_shape[2])
    ow_start, ow_end = _bins_containing(w, x_shape[3], y_shape[3])
    return oh_start, oh_end, ow_start, ow_end


@njit(cache=True)
def _tap_ranges(n_out, size, kernel, stride, pad):
    """For each tap j of a window: the outputs [lo[j], hi[j]) whose tap j falls inside the
    input, o*stride - pad + j in [0, size)."""
    lo = np.zeros(kernel, np.int64)
    hi = np.zeros(kernel, np.int64)
    for j in range(kernel):
        if pad - j > 0:
            lo[j] = (pad - j + stride - 1) // stride
        last = size - 1 + pad - j
        hi[j] = min(n_out, last // stride + 1) if last >= 0 else 0
    return lo, hi


# ------------------------------------------------------------------ average pooling: forward

@cuda.jit(device=True, inline="always")
def _window_sum(x, n, c, h_start, h_end, w_start, w_end):
    """The float32 sum of rows [h_start, h_end) and columns [w_start, w_end) of x's (n, c)
    plane, row by row (the CPU twins' order): one GPU thread's window or adaptive bin."""
    acc = float32(0)
    for h in range(h_start, h_end):
        for w in range(w_start, w_end):
            acc += x[n, c, h, w]
    return acc


@njit(cache=True)
def _divisor_table(out_h, out_w, height, width, kh, kw, sh, sw, ph, pw, count_include_pad,
                   divisor_override):
    """Every window's divisor, (out_h, out_w): the same for every plane, computed once."""
    divisors = np.empty((out_h, out_w), np.float32)
    for oh in range(out_h):
        for ow in range(out_w):
            divisors[oh, ow] = np.float32(_window_divisor(oh, ow, height, width, kh, kw, sh, sw,
                                                          ph, pw, count_include_pad,
                                                          divisor_override))
    return divisors


@njit(cache=True)
def _avg_cpu_plan(x_side, y_side, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    """What both CPU twins set up once per call: the input-side array (x or dx) and the
    output-side one (y or dy) as stacks of N*C planes, each plane's tap ranges along an output
    row (_tap_ranges) and every window's divisor (_divisor_table)."""
    n_img, n_chan, height, width = x_side.shape
    out_h, out_w = y_side.shape[2], y_side.shape[3]
    planes = n_img * n_chan
    tap_lo, tap_hi = _tap_ranges(out_w, width, kw, sw, pw)
    divisors = _divisor_table(out_h, out_w, height, width, kh, kw, sh, sw, ph, pw,
                              count_include_pad, divisor_override)
    return (x_side.reshape(planes, height, width), y_side.reshape(planes, out_h, out_w),
            tap_lo, tap_hi, divisors)


@njit(parallel=True, cache=True)
def _avg_forward_cpu_kernel(x, y, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    height = x.shape[2]
    out_h, out_w = y.shape[2], y.shape[3]
    x_planes, y_planes, tap_lo, tap_hi, divisors = _avg_cpu_plan(
        x, y, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override)
    for plane in prange(x_planes.shape[0]):
        xp = x_planes[plane]
        yp = y_planes[plane]
        for oh in range(out_h):
            row = yp[oh]
            row[:] = 0.0
            h_start, h_end = window_bounds(oh, kh, sh, ph, height)
            # Every output of the row adds its window's inputs row by row, left to right: the
            # GPU kernel's order. The innermost loop runs along the outputs.
            for h in range(h_start, h_end):
                xrow = xp[h]
                for j in range(kw):
                    for ow in range(tap_lo[j], tap_hi[j]):
                        row[ow] += xrow[ow * sw - pw + j]
            for ow in range(out_w):
                row[ow] = row[ow] / divisors[oh, ow]


def avg_pool2d_forward_cpu(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override, out=None):
    op = "avg_pool2d_forward_cpu"
    params, y = _check_avg_forward(op, x, kernel_size, stride, padding, ceil_mode,
                                   count_include_pad, divisor_override, out, False)
    _avg_forward_cpu_kernel(x, y, *params)
    return y


@cuda_kernel(f"void({ARRAY4}, {ARRAY4}, {WINDOW_ARGS}, int32, int32)")
def _avg_forward_cuda_kernel(x, y, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    # Consecutive threads take consecutive ow: stores are coalesced, loads stride by sw.
    n, c, oh, ow, inside = thread_element(y)
    if inside:
        h_start, h_end, w_start, w_end = window_rect(oh, ow, kh, kw, sh, sw, ph, pw, x.shape)
        divisor = _window_divisor(oh, ow, x.shape[2], x.shape[3], kh, kw, sh, sw, ph, pw,
                                  count_include_pad, divisor_override)
        y[n, c, oh, ow] = _window_sum(x, n, c, h_start, h_end, w_start, w_end) / float32(divisor)


def avg_pool2d_forward_cuda(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                            divisor_override, out=None):
    op = "avg_pool2d_forward_cuda"
    params, y = _check_avg_forward(op, x, kernel_size, stride, padding, ceil_mode,
                                   count_include_pad, divisor_override, out, True)
    launch_flat(op, _avg_forward_cuda_kernel, y.size, THREADS, x, y, *params)
    return y


# ----------------------------------------------------------------- average pooling: backward

@njit(parallel=True, cache=True)
def _avg_backward_cpu_kernel(dy, dx, kh, kw, sh, sw, ph, pw, count_include_pad,
                             divisor_override):
    height = dx.shape[2]
    out_h, out_w = dy.shape[2], dy.shape[3]
    dx_planes, dy_planes, tap_lo, tap_hi, divisors = _avg_cpu_plan(
        dx, dy, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override)
    for plane in prange(dx_planes.shape[0]):
        dxp = dx_planes[plane]
        dyp = dy_planes[plane]
        dxp[:] = 0.0
        share = np.empty(out_w, np.float32)
        # Each plane belongs to one thread, so this scatter needs no atomics.
        for oh in range(out_h):
            for ow in range(out_w):
                share[ow] = dyp[oh, ow] / divisors[oh, ow]
            h_start, h_end = window_bounds(oh, kh, sh, ph, height)
            for h in range(h_start, h_end):
                dxrow = dxp[h]
                # Taps from last to first: an input then receives its windows of this row in
                # ascending ow, so every input adds in the GPU gather's (oh, ow) order.
                for j in range(kw - 1, -1, -1):
                    for ow in range(tap_lo[j], tap_hi[j]):
                        dxrow[ow * sw - pw + j] += share[ow]


def avg_pool2d_backward_cpu(dy, x_shape, kernel_size, stride, padding, ceil_mode,
                            count_include_pad, divisor_override, out=None):
    op = "avg_pool2d_backward_cpu"
    params, dx = _check_avg_backward(op, dy, x_shape, kernel_size, stride, padding, ceil_mode,
                                     count_include_pad, divisor_override, out, False)
    _avg_backward_cpu_kernel(dy, dx, *params)
    return dx


@cuda_kernel(f"void({ARRAY4}, {ARRAY4}, {WINDOW_ARGS}, int32, int32)")
def _avg_backward_cuda_kernel(dy, dx, kh, kw, sh, sw, ph, pw, count_include_pad,
                              divisor_override):
    height = dx.shape[2]
    width = dx.shape[3]
    n, c, h, w, inside = thread_element(dx)
    if inside:
        oh_start, oh_end, ow_start, ow_end = windows_containing_rect(
            h, w, kh, kw, sh, sw, ph, pw, dy.shape)
        # A gather in fixed (oh, ow) order: no atomics, so the result is deterministic.
        acc = float32(0)
        for oh in range(oh_start, oh_end):
            rows = _window_factor(oh, height, kh, sh, ph, count_include_pad)
            for ow in range(ow_start, ow_end):
                divisor = divisor_override
                if divisor == 0:
                    divisor = rows * _window_factor(ow, width, kw, sw, pw, count_include_pad)
                acc += dy[n, c, oh, ow] / float32(divisor)
        dx[n, c, h, w] = acc


def avg_pool2d_backward_cuda(dy, x_shape, kernel_size, stride, padding, ceil_mode,
                             count_include_pad, divisor_override, out=None):
    op = "avg_pool2d_backward_cuda"
    params, dx = _check_avg_backward(op, dy, x_shape, kernel_size, stride, padding, ceil_mode,
                                     count_include_pad, divisor_override, out, True)
    launch_flat(op, _avg_backward_cuda_kernel, dx.size, THREADS, dy, dx, *params)
    return dx


# ---------------------------------------------------------- adaptive average pooling: forward

@njit(cache=True)
def _bin_edges(n_out, size):
    start = np.empty(n_out, np.int64)
    end = np.empty(n_out, np.int64)
    for o in range(n_out):
        start[o], end[o] = _bin(o, size, n_out)
    return start, end


@njit(cache=True)
def _adaptive_cpu_plan(x_side, y_side):
    """What the adaptive CPU twins set up once per call: the input-side array (x or dx) and
    the output-side one (y or dy) as flat planes, and the bins' edges: bin (oh, ow) covers rows
    [h_start[oh], h_end[oh]) and columns [w_start[ow], w_end[ow])."""
    h_start, h_end = _bin_edges(y_side.shape[2], x_side.shape[2])
    w_start, w_end = _bin_edges(y_side.shape[3], x_side.shape[3])
    return flat_planes(x_side), flat_planes(y_side), h_start, h_end, w_start, w_end


@njit(inline="always")
def _bin_sums(x_group, sums, count, k, rows, span, row_step):
    """sums[p] = the bin's sum in plane p < count of x_group, whose bin starts at offset k: a
    running sum in row-major order, the GPU kernel's. The planes' chains of adds are
    independent, so the CPU overlaps them instead of waiting on one add after another."""
    for p in range(count):
        sums[p] = np.float32(0)
    for _ in range(rows):
        for j in range(span):
            for p in range(count):
                sums[p] += x_group[p, k + j]
        k += row_step


@njit(parallel=True, cache=True)
def _adaptive_avg_forward_cpu_kernel(x, y):
    width = x.shape[3]
    out_h, out_w = y.shape[2], y.shape[3]
    # Flat planes indexed with unsigned offsets: no negative-index wraparound code in the
    # inner loop. Planes go in groups of PLANE_GROUP, one group per task: with 2-D indexing
    # and one plane at a time, a global average pool (64x512x7x7) measured 2.5x slower.
    x_planes, y_planes, h_start, h_end, w_start, w_end = _adaptive_cpu_plan(x, y)
    planes = x_planes.shape[0]
    row_step = np.uint32(width)
    for group in prange((planes + PLANE_GROUP - 1) // PLANE_GROUP):
        first = group * PLANE_GROUP
        count = min(PLANE_GROUP, planes - first)
        x_group = x_planes[first:first + count]
        sums = np.empty(PLANE_GROUP, np.float32)
        for oh in range(out_h):
            rows = h_end[oh] - h_start[oh]
            for ow in range(out_w):
                span = np.uint32(w_end[ow] - w_start[ow])
                k = np.uint32(h_start[oh] * width + w_start[ow])
                if count == PLANE_GROUP:   # a constant trip count: the plane loop unrolls
                    _bin_sums(x_group, sums, PLANE_GROUP, k, rows, span, row_step)
                else:
                    _bin_sums(x_group, sums, count, k, rows, span, row_step)
                area = np.float32(rows * span)
                for p in range(count):
                    y_planes[first + p, oh * out_w + ow] = sums[p] / area


def _check_adaptive_avg_forward(op, x, output_size, out, on_device):
    check_array(op, "x", x, 4)
    out_hw = adaptive_output_hw(op, x.shape, output_size)
    return output(op, on_device, out, (x.shape[0], x.shape[1], *out_hw), x=x)


def adaptive_avg_pool2d_forward_cpu(x, output_size, out=None):
    op = "adaptive_avg_pool2d_forward_cpu"
    y = _check_adaptive_avg_forward(op, x, output_size, out, False)
    _adaptive_avg_forward_cpu_kernel(x, y)
    return y


@cuda_kernel(f"void({ARRAY4}, {ARRAY4})")
def _adaptive_avg_forward_cuda_kernel(x, y):
    n, c, oh, ow, inside = thread_element(y)
    if inside:
        h_start, h_end, w_start, w_end = _bin_rect(oh, ow, x.shape, y.shape)
        area = (h_end - h_start) * (w_end - w_start)
        y[n, c, oh, ow] = _window_sum(x, n, c, h_start, h_end, w_start, w_end) / float32(area)


def adaptive_avg_pool2d_forward_cuda(x, output_size, out=None):
    op = "adaptive_avg_pool2d_forward_cuda"
    y = _check_adaptive_avg_forward(op, x, output_size, out, True)
    launch_flat(op, _adaptive_avg_forward_cuda_kernel, y.size, THREADS, x, y)
    return y


# --------------------------------------------------------- adaptive average pooling: backward

@njit(parallel=True, cache=True)
def _adaptive_avg_backward_cpu_kernel(dy, dx):
    width = dx.shape[3]
    out_h, out_w = dy.shape[2], dy.shape[3]
    dx_planes, dy_planes, h_start, h_end, w_start, w_end = _adaptive_cpu_plan(dx, dy)
    row_step = np.uint32(width)
    for plane in prange(dx_planes.shape[0]):
        dxp = dx_planes[plane]
        dyp = dy_planes[plane]
        dxp[:] = 0.0
        # A scatter in (oh, ow) order, the GPU gather's; the innermost loop runs along a row.
        for oh in range(out_h):
            rows = h_end[oh] - h_start[oh]
            for ow in range(out_w):
                span = np.uint32(w_end[ow] - w_start[ow])
                share = dyp[oh * out_w + ow] / np.float32(rows * span)
                k = np.uint32(h_start[oh] * width + w_start[ow])
                for _ in range(rows):
                    for j in range(span):
                        dxp[k + j] += share
                    k += row_step


def adaptive_avg_pool2d_backward_cpu(dy, x_shape, out=None):
    op = "adaptive_avg_pool2d_backward_cpu"
    _, dx = _check_adaptive_backward(op, dy, None, x_shape, out, False)
    _adaptive_avg_backward_cpu_kernel(dy, dx)
    return dx


@cuda_kernel(f"void({ARRAY4}, {ARRAY4})")
def _adaptive_avg_backward_cuda_kernel(dy, dx):
    height = dx.shape[2]
    width = dx.shape[3]
    out_h = dy.shape[2]
    out_w = dy.shape[3]
    n, c, h, w, inside = thread_element(dx)
    if inside:
        oh_start, oh_end, ow_start, ow_end = _bins_containing_rect(h, w, dx.shape, dy.shape)
        acc = float32(0)
        for oh in range(oh_start, oh_end):
            h_start, h_end = _bin(oh, height, out_h)
            for ow in range(ow_start, ow_end):
                w_start, w_end = _bin(ow, width, out_w)
                area = (h_end - h_start) * (w_end - w_start)
                acc += dy[n, c, oh, ow] / float32(area)
        dx[n, c, h, w] = acc


def adaptive_avg_pool2d_backward_cuda(dy, x_shape, out=None):
    op = "adaptive_avg_pool2d_backward_cuda"
    _, dx = _check_adaptive_backward(op, dy, None, x_shape, out, True)
    launch_flat(op, _adaptive_avg_backward_cuda_kernel, dx.size, THREADS, dy, dx)
    return dx


# -------------------------------------------------------------- adaptive max pooling: forward

@njit(parallel=True, cache=True)
def _adaptive_max_forward_cpu_kernel(x, y, indices):
    width = x.shape[3]
    out_h, out_w = y.shape[2], y.shape[3]
    # Flat planes with unsigned offsets, which are the h * W + w the indices record.
    x_planes, y_planes, h_start, h_end, w_start, w_end = _adaptive_cpu_plan(x, y)
    i_planes = flat_planes(indices)
    row_step = np.uint32(width)
    for plane in prange(x_planes.shape[0]):
        xp = x_planes[plane]
        for oh in range(out_h):
            for ow in range(out_w):
                span = np.uint32(w_end[ow] - w_start[ow])
                k = np.uint32(h_start[oh] * width + w_start[ow])
                best = np.float32(-np.inf)
                best_at = k
                for _ in range(h_end[oh] - h_start[oh]):
                    for j in range(span):
                        best, best_at = keep_max(xp[k + j], k + j, best, best_at)
                    k += row_step
                y_planes[plane, oh * out_w + ow] = best
                i_planes[plane, oh * out_w + ow] = best_at


def _check_adaptive_max_forward(op, x, output_size, out, indices, on_device):
    check_array(op, "x", x, 4)
    out_hw = adaptive_output_hw(op, x.shape, output_size)
    y_shape = (x.shape[0], x.shape[1], *out_hw)
    return outputs(op, on_device, (out, y_shape, np.float32, "out"),
                   (indices, y_shape, np.int64, "indices"), x=x)


def adaptive_max_pool2d_forward_cpu(x, output_size, out=None, indices=None):
    op = "adaptive_max_pool2d_forward_cpu"
    y, ind = _check_adaptive_max_forward(op, x, output_size, out, indices, False)
    _adaptive_max_forward_cpu_kernel(x, y, ind)
    return y, ind


@cuda_kernel(f"void({ARRAY4}, {ARRAY4}, int64[:, :, :, ::1])")
def _adaptive_max_forward_cuda_kernel(x, y, indices):
    n, c, oh, ow, inside = thread_element(y)
    if inside:
        h_start, h_end, w_start, w_end = _bin_rect(oh, ow, x.shape, y.shape)
        y[n, c, oh, ow], indices[n, c, oh, ow] = window_max(x, n, c, h_start, h_end, w_start,
                                                            w_end)


def adaptive_max_pool2d_forward_cuda(x, output_size, out=None, indices=None):
    op = "adaptive_max_pool2d_forward_cuda"
    y, ind = _check_adaptive_max_forward(op, x, output_size, out, indices, True)
    launch_flat(op, _adaptive_max_forward_cuda_kernel, y.size, THREADS, x, y, ind)
    return y, ind


# ------------------------------------------------------------- adaptive max pooling: backward
# The CPU twin is max pooling's (a scatter to the recorded argmax, plane by plane).

def adaptive_max_pool2d_backward_cpu(dy, indices, x_shape, out=None):
    op = "adaptive_max_pool2d_backward_cpu"
    x_shape, dx = _check_adaptive_backward(op, dy, indices, x_shape, out, False)
    if scatter_to_argmax_cpu(dy, indices, dx):
        raise ValueError(f"{op}: indices {tuple(indices.shape)} hold positions outside the "
                         f"{x_shape[2]}x{x_shape[3]} input plane (not from "
                         f"adaptive_max_pool2d_forward?)")
    return dx


@cuda_kernel(f"void({ARRAY4}, int64[:, :, :, ::1], {ARRAY4})")
def _adaptive_max_backward_cuda_kernel(dy, indices, dx):
    n, c, h, w, inside = thread_element(dx)
    if inside:
        oh_start, oh_end, ow_start, ow_end = _bins_containing_rect(h, w, dx.shape, dy.shape)
        dx[n, c, h, w] = gather_argmax(dy, indices, n, c, oh_start, oh_end, ow_start, ow_end,
                                       h * dx.shape[3] + w)


def adaptive_max_pool2d_backward_cuda(dy, indices, x_shape, out=None):
    op = "adaptive_max_pool2d_backward_cuda"
    _, dx = _check_adaptive_backward(op, dy, indices, x_shape, out, True)
    # An index outside its bin (or the plane) matches no thread: it is dropped, never written
    # out of bounds.
    launch_flat(op, _adaptive_max_backward_cuda_kernel, dx.size, THREADS, dy, indices, dx)
    return dx


OPS = {
    "avg_pool2d_forward": Twins(avg_pool2d_forward_cpu, avg_pool2d_forward_cuda),
    "avg_pool2d_backward": Twins(avg_pool2d_backward_cpu, avg_pool2d_backward_cuda),
    "adaptive_avg_pool2d_forward": Twins(adaptive_avg_pool2d_forward_cpu,
                                         adaptive_avg_pool2d_forward_cuda),
    "adaptive_avg_pool2d_backward": Twins(adaptive_avg_pool2d_backward_cpu,
                                          adaptive_avg_pool2d_backward_cuda),
    "adaptive_max_pool2d_forward": Twins(adaptive_max_pool2d_forward_cpu,
                                         adaptive_max_pool2d_forward_cuda),
    "adaptive_max_pool2d_backward": Twins(adaptive_max_pool2d_backward_cpu,
                                          adaptive_max_pool2d_backward_cuda),
}
