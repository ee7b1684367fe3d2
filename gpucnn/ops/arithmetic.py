"""Elementwise arithmetic between same-shaped tensors, or a tensor and a Python scalar."""
import numbers

import numpy as np

from ..autograd import Function
from ..backend import flat


def _same_shape(name, a, b):
    if a.shape != b.shape:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} differ (gpucnn does not "
                         f"broadcast; reshape first)")


class AxPBy(Function):
    """alpha·a + beta·b: add and subtract."""
    name = "add"

    def forward(self, a, b, alpha, beta):
        self.alpha, self.beta = alpha, beta
        return self.k.axpby(flat(a), flat(b), np.float32(alpha), np.float32(beta)).reshape(a.shape)

    def backward(self, g):
        return self._scaled(g, self.alpha), self._scaled(g, self.beta)

    def _scaled(self, g, factor):
        if factor == 1.0:
            return g
        return self.k.affine(flat(g), np.float32(factor), np.float32(0.0)).reshape(g.shape)


class Mul(Function):
    name = "mul"

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.k.mul(flat(a), flat(b)).reshape(a.shape)

    def backward(self, g):
        ga = self.k.mul(flat(g), flat(self.b)).reshape(g.shape) if self.needs_grad[0] else None
        gb = self.k.mul(flat(g), flat(self.a)).reshape(g.shape) if self.needs_grad[1] else None
        return ga, gb


class Affine(Function):
    """alpha·x + beta for Python scalars alpha, beta: scaling, negation, adding a constant."""
    name = "affine"

    def forward(self, x, alpha, beta):
        self.alpha = alpha
        return self.k.affine(flat(x), np.float32(alpha), np.float32(beta)).reshape(x.shape)

    def backward(self, g):
        if self.alpha == 1.0:
            return g
        return self.k.affine(flat(g), np.float32(self.alpha), np.float32(0.0)).reshape(g.shape)


def _scalar(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a Tensor or a real Python number, got "
                        f"{type(value).__name__}")
    return float(value)


def add(a, b):
    from ..tensor import Tensor
    if isinstance(b, Tensor):
        _same_shape("add", a, b)
        return AxPBy.apply(a, b, alpha=1.0, beta=1.0)
    return Affine.apply(a, alpha=1.0, beta=_scalar("add", b))


def sub(a, b):
    from ..tensor import Tensor
    if isinstance(b, Tensor):
        _same_shape("sub", a, b)
        return AxPBy.apply(a, b, alpha=1.0, beta=-1.0)
    return Affine.apply(a, alpha=1.0, beta=-_scalar("sub", b))


def rsub(a, b):
    """b - a for a scalar b."""
    return Affine.apply(a, alpha=-1.0, beta=_scalar("sub", b))


def mul(a, b):
    from ..tensor import Tensor
    if isinstance(b, Tensor):
        _same_shape("mul", a, b)
        return Mul.apply(a, b)
    return Affine.apply(a, alpha=_scalar("mul", b), beta=0.0)


def div(a, b):
    from ..tensor import Tensor
    if isinstance(b, Tensor):
        raise TypeError("div: dividing by a tensor is not supported; divide by a Python number")
    b = _scalar("div", b)
    if b == 0.0:
        raise ZeroDivisionError("div: division of a tensor by zero")
    return Affine.apply(a, alpha=1.0 / b, beta=0.0)


def scale(a, factor):
    return Affine.apply(a, alpha=float(factor), beta=0.0)
