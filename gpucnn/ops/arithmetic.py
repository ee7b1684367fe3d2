"""Elementwise arithmetic between same-shaped tensors, or a tensor and a Python scalar.

Tensor's operators choose: `a + b` with b a Tensor is `add(a, b)`, with b a number
`add_scalar(a, b)`. Every op names itself in its errors.
"""
import numbers

import numpy as np

from ..autograd import Function
from ..backend import flat


def _same_shape(name, a, b):
    if a.shape != b.shape:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} differ (gpucnn does not "
                         f"broadcast; reshape first)")


def _scalar(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a Tensor or a real Python number, got "
                        f"{type(value).__name__}")
    return float(value)


def _scaled(kernels, g, factor):
    """factor·g: the gradient of every linear op here."""
    if factor == 1.0:
        return g
    return kernels.affine(flat(g), np.float32(factor), np.float32(0.0)).reshape(g.shape)


class AxPBy(Function):
    """alpha·a + beta·b."""

    def forward(self, a, b, alpha, beta):
        self.alpha, self.beta = alpha, beta
        return self.kernels.axpby(flat(a), flat(b), np.float32(alpha),
                                  np.float32(beta)).reshape(a.shape)

    def backward(self, g):
        return _scaled(self.kernels, g, self.alpha), _scaled(self.kernels, g, self.beta)


# One class per public name, so that each op names itself in its errors.
class Add(AxPBy): name = "add"                  # noqa: E701
class Sub(AxPBy): name = "sub"                  # noqa: E701


class Mul(Function):
    name = "mul"

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.kernels.mul(flat(a), flat(b)).reshape(a.shape)

    def backward(self, g):
        ga = self.kernels.mul(flat(g), flat(self.b)).reshape(g.shape) if self.needs_grad[0] \
            else None
        gb = self.kernels.mul(flat(g), flat(self.a)).reshape(g.shape) if self.needs_grad[1] \
            else None
        return ga, gb


class Affine(Function):
    """alpha·x + beta for Python scalars alpha, beta: scaling, negation, adding a constant."""

    def forward(self, x, alpha, beta):
        self.alpha = alpha
        return self.kernels.affine(flat(x), np.float32(alpha), np.float32(beta)).reshape(x.shape)

    def backward(self, g):
        return _scaled(self.kernels, g, self.alpha)


class AddScalar(Affine): name = "add"           # noqa: E701
class SubScalar(Affine): name = "sub"           # noqa: E701
class MulScalar(Affine): name = "mul"           # noqa: E701
class DivScalar(Affine): name = "div"           # noqa: E701
class Neg(Affine): name = "neg"                 # noqa: E701


def add(a, b):
    _same_shape("add", a, b)
    return Add.apply(a, b, alpha=1.0, beta=1.0)


def sub(a, b):
    _same_shape("sub", a, b)
    return Sub.apply(a, b, alpha=1.0, beta=-1.0)


def mul(a, b):
    _same_shape("mul", a, b)
    return Mul.apply(a, b)


def add_scalar(a, value):
    return AddScalar.apply(a, alpha=1.0, beta=_scalar("add", value))


def sub_scalar(a, value):
    return SubScalar.apply(a, alpha=1.0, beta=-_scalar("sub", value))


def rsub_scalar(a, value):
    """value - a."""
    return SubScalar.apply(a, alpha=-1.0, beta=_scalar("sub", value))


def mul_scalar(a, value):
    return MulScalar.apply(a, alpha=_scalar("mul", value), beta=0.0)


def div_scalar(a, value):
    value = _scalar("div", value)
    if value == 0.0:
        raise ZeroDivisionError("div: division of a tensor by zero")
    return DivScalar.apply(a, alpha=1.0 / value, beta=0.0)


def neg(a):
    return Neg.apply(a, alpha=-1.0, beta=0.0)
