"""Activation functions: relu, sigmoid, tanh (one elementwise kernel call each, gradients from
the saved input or output), softmax and log_softmax (composed of reductions and elementwise
ops, so their gradients come from the pieces')."""
from .. import dtypes
from ..kernels import map_ops as M
from .arithmetic import Elementwise


class ReLU(Elementwise):
    name, code, saves = "relu", M.U_RELU, (0,)

    def backward(self, g):
        return self.bin(M.B_RELU_GRAD, g, self.x)


class IntegerReLU(Elementwise):
    """relu of an integer tensor: max(x, 0) (no gradient: integers have none)."""
    name, code = "relu", M.U_MAXIMUM


class Sigmoid(Elementwise):
    name, code, float_result, saves_output = "sigmoid", M.U_SIGMOID, True, True

    def backward(self, g):
        return self.bin(M.B_SIGMOID_GRAD, g, self.y)


class Tanh(Elementwise):
    name, code, float_result, saves_output = "tanh", M.U_TANH, True, True

    def backward(self, g):
        return self.bin(M.B_TANH_GRAD, g, self.y)


def relu(x):
    if x.dtype is dtypes.bool:
        raise TypeError("relu: not supported for bool tensors")
    return ReLU.apply(x) if x.dtype.is_floating_point else IntegerReLU.apply(x, p=0)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def softmax(x, dim):
    """exp(x - max) / sum(exp(x - max)) along dim; the max is a constant shift (detached)."""
    if dim is None:
        raise TypeError("softmax: give dim (PyTorch's implicit choice of dim is deprecated)")
    x = x if x.dtype.is_floating_point else x.float()
    shifted = (x - x.amax(dim, keepdim=True).detach()).exp()
    return shifted / shifted.sum(dim, keepdim=True)


def log_softmax(x, dim):
    if dim is None:
        raise TypeError("log_softmax: give dim (PyTorch's implicit choice of dim is "
                        "deprecated)")
    x = x if x.dtype.is_floating_point else x.float()
    return x - x.logsumexp(dim, keepdim=True)
