"""Activation functions: relu, sigmoid, tanh, leaky_relu, elu, gelu (exact and tanh), silu (one
elementwise kernel call each, gradients from the saved input or output), softmax and log_softmax (composed of reductions and elementwise
ops, so their gradients come from the pieces')."""
from .. import dtypes
from ..kernels import map_ops as M
from ..autograd import composite
from .arithmetic import Elementwise, OutputGradient


class ReLU(Elementwise):
    """The gradient reads the output (y > 0 where x > 0), which PyTorch's relu saves: so
    relu_ keeps no copy of its input, and changing relu's input afterwards is no error."""
    name, code, saves, saves_output = "relu", M.U_RELU, (), True
    grad_code = M.B_RELU_GRAD


class IntegerReLU(Elementwise):
    """relu of an integer tensor: max(x, 0) (no gradient: integers have none)."""
    name, code = "relu", M.U_MAXIMUM


class Sigmoid(OutputGradient):
    name, code, grad_code = "sigmoid", M.U_SIGMOID, M.B_SIGMOID_GRAD


class Tanh(OutputGradient):
    name, code, grad_code = "tanh", M.U_TANH, M.B_TANH_GRAD


class LeakyReLU(Elementwise):
    name, code, saves = "leaky_relu", M.U_LEAKY_RELU, (0,)   # p: negative slope
    grad_code = M.B_LEAKY_RELU_GRAD


class ELU(Elementwise):
    name, code, saves = "elu", M.U_ELU, (0,)   # p: alpha
    grad_code = M.B_ELU_GRAD


class GELU(Elementwise):
    name, code, saves = "gelu", M.U_GELU, (0,)
    grad_code = M.B_GELU_GRAD


class GELUTanh(Elementwise):
    name, code, saves = "gelu", M.U_GELU_TANH, (0,)
    grad_code = M.B_GELU_TANH_GRAD


class SiLU(Elementwise):
    name, code, saves = "silu", M.U_SILU, (0,)
    grad_code = M.B_SILU_GRAD


def _floating(op, x):
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a float tensor, got {x.dtype} (shape {tuple(x.shape)}); "
                        f"convert it with .float()")


def leaky_relu(x, negative_slope=0.01):
    _floating("leaky_relu", x)
    return LeakyReLU.apply(x, p=float(negative_slope))


def elu(x, alpha=1.0):
    _floating("elu", x)
    return ELU.apply(x, p=float(alpha))


def gelu(x, approximate="none"):
    _floating("gelu", x)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return (GELU if approximate == "none" else GELUTanh).apply(x)


def silu(x):
    _floating("silu", x)
    return SiLU.apply(x)


def relu(x):
    if x.dtype is dtypes.bool:
        raise TypeError("relu: not supported for bool tensors")
    return ReLU.apply(x) if x.dtype.is_floating_point else IntegerReLU.apply(x, p=0)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


@composite
def softmax(x, dim):
    """exp(x - max) / sum(exp(x - max)) along dim; the max is a constant shift (detached)."""
    if dim is None:
        raise TypeError("softmax: give dim (PyTorch's implicit choice of dim is deprecated)")
    x = x if x.dtype.is_floating_point else x.float()
    shifted = (x - x.amax(dim, keepdim=True).detach()).exp()
    return shifted / shifted.sum(dim, keepdim=True)


@composite
def log_softmax(x, dim):
    if dim is None:
        raise TypeError("log_softmax: give dim (PyTorch's implicit choice of dim is "
                        "deprecated)")
    x = x if x.dtype.is_floating_point else x.float()
    return x - x.logsumexp(dim, keepdim=True)
