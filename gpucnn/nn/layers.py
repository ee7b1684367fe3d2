"""The layers: thin Modules over gpucnn.nn.functional, initialised as PyTorch does."""
import math
import numbers

from .. import random
from ..kernels._checks import padding4, pair
from ..factories import from_numpy
from . import functional as F
from .module import Module
from .parameter import Parameter


def _uniform(shape, bound) -> Parameter:
    """PyTorch's default init, U(-bound, bound), drawn in float32 into the parameter itself."""
    return Parameter(from_numpy(random.uniform(shape, -bound, bound)))


def positive_int(layer: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise (TypeError if not isinstance(value, numbers.Integral) or isinstance(value, bool)
               else ValueError)(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


def positive_pair(layer: str, name: str, value) -> tuple[int, int]:
    result = pair(layer, name, value)
    if min(result) < 1:
        raise ValueError(f"{layer}: {name} must be >= 1, got {value!r}")
    return result


def padding_argument(layer: str, padding):
    """'same' / 'valid', an int, a pair or a 4-tuple (top, bottom, left, right), all >= 0."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{layer}: padding must be an int, a tuple, 'same' or 'valid', got "
                             f"{padding!r}")
        return padding
    result = padding4(layer, padding) if isinstance(padding, (tuple, list)) and \
        len(padding) == 4 else pair(layer, "padding", padding)
    if min(result) < 0:
        raise ValueError(f"{layer}: padding must be >= 0, got {padding!r}")
    return result


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True):
        super().__init__()
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
        fan_in = in_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)) gives bound 1/sqrt(fan_in) for both.
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = _uniform((out_channels, in_channels // groups) + self.kernel_size, bound)
        self.register_parameter("bias", _uniform((out_channels,), bound) if bias else None)

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


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = positive_int("Linear", "in_features", in_features)
        self.out_features = positive_int("Linear", "out_features", out_features)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = _uniform((self.out_features, self.in_features), bound)
        self.register_parameter("bias", _uniform((self.out_features,), bound) if bias else None)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def flops(self, in_shape, out_shape) -> int:
        return 2 * self.in_features * self.out_features

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


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


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)


class Sequential(Module):
    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: item {index} is a {type(module).__name__}, not a Module")
            setattr(self, str(index), module)

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        for name, module in self._modules.items():
            try:
                x = module(x)
            except (ValueError, TypeError) as error:
                # Name the layer in the error, once (nested Sequentials keep the innermost).
                if getattr(error, "_layer_named", False):
                    raise
                named = type(error)(f"layer '{name}' {module!r}: {error}")
                named._layer_named = True
                raise named from error
        return x
