"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d.

The average and adaptive pools take (N, C, H, W) or, as PyTorch, one unbatched (C, H, W)
image, pooled as a batch of one; only the batch may be empty.
"""
import numpy as np

from ...kernels._checks import pair
from ...kernels.avg_pool2d import adaptive_output_hw, avg_pooled_hw, check_divisor_override
from ...ops import pool
from ...ops.pool import MaxPool2d
from ._checks import check_tensor


def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    op = "max_pool2d"
    check_tensor(op, "input", x, 4)
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


def _batched(op, x):
    """x as (N, C, H, W), and whether it was one unbatched (C, H, W) image."""
    check_tensor(op, "input", x)
    shape = tuple(x.shape)
    if x.ndim not in (3, 4) or 0 in shape[-3:]:
        raise ValueError(f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W) with non-empty "
                         f"C, H and W, got shape {shape}")
    return (x, False) if x.ndim == 4 else (x.unsqueeze(0), True)


def _flag(op, name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be a bool, got {value!r}")
    return bool(value)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True, divisor_override=None):
    op = "avg_pool2d"
    x, unbatched = _batched(op, input)
    kernel = pair(op, "kernel_size", kernel_size)
    # PyTorch takes stride=None or an empty stride as "the kernel size".
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else pair(op, "stride", stride)
    padding = pair(op, "padding", padding)
    ceil_mode = _flag(op, "ceil_mode", ceil_mode)
    count_include_pad = _flag(op, "count_include_pad", count_include_pad)
    divisor_override = check_divisor_override(op, divisor_override)
    avg_pooled_hw(op, x.shape, kernel, stride, padding, ceil_mode)
    y = pool.AvgPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                             ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                             divisor_override=divisor_override)
    return y.squeeze(0) if unbatched else y


def adaptive_output_size(op, output_size, input_hw=None):
    """(OH, OW) from an int or a pair whose None entries keep the input's size (input_hw);
    without input_hw the None entries stay None (a layer's check before it sees an input)."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"{op}: output_size must be an int or a pair (an entry None keeps "
                             f"the input's size), got {output_size!r}")
        sizes = [None if v is None else pair(op, "output_size", v)[0] for v in output_size]
    else:
        sizes = list(pair(op, "output_size", output_size))
    if any(v is not None and v < 0 for v in sizes):
        raise ValueError(f"{op}: output_size must be >= 0, got {output_size!r}")
    if input_hw is not None:
        sizes = [size if v is None else v for v, size in zip(sizes, input_hw)]
    return tuple(sizes)


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    op = "adaptive_avg_pool2d"
    x, unbatched = _batched(op, input)
    size = adaptive_output_size(op, output_size, x.shape[2:])
    adaptive_output_hw(op, x.shape, size)
    y = pool.AdaptiveAvgPool2d.apply(x, output_size=size)
    return y.squeeze(0) if unbatched else y


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    op = "adaptive_max_pool2d"
    x, unbatched = _batched(op, input)
    size = adaptive_output_size(op, output_size, x.shape[2:])
    adaptive_output_hw(op, x.shape, size)
    y, indices = pool.adaptive_max_pool2d(x, size)
    if unbatched:
        y, indices = y.squeeze(0), indices.squeeze(0)
    return (y, indices) if return_indices else y
