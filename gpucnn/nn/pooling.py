"""Pooling layers."""
from ..kernels._checks import pair
from ._arguments import positive_pair
from . import functional as F
from .module import Module


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        positive_pair("MaxPool2d", "kernel_size", kernel_size)
        if stride is not None:
            positive_pair("MaxPool2d", "stride", stride)
        if min(pair("MaxPool2d", "padding", padding)) < 0:
            raise ValueError(f"MaxPool2d: padding must be >= 0, got {padding!r}")
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, bool(ceil_mode)

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('AvgPool2d: being written')


class AdaptiveAvgPool2d(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('AdaptiveAvgPool2d: being written')


class AdaptiveMaxPool2d(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('AdaptiveMaxPool2d: being written')
