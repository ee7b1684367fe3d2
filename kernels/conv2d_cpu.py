"""CPU twins of the convolution kernels: im2col lowering, with the product done by BLAS.

The data movement (im2col, col2im, layout changes, bias) is `@njit(parallel=True)` code; the
lowered matrix product is NumPy's `np.matmul`, i.e. the BLAS sgemm NumPy links against, one call
per op with the groups as its batch dimension. BLAS is what makes these twins fast enough to be
the CPU engine; the CUDA kernels in conv2d_cuda.py compute the same products by hand.

Layout. The column matrix holds every image side by side: cols[(c, r, s), (n, p, q)], shape
(C*R*S, N*P*Q). Its rows for group g are one contiguous block, so per group

    forward          Y'[Kg, NPQ]   = W[Kg, CgRS]    @ cols[CgRS, NPQ]
    backward weight  dW[Kg, CgRS]  = dY'[Kg, NPQ]   @ cols[CgRS, NPQ]^T
    backward data    dcols         = W[Kg, CgRS]^T  @ dY'[Kg, NPQ]

are single large sgemms (the transposes are BLAS flags on views, never copies). Y' and dY' are
the output in (K, N*P*Q) order; one pass converts to and from NCHW, fused with the bias add in
the forward. One large product beats N per-image products of P*Q columns on a small CPU, and
(K, N*P*Q) is also the order the weight gradient needs.

1x1, stride-1, unpadded convolutions skip im2col in the forward and backward-data passes: the
input (N, C, H*W) already is a batch of column matrices.

Threads. Every op alternates numba parallel loops with OpenBLAS calls, i.e. two thread pools.
With numba's default "omp" layer (libgomp, whose idle workers spin) the pools starve each other
on a small machine: measured on 2 cores, a LeNet conv step took hundreds of ms instead of ~3 ms.
gpucnn therefore selects numba's "workqueue" layer (gpucnn/__init__.py), and every product runs
on one BLAS thread (kernels/_blas.py), whose spinning workers otherwise do the same.
"""
import numpy as np
from numba import njit, prange

from . import _blas as blas
from .conv2d_args import backward_bias_args, backward_data_args, backward_weight_args, forward_args


# ---------------------------------------------------------------- njit data movement
#
# The loops below work on flat views with unsigned (uint64) indices. With a signed index numba
# guards every access for negative (wrap-around) indexing, and that guard stops LLVM from
# vectorising: a signed copy loop ran at a fifth of memcpy speed, an unsigned one at memcpy
# speed. The run helpers are only called with counts >= 0 (the valid ranges guarantee it);
# everything inside them stays uint64, since numba turns uint64 mixed with int64 into float64.

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
def _gather(dst, start, src, src_start, src_step, count):
    """dst[start + i] = src[src_start + i*src_step] for i < count."""
    d = np.uint64(start)
    s = np.uint64(src_start)
    if src_step == 1:
        for i in range(np.uint64(count)):
            dst[d + i] = src[s + i]
    else:
        step = np.uint64(src_step)
        for i in range(np.uint64(count)):
            dst[d + i] = src[s + i * step]


@njit(inline="always")
def _scatter_add(dst, start, step, src, src_start, count):
    """dst[start + i*step] += src[src_start + i] for i < count."""
    d = np.uint64(start)
    s = np.uint64(src_start)
    if step == 1:
        for i in range(np.uint64(count)):
            dst[d + i] += src[s + i]
    else:
        st = np.uint64(step)
        for i in range(np.uint64(count)):
            dst[d + i * st] += src[s + i]


@njit(parallel=True, cache=True)
def _im2col(x, r_size, s_size, sh, sw, pt, pl, dh, dw, p_size, q_size, cols):
    n_size, c_size, h_size, w_size = x.shape
    pq = p_size * q_size
    rs = r_size * s_size
    hw = h_size * w_size
    xf = x.reshape(x.size)
    cf = cols.reshape(cols.size)
    for row in prange(c_size * rs):
        c = row // rs
        r = (row // s_size) % r_size
        s = row % s_size
        p_lo, p_hi = _valid_range(pt, r * dh, sh, h_size, p_size)
        q_lo, q_hi = _valid_range(pl, s * dw, sw, w_size, q_size)
        for n in range(n_size):
            base = (row * n_size + n) * pq
            # Padding is written as zeros here, never read from x.
            _zero(cf, base, p_lo * q_size)
            for p in range(p_lo, p_hi):
                o = base + p * q_size
                src = (n * c_size + c) * hw + (p * sh - pt + r * dh) * w_size + s * dw - pl
                _zero(cf, o, q_lo)
                _gather(cf, o + q_lo, xf, src + q_lo * sw, sw, q_hi - q_lo)
                _zero(cf, o + q_hi, q_size - q_hi)
            _zero(cf, base + p_hi * q_size, (p_size - p_hi) * q_size)


@njit(parallel=True, cache=True)
def _col2im(dcols, r_size, s_size, sh, sw, pt, pl, dh, dw, p_size, q_size, dx):
    # Each (n, c) plane of dx belongs to one thread, which adds in the R*S column rows that
    # land on it in a fixed order: no two threads write one element, and the result does not
    # depend on the thread count.
    n_size, c_size, h_size, w_size = dx.shape
    pq = p_size * q_size
    hw = h_size * w_size
    dcf = dcols.reshape(dcols.size)
    dxf = dx.reshape(dx.size)
    for plane in prange(n_size * c_size):
        n = plane // c_size
        c = plane % c_size
        _zero(dxf, plane * hw, hw)
        for r in range(r_size):
            p_lo, p_hi = _valid_range(pt, r * dh, sh, h_size, p_size)
            for s in range(s_size):
                q_lo, q_hi = _valid_range(pl, s * dw, sw, w_size, q_size)
                row = (c * r_size + r) * s_size + s
                for p in range(p_lo, p_hi):
                    dst = plane * hw + (p * sh - pt + r * dh) * w_size + q_lo * sw + s * dw - pl
                    src = (row * n_size + n) * pq + p * q_size + q_lo
                    _scatter_add(dxf, dst, sw, dcf, src, q_hi - q_lo)


@njit(parallel=True, cache=True)
def _rows_to_images(y_rows, b, has_bias, y):
    """y[n, k, :] = y_rows[k, n*PQ:(n+1)*PQ] (+ b[k])."""
    n_size, k_size, pq = y.shape
    yf = y.reshape(y.size)
    rf = y_rows.reshape(y_rows.size)
    for plane in prange(n_size * k_size):
        n = plane // k_size
        k = plane % k_size
        d = np.uint64(plane * pq)
        s = np.uint64((k * n_size + n) * pq)
        bias = b[k] if has_bias else np.float32(0.0)
        for i in range(np.uint64(pq)):
            yf[d + i] = rf[s + i] + bias


@njit(parallel=True, cache=True)
def _images_to_rows(dy, dy_rows):
    """dy_rows[k, n*PQ:(n+1)*PQ] = dy[n, k, :]."""
    n_size, k_size, pq = dy.shape
    df = dy.reshape(dy.size)
    rf = dy_rows.reshape(dy_rows.size)
    for plane in prange(n_size * k_size):
        n = plane // k_size
        k = plane % k_size
        _gather(rf, (k * n_size + n) * pq, df, plane * pq, 1, pq)


@njit(parallel=True, cache=True)
def _add_bias(y, b):
    n_size, k_size, pq = y.shape
    yf = y.reshape(y.size)
    for plane in prange(n_size * k_size):
        bias = b[plane % k_size]
        d = np.uint64(plane * pq)
        for i in range(np.uint64(pq)):
            yf[d + i] += bias


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


# ---------------------------------------------------------------- helpers

def _columns(x, geo):
    cols = np.empty((geo.c * geo.r * geo.s, geo.n * geo.p * geo.q), np.float32)
    _im2col(x, geo.r, geo.s, geo.sh, geo.sw, geo.pt, geo.pl, geo.dh, geo.dw, geo.p, geo.q, cols)
    return cols


def _dy_rows(dy, geo):
    dy_rows = np.empty((geo.k, geo.n * geo.p * geo.q), np.float32)
    _images_to_rows(dy.reshape(geo.n, geo.k, geo.p * geo.q), dy_rows)
    return dy_rows


def _by_group(a, groups):
    """(groups*rows, cols) -> (groups, rows, cols): the batch dimension np.matmul loops over."""
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


# ---------------------------------------------------------------- public CPU twins

def conv2d_forward_cpu(x, w, b, stride, padding, dilation, groups, out=None):
    """y[n, k, p, q] = b[k] + sum_{c in group(k), r, s} w[k, c, r, s] x[n, c, p*sh - pt + r*dh,
    q*sw - pl + s*dw] (zero outside x). Returns y (N, K, P, Q)."""
    geo, out = forward_args("conv2d_forward_cpu", x, w, b, stride, padding, dilation, groups,
                            out, device=False)
    g, kg, pq = geo.groups, geo.kg, geo.p * geo.q
    if geo.is_pointwise:
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


def conv2d_backward_data_cpu(dy, w, x_shape, stride, padding, dilation, groups, out=None):
    """dx (N, C, H, W): the gradient of conv2d_forward with respect to its input."""
    geo, out = backward_data_args("conv2d_backward_data_cpu", dy, w, x_shape, stride, padding,
                                  dilation, groups, out, device=False)
    g, kg, cg = geo.groups, geo.kg, geo.cg
    w_by_group = w.reshape(g, kg, cg * geo.r * geo.s)
    if geo.is_pointwise:
        hw = geo.h * geo.w
        blas.matmul(w_by_group.transpose(0, 2, 1), dy.reshape(geo.n, g, kg, hw),
                  out=out.reshape(geo.n, g, cg, hw))
        return out
    dy_rows = _dy_rows(dy, geo)
    dcols = np.empty((geo.c * geo.r * geo.s, dy_rows.shape[1]), np.float32)
    blas.matmul(w_by_group.transpose(0, 2, 1), _by_group(dy_rows, g), out=_by_group(dcols, g))
    _col2im(dcols, geo.r, geo.s, geo.sh, geo.sw, geo.pt, geo.pl, geo.dh, geo.dw, geo.p, geo.q,
            out)
    return out


def conv2d_backward_weight_cpu(x, dy, w_shape, stride, padding, dilation, groups, out=None):
    """dw (K, C/groups, R, S): the gradient of conv2d_forward with respect to its weight."""
    geo, out = backward_weight_args("conv2d_backward_weight_cpu", x, dy, w_shape, stride,
                                    padding, dilation, groups, out, device=False)
    g = geo.groups
    cols = _columns(x, geo)
    dy_rows = _dy_rows(dy, geo)
    blas.matmul(_by_group(dy_rows, g), _by_group(cols, g).transpose(0, 2, 1),
              out=out.reshape(g, geo.kg, geo.cg * geo.r * geo.s))
    return out


def conv2d_backward_bias_cpu(dy, out=None):
    """db (K,) = dy summed over N, P, Q."""
    out = backward_bias_args("conv2d_backward_bias_cpu", dy, out, device=False)
    n, k, p, q = dy.shape
    _sum_over_n_pq(dy.reshape(n, k, p * q), out)
    return out
