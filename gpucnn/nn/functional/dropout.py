"""dropout and dropout2d, as PyTorch's: identity when not training (or p = 0), otherwise each
element (dropout) or each whole channel of each sample (dropout2d) is zeroed with probability p
and the survivors scaled by 1 / (1 - p). `inplace=True` writes the result into the input and
returns it, as PyTorch's (inside autograd too, gpucnn/inplace.py); the mask is the one the
out-of-place call would draw."""
import numbers
import warnings

from ...ops.dropout import Dropout
from ._checks import check_tensor


def _probability(op, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: p must be a number, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(input, p=0.5, training=True, inplace=False):
    p = _probability("dropout", p)
    check_tensor("dropout", "input", input)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    return _apply(input, inplace, "dropout_", p, tuple(input.shape))


def _apply(input, inplace, op, p, mask_shape):
    if inplace:
        return input._inplace(op, lambda: Dropout.apply(input, p=p, mask_shape=mask_shape))
    return Dropout.apply(input, p=p, mask_shape=mask_shape)


def dropout2d(input, p=0.5, training=True, inplace=False):
    p = _probability("dropout2d", p)
    check_tensor("dropout2d", "input", input)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      f"deprecated (in PyTorch too); use dropout for inputs that are not "
                      f"(N, C, H, W) or (C, H, W)", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), as PyTorch does", stacklevel=2)
    if input.ndim < 2:
        raise ValueError(f"dropout2d: input must have a batch and a channel dimension, got "
                         f"shape {tuple(input.shape)}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _apply(input, inplace, "dropout2d_", p, mask_shape)
