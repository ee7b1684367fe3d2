"""Linear (x Wᵀ + b) and Identity."""
import math

from ._arguments import positive_int
from ._init import uniform_parameter
from . import functional as F
from .module import Module


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = positive_int("Linear", "in_features", in_features)
        self.out_features = positive_int("Linear", "out_features", out_features)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = uniform_parameter((self.out_features, self.in_features), bound)
        self.register_parameter("bias", uniform_parameter((self.out_features,), bound) if bias else None)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def flops(self, in_shape, out_shape) -> int:
        return 2 * self.in_features * self.out_features

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input; takes (and ignores) any constructor arguments, as PyTorch's."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
