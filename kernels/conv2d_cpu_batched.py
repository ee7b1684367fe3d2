"""The whole-batch CPU convolution pipeline: one column matrix for the batch, one big sgemm.

Used where the per-image pipeline (conv2d_cpu_per_image.py) would leave cores idle: a batch
smaller than the thread count (one large photo), and 1x1 convolutions, which need no im2col.
The data movement is `@njit(parallel=True)` over column rows or image planes; the products
are NumPy's BLAS through _blas.matmul, one call per op with the groups as its batch dimension.

Layout (see conv2d_lowering.py): cols[(c, r, s), (n, p, q)] holds every image side by side,
shape (C*R*S, N*P*Q), so per group

    forward          Y'[Kg, NPQ]   = W[Kg, CgRS]    @ cols[CgRS, NPQ]
    backward weight  dW[Kg, CgRS]  = dY'[Kg, NPQ]   @ cols[CgRS, NPQ]^T
    backward data    dcols         = W[Kg, CgRS]^T  @ dY'[Kg, NPQ]

are single large sgemms (the transposes are BLAS flags on views, never copies). Y' and dY' are
the output in (K, N*P*Q) order; one pass converts to and from NCHW, fused with the bias add in
the forward.

1x1, stride-1, unpadded convolutions skip im2col in the forward and backward-data passes: the
input (N, C, H*W) already is a batch of column matrices.
"""
import numpy as np
from numba import njit, prange

from . import _blas as blas
from .conv2d_lowering import (add_to_plane, col2im_plane, geometry_tuple, im2col_row,
                              image_plane_to_rows, rows_to_image_plane)


@njit(parallel=True, cache=True)
def _im2col(x, geo, cols):
    n_size = x.shape[0]
    xf = x.reshape(x.size)
    cf = cols.reshape(cols.size)
    for row in prange(cols.shape[0]):
        im2col_row(xf, geo, row, 0, n_size, 0, geo[11], cf)


@njit(parallel=True, cache=True)
def _col2im(dcols, geo, dx):
    n_size, c_size = dx.shape[0], dx.shape[1]
    hw = dx.shape[2] * dx.shape[3]
    dcf = dcols.reshape(dcols.size)
    dxf = dx.reshape(dx.size)
    for plane in prange(n_size * c_size):
        col2im_plane(dcf, geo, plane // c_size, n_size, plane % c_size, dxf, plane * hw)


@njit(parallel=True, cache=True)
def _rows_to_images(y_rows, b, has_bias, y):
    """y[n, k, :] = y_rows[k, n*PQ:(n+1)*PQ] (+ b[k])."""
    n_size, k_size, pq = y.shape
    yf = y.reshape(y.size)
    rf = y_rows.reshape(y_rows.size)
    for plane in prange(n_size * k_size):
        k = plane % k_size
        bias = b[k] if has_bias else np.float32(0.0)
        rows_to_image_plane(rf, k, plane // k_size, n_size, pq, bias, yf, plane * pq)


@njit(parallel=True, cache=True)
def _images_to_rows(dy, dy_rows):
    """dy_rows[k, n*PQ:(n+1)*PQ] = dy[n, k, :]."""
    n_size, k_size, pq = dy.shape
    df = dy.reshape(dy.size)
    rf = dy_rows.reshape(dy_rows.size)
    for plane in prange(n_size * k_size):
        image_plane_to_rows(df, plane * pq, plane % k_size, plane // k_size, n_size, pq, rf)


@njit(parallel=True, cache=True)
def _add_bias(y, b):
    n_size, k_size, pq = y.shape
    yf = y.reshape(y.size)
    for plane in prange(n_size * k_size):
        add_to_plane(yf, plane * pq, pq, b[plane % k_size])


# ---------------------------------------------------------------- the pipeline

def _columns(x, geo):
    cols = np.empty((geo.c * geo.r * geo.s, geo.n * geo.p * geo.q), np.float32)
    _im2col(x, geometry_tuple(geo), cols)
    return cols


def _dy_rows(dy, geo):
    dy_rows = np.empty((geo.k, geo.n * geo.p * geo.q), np.float32)
    _images_to_rows(dy.reshape(geo.n, geo.k, geo.p * geo.q), dy_rows)
    return dy_rows


def _by_group(a, groups):
    """(groups*rows, cols) -> (groups, rows, cols): the batch dimension np.matmul loops over."""
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


def forward(x, w, b, geo, out):
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


def backward_data(dy, w, geo, out):
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
    _col2im(dcols, geometry_tuple(geo), out)
    return out


def backward_weight(x, dy, geo, out):
    g = geo.groups
    cols = _columns(x, geo)
    dy_rows = _dy_rows(dy, geo)
    blas.matmul(_by_group(dy_rows, g), _by_group(cols, g).transpose(0, 2, 1),
                out=out.reshape(g, geo.kg, geo.cg * geo.r * geo.s))
    return out
