"""Linear (x Wᵀ + b) and Identity."""
import math

from ._arguments import positive_int
from ._init import empty_parameter, factory_device, uniform_fill_
from . import functional as F
from .module import Module


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        device = factory_device("Linear", device, dtype)
        self.in_features = positive_int("Linear", "in_features", in_features)
        self.out_features = positive_int("Linear", "out_features", out_features)
        self.weight = empty_parameter((self.out_features, self.in_features), device)
        self.register_parameter("bias", empty_parameter((self.out_features,), device) if bias
                                else None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, which is
        U(-1/sqrt(in_features), 1/sqrt(in_features)), and the same bound for the bias; drawn
        from the host generator, weight first (gpucnn.manual_seed gives the same weights as
        ever)."""
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        uniform_fill_(self.weight, bound)
        if self.bias is not None:
            uniform_fill_(self.bias, bound)

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
