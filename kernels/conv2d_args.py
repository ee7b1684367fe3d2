"""Argument checks and output shapes shared by the convolution CPU twins and CUDA launchers.

Every public conv2d function calls one of these before touching data, so a bad call raises a
ValueError/TypeError naming the op and the shapes instead of reading out of bounds on a device.
"""
from typing import NamedTuple

import numpy as np
from numba import cuda

from ._checks import check_array, check_device, check_out, conv_output_hw, pair


class Geometry(NamedTuple):
    """A convolution's shape, normalised once so the kernels receive plain ints."""
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
    sh, sw = pair(op, "stride", stride)
    dh, dw = pair(op, "dilation", dilation)
    if isinstance(padding, (int, np.integer)):
        padding = (int(padding),) * 4
    padding = tuple(int(v) for v in padding)
    if len(padding) == 2:
        padding = (padding[0], padding[0], padding[1], padding[1])
    if len(padding) != 4:
        raise ValueError(f"{op}: padding must be (top, bottom, left, right), got {padding}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    groups = int(groups)
    p, q = conv_output_hw(op, x_shape, w_shape, (sh, sw), padding, (dh, dw), groups)
    return Geometry(*x_shape, *w_shape, p, q, sh, sw, *padding, dh, dw, groups)


def check_shape(op: str, name: str, a, expected):
    if tuple(a.shape) != tuple(expected):
        raise ValueError(f"{op}: {name} has shape {tuple(a.shape)}, expected {tuple(expected)}")


def forward_args(op, x, w, b, stride, padding, dilation, groups, out, device):
    check_array(op, "x", x, 4)
    check_array(op, "w", w, 4)
    arrays = {"x": x, "w": w}
    if b is not None:
        check_array(op, "b", b, 1)
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"{op}: bias has shape {tuple(b.shape)}, weight {tuple(w.shape)} "
                             f"has {w.shape[0]} output channels")
        arrays["b"] = b
    geo = geometry(op, x.shape, w.shape, stride, padding, dilation, groups)
    return geo, _out(op, out, geo.y_shape, device, arrays)


def backward_data_args(op, dy, w, x_shape, stride, padding, dilation, groups, out, device):
    check_array(op, "dy", dy, 4)
    check_array(op, "w", w, 4)
    geo = geometry(op, x_shape, w.shape, stride, padding, dilation, groups)
    check_shape(op, f"dy (input {geo.x_shape}, weight {geo.w_shape})", dy, geo.y_shape)
    return geo, _out(op, out, geo.x_shape, device, {"dy": dy, "w": w})


def backward_weight_args(op, x, dy, w_shape, stride, padding, dilation, groups, out, device):
    check_array(op, "x", x, 4)
    check_array(op, "dy", dy, 4)
    geo = geometry(op, x.shape, w_shape, stride, padding, dilation, groups)
    check_shape(op, f"dy (input {geo.x_shape}, weight {geo.w_shape})", dy, geo.y_shape)
    return geo, _out(op, out, geo.w_shape, device, {"x": x, "dy": dy})


def backward_bias_args(op, dy, out, device):
    check_array(op, "dy", dy, 4)
    return _out(op, out, (dy.shape[1],), device, {"dy": dy})


def _out(op, out, shape, device, arrays):
    if device:
        for name, a in arrays.items():
            check_device(op, name, a)
    if out is None:
        return cuda.device_array(shape, np.float32) if device else np.empty(shape, np.float32)
    check_out(op, out, shape)
    if device:
        check_device(op, "out", out)
    return out
