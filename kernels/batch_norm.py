"""Batch normalization: per-channel statistics, the normalisation, and its backward pass, with
torch.nn.functional.batch_norm's semantics.

Data is viewed as (N, C, S), C-contiguous float32: S = H*W for (N, C, H, W), L for (N, C, L),
1 for (N, C). Every per-channel array is (C,) float32. M = N*S values per channel.

    batch_norm_stats_*(x, running_mean=None, running_var=None, momentum=0.1,
                       out_mean=None, out_var=None) -> (mean, var)
        mean and biased variance of every channel over its M values. With running_mean and
        running_var given, also updates them in place (M >= 2):
            running_mean = momentum * mean + (1 - momentum) * running_mean
            running_var  = momentum * var * M / (M - 1) + (1 - momentum) * running_var
    batch_norm_forward_*(x, mean, var, weight, bias, eps, out=None) -> y
        y = (x - mean) / sqrt(var + eps) * weight + bias; weight / bias None act as 1 / 0.
        The batch's statistics in training, the running ones in evaluation.
    batch_norm_backward_*(dy, x, mean, var, weight, eps, training, out_dx=None,
                          out_dweight=None, out_dbias=None) -> (dx, dweight, dbias)
        with invstd = 1 / sqrt(var + eps), xhat = (x - mean) * invstd:
            dbias   = sum of dy over (N, S)
            dweight = sum of dy * xhat over (N, S)
            dx      = weight * invstd * (dy - dbias / M - xhat * dweight / M)   training
            dx      = weight * invstd * dy                                       evaluation
        (in evaluation the statistics are constants, so dx is a plain scale).

Numerics. The variance is never E[x^2] - E[x]^2 (which cancels catastrophically when the mean
is large against the spread): the values of a channel are cut into chunks whose boundaries
depend on the shape alone; each chunk is summed twice, for its mean and then for the squared
deviations from that mean (the second read hits the cache), and the chunks' (count, mean, M2)
are merged by Chan's formula in a fixed order. The CPU accumulates in float64 (as PyTorch's
CPU kernel does); the GPU in float32 with fixed shared-memory trees, and no atomics. Results
are the same bits run to run, on any thread count.

Layout. A channel's values are N runs of S contiguous floats, C*S apart.
  CPU  rows (S >= CPU_COLUMNS_BELOW): tasks (channel, chunk of CPU_CHUNK values) in parallel
       for the reductions, each walking its runs with a vectorised loop (a float64 sum that
       may reassociate: LLVM's fixed set of partial sums, which depends on the run length
       alone); the elementwise passes run in parallel over the N*C rows.
       columns (short runs, S = 1 for (N, C)): tasks (chunk of images, block of channels) add
       each image's C*S values into a vector of per-position sums, a loop with no reduction
       in it, so it vectorises as written; the elementwise passes take (image, block) tasks
       with the per-channel coefficients spread to one per position.
       Either way a channel's chunks are then merged in order, in parallel over channels.
  GPU  a grid of (chunk, channel) blocks of THREADS; consecutive threads take consecutive
       values of the chunk (coalesced along S), a thread moving on by THREADS values with no
       division (THREADS = q*S + r is split once, on the host). Chunks are cut so that there
       are about GPU_BLOCKS blocks when C is small (never under THREADS * MIN_ITEMS values); a
       finish kernel (one block per channel) merges the statistics' chunks, and the backward's
       data kernel folds the chunks' sums itself before it writes dx (every block of a channel
       folds them in the same order, so all see the same totals).
"""
import math

import numpy as np
from numba import cuda, float32, njit, prange

from ._checks import ceil_div, check_array, outputs
from ._device_functions import block_tree_sum
from ._registry import Twins, cuda_kernel

VERSIONS = (1,)
DEFAULT_VERSION = 1

# CUDA geometry (the simulator tests lower these).
THREADS = 256            # threads of every block (a power of two: the trees halve it)
GPU_BLOCKS = 2048        # blocks a launch aims at when the channels alone are too few
MIN_ITEMS = 8            # values per thread a chunk holds at least
MAX_CHANNEL_BLOCKS = 65535   # grid rows (channels); more channels are covered by a loop
# CPU: values of a channel per reduction task. Fixed: float sums must not depend on the thread
# count; small enough that a task's second pass reads from the cache (64 KiB of float32).
CPU_CHUNK = 16384
CPU_COLUMNS_BELOW = 32   # runs of S shorter than this use the columns layout
CPU_COLUMN_CHUNK = 512   # columns layout: values of a channel per chunk, at least
CPU_TASK_VALUES = 65536  # columns layout: values per reduction task, at most (unless a chunk
                         # of one channel is larger)


# ================================================================ shared formulas
# Inlined @njit functions, compiled for the CPU and, called from a kernel, for the GPU: float32
# arguments keep float32 arithmetic there (no literals that would promote to float64).

@njit(inline="always")
def _chan_merge(count_a, mean_a, m2_a, count_b, mean_b, m2_b):
    """(count, mean, M2) of two sets from each one's (count, mean, M2), counts > 0 (Chan,
    Golub and LeVeque's pairwise update: no cancellation between large sums)."""
    count = count_a + count_b
    delta = mean_b - mean_a
    share = count_b / count
    return count, mean_a + delta * share, m2_a + m2_b + delta * delta * count_a * share


# ================================================================ argument checks

def _check_values(op, name, x):
    check_array(op, name, x, 3)
    n, c, s = (int(v) for v in x.shape)
    if c < 1 or n * s < 1:
        raise ValueError(f"{op}: {name} {tuple(x.shape)} (N, C, S) has no values per channel")
    return n, c, s


def _check_channels(op, name, a, n_chan, optional=False):
    if a is None:
        if optional:
            return
        raise TypeError(f"{op}: {name} must be an array of {n_chan} channel values, got None")
    check_array(op, name, a, 1)
    if tuple(a.shape) != (n_chan,):
        raise ValueError(f"{op}: {name} has shape {tuple(a.shape)}, expected ({n_chan},) "
                         f"(one value per channel)")


def _check_same_shape(op, name, a, like_name, like):
    check_array(op, name, a, 3)
    if tuple(a.shape) != tuple(like.shape):
        raise ValueError(f"{op}: {name} has shape {tuple(a.shape)}, {like_name} has "
                         f"{tuple(like.shape)}; they must match")


def _check_eps(op, eps):
    eps = float(eps)
    if not eps >= 0.0 or math.isinf(eps):
        raise ValueError(f"{op}: eps must be a finite number >= 0, got {eps}")
    return eps


def _check_stats(op, x, running_mean, running_var, momentum, out_mean, out_var, on_device):
    n, c, s = _check_values(op, "x", x)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: running_mean and running_var must both be given or both be "
                         f"None")
    update = running_mean is not None
    momentum = float(momentum) if update else 0.0
    if update:
        _check_channels(op, "running_mean", running_mean, c)
        _check_channels(op, "running_var", running_var, c)
        if n * s < 2:
            raise ValueError(f"{op}: the unbiased variance of the running statistics needs at "
                             f"least 2 values per channel, x {tuple(x.shape)} has {n * s}")
        if not math.isfinite(momentum):
            raise ValueError(f"{op}: momentum must be a finite number, got {momentum}")
    mean, var = outputs(op, on_device, (out_mean, (c,), np.float32, "out_mean"),
                        (out_var, (c,), np.float32, "out_var"), x=x, running_mean=running_mean,
                        running_var=running_var)
    return n * s, update, momentum, mean, var


def _check_forward(op, x, mean, var, weight, bias, eps, out, on_device):
    _, c, _ = _check_values(op, "x", x)
    _check_channels(op, "mean", mean, c)
    _check_channels(op, "var", var, c)
    _check_channels(op, "weight", weight, c, optional=True)
    _check_channels(op, "bias", bias, c, optional=True)
    eps = _check_eps(op, eps)
    (y,) = outputs(op, on_device, (out, tuple(x.shape), np.float32, "out"), x=x, mean=mean,
                   var=var, weight=weight, bias=bias)
    return eps, y


def _check_backward(op, dy, x, mean, var, weight, eps, out_dx, out_dweight, out_dbias,
                    on_device):
    _, c, _ = _check_values(op, "x", x)
    _check_same_shape(op, "dy", dy, "x", x)
    _check_channels(op, "mean", mean, c)
    _check_channels(op, "var", var, c)
    _check_channels(op, "weight", weight, c, optional=True)
    eps = _check_eps(op, eps)
    dx, dweight, dbias = outputs(
        op, on_device, (out_dx, tuple(x.shape), np.float32, "out_dx"),
        (out_dweight, (c,), np.float32, "out_dweight"), (out_dbias, (c,), np.float32, "out_dbias"),
        dy=dy, x=x, mean=mean, var=var, weight=weight)
    return eps, dx, dweight, dbias


# ================================================================ CPU twins
# Two layouts of the same work, rows and columns (see the module's docstring), chosen by S.

_FOLD_SUM, _FOLD_SQUARED_DEVIATIONS, _FOLD_GRADIENT_SUMS = 0, 1, 2


def _cpu_plan(n_img, n_chan, size):
    """(columns, chunk, block, n_chunks): the layout, the values of a channel per chunk, the
    channels per columns task, and the chunks per channel. A columns task holds whole images
    of CPU_COLUMN_CHUNK values per channel or more (each chunk costs every channel a merge)
    and CPU_TASK_VALUES values in all (its second pass reads them from the cache)."""
    if size >= CPU_COLUMNS_BELOW:
        return False, CPU_CHUNK, 1, ceil_div(n_img * size, CPU_CHUNK)
    rows = ceil_div(CPU_COLUMN_CHUNK, size)
    block = min(n_chan, max(1, CPU_TASK_VALUES // (rows * size)))
    return True, rows * size, block, ceil_div(n_img, rows)


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _run_fold(mode, a, b, off, n, center):
    """Over the run a[off:off + n] (and b's): (sum a, 0), (sum (a - center)^2, 0), or (sum a,
    sum a * (b - center)), returned in float64. Only these loops may reassociate (fastmath "reassoc",
    nothing that changes NaN or inf): LLVM then vectorises them with a fixed set of partial
    sums whose order depends on n alone."""
    acc = 0.0
    acc2 = 0.0
    ra = a[off:off + n]
    if mode == _FOLD_SUM:
        for j in range(n):
            acc += ra[j]
    elif mode == _FOLD_SQUARED_DEVIATIONS:
        # float32 vectors, twice as wide: terms of one sign, so no cancellation; a run's
        # sum is spread over LLVM's partial sums, then carried on in float64.
        center32 = np.float32(center)
        acc32 = np.float32(0.0)
        for j in range(n):
            d = ra[j] - center32
            acc32 += d * d
        acc = np.float64(acc32)
    else:
        rb = b[off:off + n]
        for j in range(n):
            g = np.float64(ra[j])
            acc += g
            acc2 += g * (rb[j] - center)
    return acc, acc2


@njit(cache=True, error_model="numpy")
def _chunk_fold(mode, a, b, c, n_chan, size, start, stop, center):
    """_run_fold over the values [start, stop) of channel c (flat arrays of (N, C, S)), one
    run of contiguous S at a time, the runs added in order."""
    n = start // size
    s = start - n * size
    p = start
    acc = 0.0
    acc2 = 0.0
    while p < stop:
        run = min(size - s, stop - p)
        r1, r2 = _run_fold(mode, a, b, (n * n_chan + c) * size + s, run, center)
        acc += r1
        acc2 += r2
        p += run
        n += 1
        s = 0
    return acc, acc2


@njit(parallel=True, cache=True, error_model="numpy")
def _partials_rows(mode, a, b, shape, chunk, centers, part1, part2):
    """Task (channel c, chunk k): part1[c, k], part2[c, k] of the chunk's values. mode
    _FOLD_SUM gives the chunk's (mean, M2), two passes; _FOLD_GRADIENT_SUMS gives (sum a,
    sum a * (b - centers[c]))."""
    n_img, n_chan, size = shape
    total = n_img * size
    n_chunks = part1.shape[1]
    for task in prange(n_chan * n_chunks):
        c = task // n_chunks
        k = task - c * n_chunks
        start = k * chunk
        stop = min(start + chunk, total)
        if mode == _FOLD_SUM:
            chunk_sum, _ = _chunk_fold(_FOLD_SUM, a, b, c, n_chan, size, start, stop, 0.0)
            center = chunk_sum / (stop - start)
            part1[c, k] = center
            part2[c, k], _ = _chunk_fold(_FOLD_SQUARED_DEVIATIONS, a, b, c, n_chan, size, start,
                                         stop, center)
        else:
            part1[c, k], part2[c, k] = _chunk_fold(mode, a, b, c, n_chan, size, start, stop,
                                                   np.float64(centers[c]))


@njit(cache=True, error_model="numpy")
def _per_channel(acc, c0, n_chan_block, size, out, k):
    """out[c0 + i, k] = the sum of acc's S positions of channel i of the block, in order."""
    for i in range(n_chan_block):
        total = 0.0
        for s in range(size):
            total += acc[i * size + s]
        out[c0 + i, k] = total


@njit(parallel=True, cache=True, error_model="numpy")
def _partials_columns(mode, a, b, shape, chunk, block, centers, part1, part2):
    """_partials_rows' results from tasks (chunk of rows k, block of channels): each row adds
    its block's C*S values into vectors of per-position sums, summed per channel at the end."""
    n_img, n_chan, size = shape
    rows = chunk // size
    n_chunks = part1.shape[1]
    n_blocks = (n_chan + block - 1) // block
    for task in prange(n_chunks * n_blocks):
        k = task // n_blocks
        c0 = (task - k * n_blocks) * block
        n_chan_block = min(block, n_chan - c0)
        width = n_chan_block * size
        n0 = k * rows
        n1 = min(n0 + rows, n_img)
        acc = np.zeros(width)
        acc2 = np.zeros(width)
        center = np.empty(width)
        if mode == _FOLD_SUM:
            for n in range(n0, n1):
                ra = a[(n * n_chan + c0) * size:(n * n_chan + c0) * size + width]
                for j in range(width):
                    acc[j] += ra[j]
            _per_channel(acc, c0, n_chan_block, size, part1, k)
            count = (n1 - n0) * size
            for i in range(n_chan_block):
                part1[c0 + i, k] /= count
                for s in range(size):
                    center[i * size + s] = part1[c0 + i, k]
            for n in range(n0, n1):
                ra = a[(n * n_chan + c0) * size:(n * n_chan + c0) * size + width]
                for j in range(width):
                    d = ra[j] - center[j]
                    acc2[j] += d * d
            _per_channel(acc2, c0, n_chan_block, size, part2, k)
        else:
            for i in range(n_chan_block):
                for s in range(size):
                    center[i * size + s] = centers[c0 + i]
            for n in range(n0, n1):
                ra = a[(n * n_chan + c0) * size:(n * n_chan + c0) * size + width]
                rb = b[(n * n_chan + c0) * size:(n * n_chan + c0) * size + width]
                for j in range(width):
                    g = np.float64(ra[j])
                    acc[j] += g
                    acc2[j] += g * (rb[j] - center[j])
            _per_channel(acc, c0, n_chan_block, size, part1, k)
            _per_channel(acc2, c0, n_chan_block, size, part2, k)


def _partials_cpu(mode, a, b, centers):
    """(part1, part2), each (C, chunks) float64, of _partials_rows / _partials_columns."""
    shape = tuple(int(v) for v in a.shape)
    columns, chunk, block, n_chunks = _cpu_plan(*shape)
    part1 = np.empty((shape[1], n_chunks))
    part2 = np.empty((shape[1], n_chunks))
    flat_a, flat_b = a.reshape(a.size), b.reshape(b.size)
    if columns:
        _partials_columns(mode, flat_a, flat_b, shape, chunk, block, centers, part1, part2)
    else:
        _partials_rows(mode, flat_a, flat_b, shape, chunk, centers, part1, part2)
    return part1, part2, chunk


@njit(parallel=True, cache=True, error_model="numpy")
def _stats_merge_cpu(part_mean, part_m2, chunk, total, mean, var, running_mean, running_var,
                     momentum, update):
    for c in prange(part_mean.shape[0]):
        count = np.float64(min(chunk, total))
        m = part_mean[c, 0]
        m2 = part_m2[c, 0]
        for k in range(1, part_mean.shape[1]):
            count, m, m2 = _chan_merge(count, m, m2, np.float64(min(chunk, total - k * chunk)),
                                       part_mean[c, k], part_m2[c, k])
        mean[c] = m
        var[c] = m2 / total
        if update:
            running_mean[c] = momentum * m + (1.0 - momentum) * running_mean[c]
            running_var[c] = momentum * (m2 / (total - 1)) + (1.0 - momentum) * running_var[c]


def batch_norm_stats_cpu(x, running_mean=None, running_var=None, momentum=0.1, out_mean=None,
                         out_var=None):
    """(mean, biased var) per channel of x (N, C, S); updates the running statistics in place
    when given."""
    op = "batch_norm_stats_cpu"
    total, update, momentum, mean, var = _check_stats(op, x, running_mean, running_var, momentum,
                                                      out_mean, out_var, False)
    part_mean, part_m2, chunk = _partials_cpu(_FOLD_SUM, x, x, mean)
    # Stand-ins when there are no running statistics: typed like them, never written.
    rm, rv = (running_mean, running_var) if update else (mean, var)
    _stats_merge_cpu(part_mean, part_m2, chunk, total, mean, var, rm, rv, momentum, update)
    return mean, var


@njit(cache=True, error_model="numpy")
def _expand(values, size, columns):
    """A per-channel array as the elementwise loops index it: itself (rows), or each value
    repeated S times, one per position of a row of C*S (columns)."""
    if not columns:
        return values
    out = np.empty(values.size * size, values.dtype)
    for c in range(values.size):
        for s in range(size):
            out[c * size + s] = values[c]
    return out


@njit(parallel=True, cache=True, error_model="numpy")
def _channel_map_cpu(shape, columns, block, x, mean, coef_x, coef_d, a, coef_a, out):
    """out = coef_x * (x - mean) + coef_d, plus coef_a * a unless a is None (the backward's
    dx; the forward's normalisation has no a term), coefficients per channel (a, x, out flat).
    Rows: one task per (n, c) row of S. Columns: one task per (n, block of channels), the
    coefficients expanded to one per position. Numba prunes the `a is None` branches when it
    compiles for a None argument, so the forward's loops carry no trace of the a term."""
    n_img, n_chan, size = shape
    if columns:
        ex = _expand(coef_x, size, True)
        ed = _expand(coef_d, size, True)
        em = _expand(mean, size, True)
        if a is not None:
            ea = _expand(coef_a, size, True)
        n_blocks = (n_chan + block - 1) // block
        for task in prange(n_img * n_blocks):
            n = task // n_blocks
            c0 = (task - n * n_blocks) * block
            lo = c0 * size
            hi = min(c0 + block, n_chan) * size
            base = n * n_chan * size
            rx = x[base + lo:base + hi]
            ro = out[base + lo:base + hi]
            cx = ex[lo:hi]
            cd = ed[lo:hi]
            cm = em[lo:hi]
            if a is None:
                for j in range(hi - lo):
                    ro[j] = (rx[j] - cm[j]) * cx[j] + cd[j]
            else:
                ra = a[base + lo:base + hi]
                ca = ea[lo:hi]
                for j in range(hi - lo):
                    ro[j] = ca[j] * ra[j] + cx[j] * (rx[j] - cm[j]) + cd[j]
    else:
        for r in prange(n_img * n_chan):
            c = r % n_chan
            off = r * size
            rx = x[off:off + size]
            ro = out[off:off + size]
            cx = coef_x[c]
            cd = coef_d[c]
            m = mean[c]
            if a is None:
                for s in range(size):
                    ro[s] = (rx[s] - m) * cx + cd
            else:
                ra = a[off:off + size]
                ca = coef_a[c]
                for s in range(size):
                    ro[s] = ca * ra[s] + cx * (rx[s] - m) + cd


@njit(cache=True, error_model="numpy")
def _scale_shift_cpu(var, weight, bias, has_weight, has_bias, eps, scale, shift):
    """Per channel: scale = weight / sqrt(var + eps) and shift = bias."""
    for c in range(var.size):
        invstd = 1.0 / np.sqrt(np.float64(var[c]) + eps)
        scale[c] = invstd * weight[c] if has_weight else invstd
        shift[c] = bias[c] if has_bias else 0.0


def batch_norm_forward_cpu(x, mean, var, weight, bias, eps, out=None):
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel of x (N, C, S)."""
    op = "batch_norm_forward_cpu"
    eps, y = _check_forward(op, x, mean, var, weight, bias, eps, out, False)
    shape = tuple(int(v) for v in x.shape)
    columns, _, block, _ = _cpu_plan(*shape)
    scale = np.empty(shape[1], np.float32)
    shift = np.empty(shape[1], np.float32)
    _scale_shift_cpu(var, mean if weight is None else weight, mean if bias is None else bias,
                     weight is not None, bias is not None, eps, scale, shift)
    _channel_map_cpu(shape, columns, block, x.reshape(x.size), mean, scale, shift, None, None,
                     y.reshape(y.size))
    return y


@njit(cache=True, error_model="numpy")
def _backward_coefficients_cpu(part_g, part_gx, var, weight, has_weight, eps, training, total,
                               dweight, dbias, coef_a, coef_b, coef_d):
    """dbias, dweight, and dx = a * dy + b * (x - mean) + d per channel: the chunks' sums
    added in order, the coefficients formed in float64."""
    for c in range(var.size):
        sum_g = 0.0
        sum_gx = 0.0
        for k in range(part_g.shape[1]):
            sum_g += part_g[c, k]
            sum_gx += part_gx[c, k]
        invstd = 1.0 / np.sqrt(np.float64(var[c]) + eps)
        dbias[c] = sum_g
        dweight[c] = sum_gx * invstd
        a = invstd * weight[c] if has_weight else invstd
        coef_a[c] = a
        if training:
            coef_b[c] = -a * invstd * invstd * sum_gx / total
            coef_d[c] = -a * sum_g / total
        else:
            coef_b[c] = 0.0
            coef_d[c] = 0.0


def batch_norm_backward_cpu(dy, x, mean, var, weight, eps, training, out_dx=None,
                            out_dweight=None, out_dbias=None):
    """(dx, dweight, dbias) of batch_norm_forward for the upstream gradient dy (N, C, S)."""
    op = "batch_norm_backward_cpu"
    eps, dx, dweight, dbias = _check_backward(op, dy, x, mean, var, weight, eps, out_dx,
                                              out_dweight, out_dbias, False)
    shape = tuple(int(v) for v in x.shape)
    columns, _, block, _ = _cpu_plan(*shape)
    part_g, part_gx, _ = _partials_cpu(_FOLD_GRADIENT_SUMS, dy, x, mean)
    coef_a, coef_b, coef_d = (np.empty(shape[1], np.float32) for _ in range(3))
    _backward_coefficients_cpu(part_g, part_gx, var, mean if weight is None else weight,
                               weight is not None, eps, bool(training), shape[0] * shape[2],
                               dweight, dbias, coef_a, coef_b, coef_d)
    _channel_map_cpu(shape, columns, block, x.reshape(x.size), mean, coef_b, coef_d,
                     dy.reshape(dy.size), coef_a, dx.reshape(dx.size))
    return dx, dweight, dbias


# ================================================================ CUDA kernels
# The kernels take flat views of the (N, C, S) arrays and a walk: the shape and the steps a
# thread takes, worked out on the host (see _walk). Each thread keeps its index p among its
# channel's N*S values, its position s within a row and its flat address, and moves them on by
# THREADS values with adds only: no division in any loop (a 64-bit division is a subroutine
# that also costs registers), and loops over blocks are written as while loops for the same
# reason (a range() with a runtime step divides to count its trips). Every kernel but the
# finish walks a grid of (chunk, channel) blocks, grid-stride in both.

_WALK = "int64, int64, int64, int64, int64, int64, int64, int64"


def _walk(x, chunk_len, n_chunks):
    """The walk arguments of an (N, C, S) array: (C, S, N*S, chunk_len, chunks, step_s,
    step_address, wrap). THREADS values on within a channel is q rows and r positions
    (THREADS = q*S + r, r < S): s moves by r and the address by q*C*S + r; when s passes the
    row's end the move crosses one more row, wrap = (C - 1)*S addresses more."""
    n_img, n_chan, size = (int(v) for v in x.shape)
    rows, step_s = divmod(THREADS, size)
    return tuple(np.int64(v) for v in (n_chan, size, n_img * size, chunk_len, n_chunks, step_s,
                                       rows * n_chan * size + step_s, (n_chan - 1) * size))


@cuda.jit(device=True, inline="always")
def _walk_start(k, chunk_len, total, n_chan, size, c, tid):
    """(p, stop, s, address) of this thread's first value in chunk k of channel c."""
    start = k * chunk_len
    stop = min(start + chunk_len, total)
    p = start + tid
    n = p // size
    s = p - n * size
    return p, stop, s, (n * n_chan + c) * size + s


@cuda.jit(device=True, inline="always")
def _walk_next(p, s, address, step_s, step_address, wrap, size):
    """(p, s, address) moved on by THREADS values (see _walk)."""
    s += step_s
    address += step_address
    if s >= size:
        s -= size
        address += wrap
    return p + THREADS, s, address


@cuda.jit(device=True, inline="always")
def _fold_partials(part, c, tid, shared):
    """The sum over k of part[c, k], the same in every block: thread t adds k = t,
    t + THREADS, ... in order, then a fixed tree. Every thread of the block must call it."""
    acc = float32(0.0)
    k = tid
    while k < part.shape[1]:
        acc += part[c, k]
        k += THREADS
    shared[tid] = acc
    block_tree_sum(shared, tid, THREADS)
    total = shared[0]
    cuda.syncthreads()   # everyone has read shared[0] before it is written again
    return total


@cuda_kernel(f"void(float32[::1], {_WALK}, float32[:, ::1], float32[:, ::1])")
def _stats_partial_kernel(x, n_chan, size, total, chunk_len, n_chunks, step_s, step_address,
                          wrap, part_mean, part_m2):
    """(mean, M2) of every (channel, chunk): the chunk's sum, then the squared deviations
    from its mean (a second read, served by the cache)."""
    tid = cuda.threadIdx.x
    partial = cuda.shared.array(THREADS, float32)
    c = cuda.blockIdx.y
    while c < n_chan:
        k = cuda.blockIdx.x
        while k < n_chunks:
            p0, stop, s0, address0 = _walk_start(k, chunk_len, total, n_chan, size, c, tid)
            acc = float32(0.0)
            p, s, address = p0, s0, address0
            while p < stop:
                acc += x[address]
                p, s, address = _walk_next(p, s, address, step_s, step_address, wrap, size)
            partial[tid] = acc
            block_tree_sum(partial, tid, THREADS)
            center = partial[0] / float32(min(chunk_len, total - k * chunk_len))
            cuda.syncthreads()
            acc = float32(0.0)
            p, s, address = p0, s0, address0
            while p < stop:
                d = x[address] - center
                acc += d * d
                p, s, address = _walk_next(p, s, address, step_s, step_address, wrap, size)
            partial[tid] = acc
            block_tree_sum(partial, tid, THREADS)
            if tid == 0:
                part_mean[c, k] = center
                part_m2[c, k] = partial[0]
            cuda.syncthreads()
            k += cuda.gridDim.x
        c += cuda.gridDim.y


@cuda_kernel("void(float32[:, ::1], float32[:, ::1], int64, int64, float32[::1], float32[::1], "
             "float32[::1], float32[::1], float32, float32, float32, int32)")
def _stats_finish_kernel(part_mean, part_m2, chunk_len, total, mean, var, running_mean,
                         running_var, momentum, keep, inv_total_minus_1, update):
    """One block per channel: the chunks' (count, mean, M2) merged, thread t taking chunks t,
    t + THREADS, ... in order, then a tree of a fixed shape; the running statistics updated
    with keep = 1 - momentum (formed on the host in float64)."""
    n_chunks = part_mean.shape[1]
    tid = cuda.threadIdx.x
    s_count = cuda.shared.array(THREADS, float32)
    s_mean = cuda.shared.array(THREADS, float32)
    s_m2 = cuda.shared.array(THREADS, float32)
    used = min(n_chunks, THREADS)
    width = 1
    while width < used:
        width *= 2
    c = cuda.blockIdx.x
    while c < part_mean.shape[0]:
        if tid < used:
            count = float32(min(chunk_len, total - tid * chunk_len))
            m = part_mean[c, tid]
            m2 = part_m2[c, tid]
            k = tid + THREADS
            while k < n_chunks:
                count, m, m2 = _chan_merge(count, m, m2,
                                           float32(min(chunk_len, total - k * chunk_len)),
                                           part_mean[c, k], part_m2[c, k])
                k += THREADS
            s_count[tid] = count
            s_mean[tid] = m
            s_m2[tid] = m2
        cuda.syncthreads()
        step = width // 2
        while step > 0:
            # Only the first halving can find a partner past `used`; later ones all hold data.
            if tid < step and tid + step < used:
                s_count[tid], s_mean[tid], s_m2[tid] = _chan_merge(
                    s_count[tid], s_mean[tid], s_m2[tid],
                    s_count[tid + step], s_mean[tid + step], s_m2[tid + step])
            cuda.syncthreads()
            step //= 2
        if tid == 0:
            m = s_mean[0]
            m2 = s_m2[0]
            mean[c] = m
            var[c] = m2 / float32(total)
            if update:
                running_mean[c] = momentum * m + keep * running_mean[c]
                running_var[c] = momentum * (m2 * inv_total_minus_1) + keep * running_var[c]
        cuda.syncthreads()
        c += cuda.gridDim.x


@cuda_kernel(f"void(float32[::1], {_WALK}, float32[::1], float32[::1], float32[::1], "
             "float32[::1], int32, int32, float32, float32[::1])")
def _forward_kernel(x, n_chan, size, total, chunk_len, n_chunks, step_s, step_address, wrap,
                    mean, var, weight, bias, has_weight, has_bias, eps, y):
    tid = cuda.threadIdx.x
    c = cuda.blockIdx.y
    while c < n_chan:
        m = mean[c]
        scale = float32(1.0) / math.sqrt(var[c] + eps)
        if has_weight:
            scale *= weight[c]
        shift = bias[c] if has_bias else float32(0.0)
        k = cuda.blockIdx.x
        while k < n_chunks:
            p, stop, s, address = _walk_start(k, chunk_len, total, n_chan, size, c, tid)
            while p < stop:
                y[address] = (x[address] - m) * scale + shift
                p, s, address = _walk_next(p, s, address, step_s, step_address, wrap, size)
            k += cuda.gridDim.x
        c += cuda.gridDim.y


@cuda_kernel(f"void(float32[::1], float32[::1], {_WALK}, float32[::1], float32[:, ::1], "
             "float32[:, ::1])")
def _backward_partial_kernel(dy, x, n_chan, size, total, chunk_len, n_chunks, step_s,
                             step_address, wrap, mean, part_g, part_gx):
    """sum dy and sum dy * (x - mean) of every (channel, chunk)."""
    tid = cuda.threadIdx.x
    s_g = cuda.shared.array(THREADS, float32)
    s_gx = cuda.shared.array(THREADS, float32)
    c = cuda.blockIdx.y
    while c < n_chan:
        m = mean[c]
        k = cuda.blockIdx.x
        while k < n_chunks:
            p, stop, s, address = _walk_start(k, chunk_len, total, n_chan, size, c, tid)
            acc_g = float32(0.0)
            acc_gx = float32(0.0)
            while p < stop:
                g = dy[address]
                acc_g += g
                acc_gx += g * (x[address] - m)
                p, s, address = _walk_next(p, s, address, step_s, step_address, wrap, size)
            s_g[tid] = acc_g
            s_gx[tid] = acc_gx
            block_tree_sum(s_g, tid, THREADS)
            block_tree_sum(s_gx, tid, THREADS)
            if tid == 0:
                part_g[c, k] = s_g[0]
                part_gx[c, k] = s_gx[0]
            cuda.syncthreads()
            k += cuda.gridDim.x
        c += cuda.gridDim.y


@cuda_kernel(f"void(float32[::1], float32[::1], {_WALK}, float32[::1], float32[::1], "
             "float32[::1], int32, float32, int32, float32[:, ::1], float32[:, ::1], float32[::1], "
             "float32[::1], float32[::1])")
def _backward_data_kernel(dy, x, n_chan, size, total, chunk_len, n_chunks, step_s, step_address,
                          wrap, mean, var, weight, has_weight, eps, training, part_g, part_gx, dx,
                          dweight, dbias):
    """dx of every (channel, chunk), from the channel's sums folded by every block alike; the
    chunk-0 block also writes dweight and dbias."""
    tid = cuda.threadIdx.x
    shared = cuda.shared.array(THREADS, float32)
    count = float32(total)
    c = cuda.blockIdx.y
    while c < n_chan:
        sum_g = _fold_partials(part_g, c, tid, shared)
        sum_gx = _fold_partials(part_gx, c, tid, shared)
        m = mean[c]
        invstd = float32(1.0) / math.sqrt(var[c] + eps)
        a = invstd * weight[c] if has_weight else invstd
        b = float32(0.0)
        d = float32(0.0)
        if training:
            b = -a * invstd * invstd * sum_gx / count
            d = -a * sum_g / count
        if cuda.blockIdx.x == 0 and tid == 0:
            dbias[c] = sum_g
            dweight[c] = sum_gx * invstd
        k = cuda.blockIdx.x
        while k < n_chunks:
            p, stop, s, address = _walk_start(k, chunk_len, total, n_chan, size, c, tid)
            while p < stop:
                dx[address] = a * dy[address] + b * (x[address] - m) + d
                p, s, address = _walk_next(p, s, address, step_s, step_address, wrap, size)
            k += cuda.gridDim.x
        c += cuda.gridDim.y


def _gpu_chunks(total, n_chan):
    """(chunks per channel, values per chunk): enough blocks to fill the GPU when the channels
    are few, never chunks under THREADS * MIN_ITEMS values. Depends on the shape alone."""
    wanted = max(1, ceil_div(GPU_BLOCKS, n_chan))
    chunks = max(1, min(wanted, ceil_div(total, THREADS * MIN_ITEMS)))
    chunk_len = ceil_div(total, chunks)
    return ceil_div(total, chunk_len), chunk_len


def _plan_gpu(x):
    """(grid, chunks, walk arguments) of an (N, C, S) device array."""
    n_img, n_chan, size = (int(v) for v in x.shape)
    chunks, chunk_len = _gpu_chunks(n_img * size, n_chan)
    return (chunks, min(n_chan, MAX_CHANNEL_BLOCKS)), chunks, _walk(x, chunk_len, chunks)


def _flat(a):
    return a.reshape(a.size)


def batch_norm_stats_cuda(x, running_mean=None, running_var=None, momentum=0.1, out_mean=None,
                          out_var=None):
    """Device twin of batch_norm_stats_cpu: (mean, biased var) per channel of x (N, C, S)."""
    op = "batch_norm_stats_cuda"
    total, update, momentum, mean, var = _check_stats(op, x, running_mean, running_var, momentum,
                                                      out_mean, out_var, True)
    n_chan = x.shape[1]
    grid, chunks, walk = _plan_gpu(x)
    part_mean = cuda.device_array((n_chan, chunks), np.float32)
    part_m2 = cuda.device_array((n_chan, chunks), np.float32)
    _stats_partial_kernel[grid, THREADS](_flat(x), *walk, part_mean, part_m2)
    rm, rv = (running_mean, running_var) if update else (mean, var)
    inv_total_minus_1 = 1.0 / (total - 1) if total > 1 else 0.0
    chunk_len = walk[3]
    _stats_finish_kernel[min(n_chan, MAX_CHANNEL_BLOCKS), THREADS](
        part_mean, part_m2, chunk_len, np.int64(total), mean, var, rm, rv,
        np.float32(momentum), np.float32(1.0 - momentum), np.float32(inv_total_minus_1),
        np.int32(update))
    return mean, var


def batch_norm_forward_cuda(x, mean, var, weight, bias, eps, out=None):
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel of x (N, C, S)."""
    op = "batch_norm_forward_cuda"
    eps, y = _check_forward(op, x, mean, var, weight, bias, eps, out, True)
    grid, _, walk = _plan_gpu(x)
    _forward_kernel[grid, THREADS](
        _flat(x), *walk, mean, var, mean if weight is None else weight,
        mean if bias is None else bias, np.int32(weight is not None), np.int32(bias is not None),
        np.float32(eps), _flat(y))
    return y


def batch_norm_backward_cuda(dy, x, mean, var, weight, eps, training, out_dx=None,
                             out_dweight=None, out_dbias=None):
    """(dx, dweight, dbias) of batch_norm_forward for the upstream gradient dy (N, C, S)."""
    op = "batch_norm_backward_cuda"
    eps, dx, dweight, dbias = _check_backward(op, dy, x, mean, var, weight, eps, out_dx,
                                              out_dweight, out_dbias, True)
    n_chan = x.shape[1]
    grid, chunks, walk = _plan_gpu(x)
    part_g = cuda.device_array((n_chan, chunks), np.float32)
    part_gx = cuda.device_array((n_chan, chunks), np.float32)
    _backward_partial_kernel[grid, THREADS](_flat(dy), _flat(x), *walk, mean, part_g, part_gx)
    _backward_data_kernel[grid, THREADS](
        _flat(dy), _flat(x), *walk, mean, var, mean if weight is None else weight,
        np.int32(weight is not None), np.float32(eps), np.int32(bool(training)), part_g, part_gx,
        _flat(dx), dweight, dbias)
    return dx, dweight, dbias


OPS = {
    "batch_norm_stats": Twins(batch_norm_stats_cpu, batch_norm_stats_cuda),
    "batch_norm_forward": Twins(batch_norm_forward_cpu, batch_norm_forward_cuda),
    "batch_norm_backward": Twins(batch_norm_backward_cpu, batch_norm_backward_cuda),
}
