"""Pooling layers."""
from ..kernels._checks import pair
from ..kernels.avg_pool2d import check_divisor_override
from ._arguments import positive_pair
from . import functional as F
from .functional.pooling import adaptive_output_size
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
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        positive_pair("AvgPool2d", "kernel_size", kernel_size)
        if stride is not None and not (isinstance(stride, (tuple, list)) and not stride):
            positive_pair("AvgPool2d", "stride", stride)
        if min(pair("AvgPool2d", "padding", padding)) < 0:
            raise ValueError(f"AvgPool2d: padding must be >= 0, got {padding!r}")
        check_divisor_override("AvgPool2d", divisor_override)
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        adaptive_output_size("AdaptiveAvgPool2d", output_size)
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        adaptive_output_size("AdaptiveMaxPool2d", output_size)
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"
