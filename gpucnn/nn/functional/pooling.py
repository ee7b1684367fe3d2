"""Pooling: max_pool2d (avg and adaptive pooling join here)."""
from ...kernels._checks import pair
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


def avg_pool2d(*args, **kwargs):
    raise NotImplementedError('avg_pool2d: being written')


def adaptive_avg_pool2d(*args, **kwargs):
    raise NotImplementedError('adaptive_avg_pool2d: being written')


def adaptive_max_pool2d(*args, **kwargs):
    raise NotImplementedError('adaptive_max_pool2d: being written')
