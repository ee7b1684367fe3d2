"""Activations, with PyTorch's signatures. `inplace=True` writes the result into the input and
returns it, as PyTorch's (inside autograd too: the input's history becomes the activation's,
gpucnn/inplace.py; a leaf that requires grad is PyTorch's error)."""
import numbers

from ...ops import activation as A
from ._checks import check_tensor


def _number(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def _dim(op, x, dim):
    if dim is None:
        raise TypeError(f"{op}: give dim (PyTorch's implicit choice of dim is deprecated); for "
                        f"logits of shape {tuple(x.shape)} it is usually dim=1")
    return dim


def _maybe_inplace(op, input, inplace, compute):
    """compute(input), or with inplace its values written into input (returned)."""
    if inplace:
        return input._inplace(f"{op}_", lambda: compute(input))
    return compute(input)


def relu(input, inplace=False):
    check_tensor("relu", "input", input, floating=False)
    return _maybe_inplace("relu", input, inplace, A.relu)


def sigmoid(input):
    check_tensor("sigmoid", "input", input, floating=False)
    return A.sigmoid(input)


def tanh(input):
    check_tensor("tanh", "input", input, floating=False)
    return A.tanh(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    check_tensor("leaky_relu", "input", input, floating=False)
    slope = _number("leaky_relu", "negative_slope", negative_slope)
    return _maybe_inplace("leaky_relu", input, inplace, lambda x: A.leaky_relu(x, slope))


def elu(input, alpha=1.0, inplace=False):
    check_tensor("elu", "input", input, floating=False)
    alpha = _number("elu", "alpha", alpha)
    return _maybe_inplace("elu", input, inplace, lambda x: A.elu(x, alpha))


def gelu(input, approximate="none"):
    check_tensor("gelu", "input", input, floating=False)
    return A.gelu(input, approximate)


def silu(input, inplace=False):
    check_tensor("silu", "input", input, floating=False)
    return _maybe_inplace("silu", input, inplace, A.silu)


def softmax(input, dim=None, dtype=None):
    check_tensor("softmax", "input", input, floating=False)
    x = input if dtype is None else input.to(dtype)
    return A.softmax(x, _dim("softmax", input, dim))


def log_softmax(input, dim=None, dtype=None):
    check_tensor("log_softmax", "input", input, floating=False)
    x = input if dtype is None else input.to(dtype)
    return A.log_softmax(x, _dim("log_softmax", input, dim))
