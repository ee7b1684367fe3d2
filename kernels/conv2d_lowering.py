"""The data movement of the CPU convolutions: im2col, col2im and layout changes, serial @njit.

Column layout. For a run of `nb` images starting at image n0, the column matrix is
cols[(c, r, s), (j, p, q)] of shape (C*R*S, nb*P*Q): row (c, r, s) holds, for every image j of
the run and every output position (p, q), the input value tap (r, s) of channel c meets there
(zero in the padding). im2col can also fill a block of output rows [p0, p1) only: then the
columns are (j, p - p0, q), nb*(p1-p0)*Q of them. The rows of one group are one contiguous block, so a group's product is
one sgemm on a row slice. "Rows" arrays hold a (K, nb*P*Q) output or output gradient in the
same column order; rows_to_images/images_to_rows convert them to and from NCHW.

Every function here handles one row (for a range [p0, p1) of output rows), one (image, channel)
plane or one run of images, so both CPU pipelines (conv2d_cpu.py) compose them: the per-image
one calls them from each thread on one cache-sized block of one image, the whole-batch one from
a parallel loop over rows or planes.

`geo` is the tuple (C, H, W, R, S, sh, sw, pt, pl, dh, dw, P, Q) of plain ints.

The loops work on flat views with unsigned (uint64) indices. With a signed index numba guards
every access for negative (wrap-around) indexing, and that guard stops LLVM from vectorising: a
signed copy loop ran at a fifth of memcpy speed, an unsigned one at memcpy speed. The run
helpers are only called with counts >= 0 (the valid ranges guarantee it); everything inside
them stays uint64, since numba turns uint64 mixed with int64 into float64.
"""
import numpy as np
from numba import njit


def geometry_tuple(geo):
    """The plain-int tuple the njit helpers take, from a conv2d_args.Geometry."""
    return (geo.c, geo.h, geo.w, geo.r, geo.s, geo.sh, geo.sw, geo.pt, geo.pl, geo.dh, geo.dw,
            geo.p, geo.q)


@njit(inline="always")
def is_unit_stride(geo):
    return geo[5] == 1 and geo[6] == 1 and geo[9] == 1 and geo[10] == 1


@njit(inline="always")
def is_flat(geo):
    """Stride 1 and an output as wide as the input: the *_flat helpers apply."""
    return geo[5] == 1 and geo[6] == 1 and geo[12] == geo[2]


@njit(inline="always")
def unit_stride(geo):
    """geo with stride and dilation as the constant 1. The helpers below are inlined, so a
    call with this tuple compiles a copy with the unit steps folded in: contiguous copies and
    no step multiplies, measured about 0.4 ms faster per batch-64 CIFAR layer than the general
    copy running the same numbers."""
    c, h, w, r, s, _, _, pt, pl, _, _, p, q = geo
    return (c, h, w, r, s, 1, 1, pt, pl, 1, 1, p, q)


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


@njit(inline="always")
def im2col_row(xf, geo, row, n0, nb, p0, p1, cf):
    """Column row `row` = (c, r, s) for output rows [p0, p1) of images n0..n0+nb of x (flat
    NCHW) into cf: flat (C*R*S, nb, (p1-p0)*Q) columns."""
    c_size, h_size, w_size, r_size, s_size, sh, sw, pt, pl, dh, dw, p_size, q_size = geo
    width = (p1 - p0) * q_size
    hw = h_size * w_size
    c = row // (r_size * s_size)
    r = (row // s_size) % r_size
    s = row % s_size
    p_lo, p_hi = _valid_range(pt, r * dh, sh, h_size, p_size)
    p_lo = min(max(p_lo, p0), p1)
    p_hi = min(max(p_hi, p_lo), p1)
    q_lo, q_hi = _valid_range(pl, s * dw, sw, w_size, q_size)
    for j in range(nb):
        base = (row * nb + j) * width - p0 * q_size     # line p starts at base + p*Q
        # Padding is written as zeros here, never read from x.
        _zero(cf, base + p0 * q_size, (p_lo - p0) * q_size)
        for p in range(p_lo, p_hi):
            o = base + p * q_size
            src = ((n0 + j) * c_size + c) * hw + (p * sh - pt + r * dh) * w_size + s * dw - pl
            _zero(cf, o, q_lo)
            _gather(cf, o + q_lo, xf, src + q_lo * sw, sw, q_hi - q_lo)
            _zero(cf, o + q_hi, q_size - q_hi)
        _zero(cf, base + p_hi * q_size, (p1 - p_hi) * q_size)


@njit(inline="always")
def _flat_span(geo, r, s, p0, p1):
    """For a stride-1 convolution whose output is as wide as its input (Q == W, "same"
    padding), output position i = p*Q + q of tap (r, s) reads input position i + offset, so
    the valid outputs [p_lo, p_hi) x [q_lo, q_hi) with p in [p0, p1) lie in one span [i0, i1)
    of the flat plane that is copied in one go. Returns (offset, i0, i1, p_lo, p_hi, q_lo,
    q_hi); i0 == i1 == p0*Q when the tap meets no input there."""
    c_size, h_size, w_size, r_size, s_size, sh, sw, pt, pl, dh, dw, p_size, q_size = geo
    p_lo, p_hi = _valid_range(pt, r * dh, 1, h_size, p_size)
    p_lo = min(max(p_lo, p0), p1)
    p_hi = min(max(p_hi, p_lo), p1)
    q_lo, q_hi = _valid_range(pl, s * dw, 1, w_size, q_size)
    offset = (r * dh - pt) * w_size + s * dw - pl
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
def im2col_row_flat(xf, geo, row, n0, nb, p0, p1, cf):
    """im2col_row for stride 1 and Q == W: one contiguous copy per image instead of one per
    output line (a 16-wide line costs about as much to set up as to copy)."""
    c_size, h_size, w_size, r_size, s_size = geo[0], geo[1], geo[2], geo[3], geo[4]
    q_size = geo[12]
    width = (p1 - p0) * q_size
    c = row // (r_size * s_size)
    r = (row // s_size) % r_size
    s = row % s_size
    offset, i0, i1, p_lo, p_hi, q_lo, q_hi = _flat_span(geo, r, s, p0, p1)
    for j in range(nb):
        base = (row * nb + j) * width - p0 * q_size     # flat position i lands at base + i
        plane = ((n0 + j) * c_size + c) * h_size * w_size
        _zero(cf, base + p0 * q_size, i0 - p0 * q_size)
        if i1 > i0:
            _gather(cf, base + i0, xf, plane + i0 + offset, 1, i1 - i0)
            _zero_wrapped(cf, base, q_size, p_lo, p_hi, q_lo, q_hi)
        _zero(cf, base + i1, p1 * q_size - i1)


@njit(inline="always")
def col2im_plane_flat(dcf, geo, j, nb, c, dxf, plane_start):
    """col2im_plane for stride 1 and Q == W: one contiguous add per tap. The wrapped-over
    padding positions of the column rows are zeroed first, so dcf (scratch) is changed."""
    h_size, w_size, r_size, s_size = geo[1], geo[2], geo[3], geo[4]
    pq = geo[11] * geo[12]
    q_size = geo[12]
    _zero(dxf, plane_start, h_size * w_size)
    for r in range(r_size):
        for s in range(s_size):
            offset, i0, i1, p_lo, p_hi, q_lo, q_hi = _flat_span(geo, r, s, 0, geo[11])
            if i1 > i0:
                base = (((c * r_size + r) * s_size + s) * nb + j) * pq
                _zero_wrapped(dcf, base, q_size, p_lo, p_hi, q_lo, q_hi)
                _scatter_add(dxf, plane_start + i0 + offset, 1, dcf, base + i0, i1 - i0)


@njit(inline="always")
def col2im_plane(dcf, geo, j, nb, c, dxf, plane_start):
    """dx plane (image n0+j, channel c), starting at dxf[plane_start], = the sum of the column
    rows (c, r, s) that land on it, for a run of nb images. One plane has one writer, and its
    R*S rows are added in a fixed order: the result does not depend on the thread count."""
    c_size, h_size, w_size, r_size, s_size, sh, sw, pt, pl, dh, dw, p_size, q_size = geo
    pq = p_size * q_size
    _zero(dxf, plane_start, h_size * w_size)
    for r in range(r_size):
        p_lo, p_hi = _valid_range(pt, r * dh, sh, h_size, p_size)
        for s in range(s_size):
            q_lo, q_hi = _valid_range(pl, s * dw, sw, w_size, q_size)
            row = (c * r_size + r) * s_size + s
            for p in range(p_lo, p_hi):
                dst = plane_start + (p * sh - pt + r * dh) * w_size + q_lo * sw + s * dw - pl
                src = (row * nb + j) * pq + p * q_size + q_lo
                _scatter_add(dxf, dst, sw, dcf, src, q_hi - q_lo)


@njit(inline="always")
def rows_to_image_plane(rf, k, j, nb, pq, bias, yf, plane_start):
    """y plane (image n0+j, channel k) = rows[k, j*PQ:(j+1)*PQ] + bias."""
    d = np.uint64(plane_start)
    s = np.uint64((k * nb + j) * pq)
    for i in range(np.uint64(pq)):
        yf[d + i] = rf[s + i] + bias


@njit(inline="always")
def image_plane_to_rows(df, plane_start, k, j, nb, pq, rf):
    """rows[k, j*PQ:(j+1)*PQ] = dy plane (image n0+j, channel k)."""
    _gather(rf, (k * nb + j) * pq, df, plane_start, 1, pq)


@njit(inline="always")
def add_to_plane(yf, plane_start, pq, value):
    d = np.uint64(plane_start)
    for i in range(np.uint64(pq)):
        yf[d + i] += value
