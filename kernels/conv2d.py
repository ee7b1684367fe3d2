"""2-D convolution (cross-correlation, as torch.nn.functional.conv2d), forward and backward.

    conv2d_forward(x, w, b, stride, padding, dilation, groups, out=None)            -> y  (N, K, P, Q)
    conv2d_backward_data(dy, w, x_shape, stride, padding, dilation, groups, out=None) -> dx (N, C, H, W)
    conv2d_backward_weight(x, dy, w_shape, stride, padding, dilation, groups, out=None) -> dw (K, C/g, R, S)

y[n, k, p, q] = b[k] + sum over c in k's group, r, s of w[k, c, r, s] x[n, c, p*sh - pt + r*dh,
q*sw - pl + s*dw], zero outside x. The bias gradient is a per-channel sum of dy: reduce.py's sum over
dy viewed as (1, K, N, P*Q), the kernel every reduction shares.

Each op has a `_cpu` twin (NumPy arrays) and a `_cuda` launcher (numba device arrays, plus a
keyword-only `version=`), both here. Geometry arrives normalised: stride (sh, sw), padding
(top, bottom, left, right) of zeros, dilation (dh, dw), groups an int; the weight is
(K, C/groups, R, S) as in PyTorch. The work itself is in two files:

    conv2d_im2col.py   the CPU twins: im2col lowering around BLAS sgemm, per image or batched
    conv2d_cuda.py     the CUDA kernels: v1 direct, v2 tiled implicit GEMM, v3 = v2 with
                       launch bounds; split-K weight gradient
"""
from typing import NamedTuple

import numpy as np

from . import conv2d_cuda as kernels
from . import conv2d_im2col as im2col
from ._checks import ceil_div, check_array, conv_output_hw, output, padding4, pair
from ._registry import Twins
from .conv2d_cuda import THREADS, TILE_THREADS

VERSIONS = (1, 2, 3)
DEFAULT_VERSION = 2


class Geometry(NamedTuple):
    """A convolution's shape, normalised once. Passed as is to the njit helpers."""
    n: int
    c: int
    h: int
    w: int
    k: int
    cg: int   # input channels per group (weight dim 1)
    r: int
    s: int
    p: int    # output height
    q: int    # output width
    sh: int
    sw: int
    pt: int   # padding top, bottom, left, right (zero padding)
    pb: int
    pl: int
    pr: int
    dh: int
    dw: int
    groups: int

    @property
    def kg(self) -> int:
        return self.k // self.groups

    @property
    def x_shape(self):
        return (self.n, self.c, self.h, self.w)

    @property
    def w_shape(self):
        return (self.k, self.cg, self.r, self.s)

    @property
    def y_shape(self):
        return (self.n, self.k, self.p, self.q)

    @property
    def is_pointwise(self) -> bool:
        """1x1, stride 1, no padding: the input already is its own im2col matrix."""
        return (self.r == 1 and self.s == 1 and self.sh == 1 and self.sw == 1
                and self.pt == self.pb == self.pl == self.pr == 0)


def _shape4(op: str, name: str, shape) -> tuple:
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{op}: {name} must be a shape tuple, got {type(shape).__name__}") from None
    if len(shape) != 4 or not all(isinstance(d, (int, np.integer)) for d in shape):
        raise ValueError(f"{op}: {name} must be 4 ints, got {shape}")
    return tuple(int(d) for d in shape)


def geometry(op: str, x_shape, w_shape, stride, padding, dilation, groups) -> Geometry:
    """Check stride/padding/dilation/groups against the two shapes; return the full geometry."""
    x_shape = _shape4(op, "input shape", x_shape)
    w_shape = _shape4(op, "weight shape", w_shape)
    stride = pair(op, "stride", stride)
    dilation = pair(op, "dilation", dilation)
    padding = padding4(op, padding)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    p, q = conv_output_hw(op, x_shape, w_shape, stride, padding, dilation, int(groups))
    return Geometry(*x_shape, *w_shape, p, q, *stride, *padding, *dilation, int(groups))


def _check_shape(op: str, name: str, a, expected):
    if tuple(a.shape) != tuple(expected):
        raise ValueError(f"{op}: {name} has shape {tuple(a.shape)}, expected {tuple(expected)}")


def _forward_args(op, x, w, b, stride, padding, dilation, groups, out, on_device):
    check_array(op, "x", x, 4)
    check_array(op, "w", w, 4)
    if b is not None:
        check_array(op, "b", b, 1)
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"{op}: bias has shape {tuple(b.shape)}, weight {tuple(w.shape)} "
                             f"has {w.shape[0]} output channels")
    geo = geometry(op, x.shape, w.shape, stride, padding, dilation, groups)
    return geo, output(op, on_device, out, geo.y_shape, x=x, w=w, b=b)


def _backward_data_args(op, dy, w, x_shape, stride, padding, dilation, groups, out, on_device):
    check_array(op, "dy", dy, 4)
    check_array(op, "w", w, 4)
    geo = geometry(op, x_shape, w.shape, stride, padding, dilation, groups)
    _check_shape(op, f"dy (input {geo.x_shape}, weight {geo.w_shape})", dy, geo.y_shape)
    return geo, output(op, on_device, out, geo.x_shape, dy=dy, w=w)


def _backward_weight_args(op, x, dy, w_shape, stride, padding, dilation, groups, out, on_device):
    check_array(op, "x", x, 4)
    check_array(op, "dy", dy, 4)
    geo = geometry(op, x.shape, w_shape, stride, padding, dilation, groups)
    _check_shape(op, f"dy (input {geo.x_shape}, weight {geo.w_shape})", dy, geo.y_shape)
    return geo, output(op, on_device, out, geo.w_shape, x=x, dy=dy)


# ---------------------------------------------------------------- CPU twins

def conv2d_forward_cpu(x, w, b, stride, padding, dilation, groups, out=None):
    """y (N, K, P, Q) = conv(x, w) + b."""
    geo, out = _forward_args("conv2d_forward_cpu", x, w, b, stride, padding, dilation, groups,
                             out, on_device=False)
    return im2col.forward(x, w, b, geo, out)


def conv2d_backward_data_cpu(dy, w, x_shape, stride, padding, dilation, groups, out=None):
    """dx (N, C, H, W): the gradient of conv2d_forward with respect to its input."""
    geo, out = _backward_data_args("conv2d_backward_data_cpu", dy, w, x_shape, stride, padding,
                                   dilation, groups, out, on_device=False)
    return im2col.backward_data(dy, w, geo, out)


def conv2d_backward_weight_cpu(x, dy, w_shape, stride, padding, dilation, groups, out=None):
    """dw (K, C/groups, R, S): the gradient of conv2d_forward with respect to its weight."""
    geo, out = _backward_weight_args("conv2d_backward_weight_cpu", x, dy, w_shape, stride,
                                     padding, dilation, groups, out, on_device=False)
    return im2col.backward_weight(x, dy, geo, out)


# ---------------------------------------------------------------- CUDA launchers

# The version ladders, by `version=`.
FORWARD_KERNELS = {1: kernels.forward_v1_direct, 2: kernels.forward_v2_implicit_gemm,
                   3: kernels.forward_v3_implicit_gemm_bounded}
BACKWARD_DATA_KERNELS = {1: kernels.backward_data_v1_direct,
                         2: kernels.backward_data_v2_implicit_gemm,
                         3: kernels.backward_data_v3_implicit_gemm_bounded}
BACKWARD_WEIGHT_KERNELS = {1: kernels.backward_weight_v1_direct,
                           2: kernels.backward_weight_v2_implicit_gemm,
                           3: kernels.backward_weight_v3_implicit_gemm_bounded}


def _launch_plan(op, ladder, version, check_args, *args):
    """(kernel, geometry, output) of a launcher: the rung `version` of the ladder, then
    check_args (one of the _*_args above) run on the launcher's arguments."""
    if version not in VERSIONS:
        raise ValueError(f"{op}: version must be one of {VERSIONS}, got {version!r}")
    return (ladder[version], *check_args(op, *args, on_device=True))


def _direct_grid(out):
    """Version 1: one thread per output element."""
    return ceil_div(out.size, THREADS), THREADS


def _steps(geo):
    i32 = np.int32
    return (i32(geo.sh), i32(geo.sw), i32(geo.pt), i32(geo.pl), i32(geo.dh), i32(geo.dw),
            i32(geo.groups))


def conv2d_forward_cuda(x, w, b, stride, padding, dilation, groups, out=None, *,
                        version=DEFAULT_VERSION):
    """Device twin of conv2d_forward_cpu: y (N, K, P, Q)."""
    op = "conv2d_forward_cuda"
    kernel, geo, out = _launch_plan(op, FORWARD_KERNELS, version, _forward_args, x, w, b, stride,
                                    padding, dilation, groups, out)
    has_bias = np.int32(b is not None)
    # Never read when has_bias is 0; any float32[::1] satisfies the signature without allocating.
    bias = b if b is not None else w.reshape(w.size)
    if version == 1:
        kernel[_direct_grid(out)](x, w, bias, has_bias, out, *_steps(geo))
    else:
        kernel[kernels.gemm_grid(geo.kg, geo.n * geo.p * geo.q, geo.groups), TILE_THREADS](
            x, w.reshape(geo.k, -1), bias, has_bias, out.reshape(geo.n, geo.k, -1),
            np.int32(geo.r), np.int32(geo.s), np.int32(geo.q), *_steps(geo))
    return out


def conv2d_backward_data_cuda(dy, w, x_shape, stride, padding, dilation, groups, out=None, *,
                              version=DEFAULT_VERSION):
    """Device twin of conv2d_backward_data_cpu: dx (N, C, H, W)."""
    op = "conv2d_backward_data_cuda"
    kernel, geo, out = _launch_plan(op, BACKWARD_DATA_KERNELS, version, _backward_data_args, dy,
                                    w, x_shape, stride, padding, dilation, groups, out)
    if version == 1:
        kernel[_direct_grid(out)](dy, w, out, *_steps(geo))
    else:
        kernel[kernels.gemm_grid(geo.cg, geo.n * geo.h * geo.w, geo.groups), TILE_THREADS](
            dy, w.reshape(geo.k, -1), out.reshape(geo.n, geo.c, -1),
            np.int32(geo.r), np.int32(geo.s), np.int32(geo.w), *_steps(geo))
    return out


def conv2d_backward_weight_cuda(x, dy, w_shape, stride, padding, dilation, groups, out=None, *,
                                version=DEFAULT_VERSION, split_k=None):
    """Device twin of conv2d_backward_weight_cpu: dw (K, C/groups, R, S).

    split_k overrides the number of reduction chunks of versions 2 and 3 (tests use it to
    exercise the partial buffers on small shapes); by default it follows the shapes
    (conv2d_cuda.split_k_count).
    """
    op = "conv2d_backward_weight_cuda"
    kernel, geo, out = _launch_plan(op, BACKWARD_WEIGHT_KERNELS, version, _backward_weight_args,
                                    x, dy, w_shape, stride, padding, dilation, groups, out)
    if version == 1:
        kernel[_direct_grid(out)](x, dy, out, *_steps(geo))
        return out
    npq = geo.n * geo.p * geo.q
    crs = geo.cg * geo.r * geo.s
    splits = kernels.split_k_count(geo) if split_k is None else split_k
    if isinstance(splits, bool) or not isinstance(splits, (int, np.integer)) or splits < 1:
        raise ValueError(f"{op}: split_k must be an int >= 1, got {split_k!r}")
    # Chunks are whole BK steps; recounting drops chunks that would start past the end.
    chunk = ceil_div(ceil_div(npq, kernels.BK), int(splits)) * kernels.BK
    splits = ceil_div(npq, chunk)
    out_rows = out.reshape(geo.k, crs)
    if splits == 1:
        partial = out_rows.reshape(1, geo.k, crs)      # one chunk: write dw directly
    else:
        partial = output(op, True, None, (splits, geo.k, crs))
    kernel[kernels.gemm_grid(geo.kg, crs, geo.groups * splits), TILE_THREADS](
        x, dy.reshape(geo.n, geo.k, geo.p * geo.q), partial, np.int32(geo.r), np.int32(geo.s),
        np.int32(geo.q), *_steps(geo), np.int32(splits), np.int32(chunk))
    if splits > 1:
        kernels.sum_splits[_direct_grid(out)](partial, out_rows)
    return out


OPS = {
    "conv2d_forward": Twins(conv2d_forward_cpu, conv2d_forward_cuda),
    "conv2d_backward_data": Twins(conv2d_backward_data_cpu, conv2d_backward_data_cuda),
    "conv2d_backward_weight": Twins(conv2d_backward_weight_cpu, conv2d_backward_weight_cuda),
}
