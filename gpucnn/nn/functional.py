"""gpucnn.nn.functional: the PyTorch-shaped functional API.

Every function normalises its arguments and checks shapes here, so bad input raises a
ValueError/TypeError naming the op and the shapes before any kernel runs.
"""
import numbers

import numpy as np

from .. import dtypes
from ..kernels._checks import conv_output_hw, padding4, pair
from ..ops.activation import relu  # noqa: F401  (re-exported)
from ..ops.conv import Conv2d
from ..ops.linear import Linear
from ..ops.loss import CrossEntropy
from ..ops.pool import MaxPool2d
from ..tensor import Tensor


def _check_tensor(op, name, t, ndim=None, floating=True):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a gpucnn Tensor, got {type(t).__name__}")
    if ndim is not None and t.ndim != ndim:
        raise ValueError(f"{op}: {name} must be {ndim}-D, got shape {t.shape}")
    if floating and t.dtype is not dtypes.float32:
        raise TypeError(f"{op}: {name} must be a float tensor, got {t.dtype} (shape {t.shape})")


def conv_padding(op, padding, kernel_hw, stride, dilation):
    """Normalise padding to (top, bottom, left, right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride {stride}), as in PyTorch")
        total_h = dilation[0] * (kernel_hw[0] - 1)
        total_w = dilation[1] * (kernel_hw[1] - 1)
        # PyTorch puts the odd extra row/column at the bottom/right.
        return total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2
    return padding4(op, padding)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    op = "conv2d"
    _check_tensor(op, "input", x, 4)
    _check_tensor(op, "weight", w, 4)
    stride = pair(op, "stride", stride)
    dilation = pair(op, "dilation", dilation)
    pads = conv_padding(op, padding, w.shape[2:], stride, dilation)
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    conv_output_hw(op, x.shape, w.shape, stride, pads, dilation, int(groups))
    inputs = (x, w)
    if b is not None:
        _check_tensor(op, "bias", b, 1)
        if b.shape != (w.shape[0],):
            raise ValueError(f"{op}: bias shape {b.shape} does not match the {w.shape[0]} output "
                             f"channels of weight {w.shape}")
        inputs = (x, w, b)
    return Conv2d.apply(*inputs, stride=stride, padding=pads, dilation=dilation, groups=int(groups))


def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    op = "max_pool2d"
    _check_tensor(op, "input", x, 4)
    kernel = pair(op, "kernel_size", kernel_size)
    stride = kernel if stride is None else pair(op, "stride", stride)
    padding = pair(op, "padding", padding)
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size {kernel} and stride {stride} must be >= 1, "
                         f"padding {padding} >= 0")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if kernel[0] > h or kernel[1] > w:
        raise ValueError(f"{op}: kernel {kernel} is larger than the padded input {h}x{w} "
                         f"(input {x.shape})")
    return MaxPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                           ceil_mode=bool(ceil_mode))


def linear(x, w, b=None):
    op = "linear"
    _check_tensor(op, "input", x, 2)
    _check_tensor(op, "weight", w, 2)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"{op}: input {x.shape} has {x.shape[1]} features, weight {w.shape} "
                         f"expects {w.shape[1]}")
    if b is None:
        return Linear.apply(x, w)
    _check_tensor(op, "bias", b, 1)
    if b.shape != (w.shape[0],):
        raise ValueError(f"{op}: bias shape {b.shape} does not match weight {w.shape}")
    return Linear.apply(x, w, b)


def cross_entropy(logits, target):
    op = "cross_entropy"
    _check_tensor(op, "logits", logits, 2)
    _check_tensor(op, "target", target, 1, floating=False)
    if target.dtype not in (dtypes.int64, dtypes.int32):
        raise TypeError(f"{op}: target must hold integer class labels, got {target.dtype}")
    if target.shape[0] != logits.shape[0]:
        raise ValueError(f"{op}: {logits.shape[0]} rows of logits {logits.shape} but "
                         f"{target.shape[0]} labels")
    labels = target._host_values()
    classes = logits.shape[1]
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise ValueError(f"{op}: labels must lie in [0, {classes}) for logits {logits.shape}; "
                         f"found {labels[bad][:5].tolist()}")
    return CrossEntropy.apply(logits, target)
