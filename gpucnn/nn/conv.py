"""Conv2d: a learnable 2-D convolution, initialised as PyTorch's (reset_parameters(), called
at construction, so that a subclass's override takes effect)."""
import math

from ._arguments import padding_argument, positive_int, positive_pair
from ._init import empty_parameter, factory_device, uniform_fill_
from . import functional as F
from .module import Module


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, device=None, dtype=None):
        super().__init__()
        device = factory_device("Conv2d", device, dtype)
        in_channels = positive_int("Conv2d", "in_channels", in_channels)
        out_channels = positive_int("Conv2d", "out_channels", out_channels)
        groups = positive_int("Conv2d", "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = positive_pair("Conv2d", "kernel_size", kernel_size)
        self.stride = positive_pair("Conv2d", "stride", stride)
        self.dilation = positive_pair("Conv2d", "dilation", dilation)
        self.padding = padding_argument("Conv2d", padding)
        if self.padding == "same" and self.stride != (1, 1):
            raise ValueError(f"Conv2d: padding='same' is not supported for strided "
                             f"convolutions (stride {self.stride}), as in PyTorch")
        self.groups = groups
        self.weight = empty_parameter((out_channels, in_channels // groups) + self.kernel_size,
                                      device)
        self.register_parameter("bias", empty_parameter((out_channels,), device) if bias
                                else None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, which is
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias; drawn from the
        host generator, weight first (gpucnn.manual_seed gives the same weights as ever)."""
        fan_in = self.weight.size(1) * self.weight.size(2) * self.weight.size(3)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_fill_(self.weight, bound)
        if self.bias is not None:
            uniform_fill_(self.bias, bound)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def flops(self, in_shape, out_shape) -> int:
        # Each output is a dot product of (C/groups)*R*S taps.
        taps = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        return 2 * math.prod(out_shape[1:]) * taps

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding not in (0, (0, 0), "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")
