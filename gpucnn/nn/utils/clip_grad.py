"""Gradient clipping, as torch.nn.utils: by the total norm of all gradients, or by value.

The total norm is the p-norm of the gradients' own p-norms (as if all gradients were one
vector), computed with Tensor ops on the gradients' device and returned as a 0-d tensor; the
clipping factor min(max_norm / (total_norm + 1e-6), 1) stays a tensor too, so clipping never
waits for the device (only error_if_nonfinite=True reads the norm back). Gradients on several
devices each get their norms on their own device; the total is formed on the first one's.
`foreach` is accepted for PyTorch's signature: gpucnn has one implementation, the same result.
"""
import types
import warnings

from ... import functions
from ...autograd import no_grad
from ...factories import tensor as make_tensor
from ...tensor import Tensor

# Keeps max_norm / total_norm finite when every gradient is zero (PyTorch's constant).
_NORM_EPSILON = 1e-6


def _as_list(op, tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    is_generator = isinstance(tensors, types.GeneratorType)
    tensors = list(tensors)
    if is_generator and not tensors:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                      stacklevel=4)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected gpucnn Tensors (parameters), got "
                            f"{type(t).__name__}")
    return tensors


def _check_foreach(op, foreach):
    if foreach not in (None, True, False):
        raise TypeError(f"{op}: foreach must be None, True or False, got {foreach!r}")


@no_grad()
def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm_type-norm of the tensors seen as one vector (norm_type may be inf)."""
    op = "get_total_norm"
    _check_foreach(op, foreach)
    tensors = _as_list(op, tensors)
    norm_type = float(norm_type)
    if not tensors:
        return make_tensor(0.0)
    first_device = tensors[0].device
    norms = [t.norm(norm_type) for t in tensors]
    total_norm = functions.stack([n.to(first_device) for n in norms]).norm(norm_type)
    if error_if_nonfinite and bool(total_norm.isnan() | total_norm.isinf()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm anyway, "
                           f"set `error_if_nonfinite=False`")
    return total_norm


@no_grad()
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Every gradient times min(max_norm / (total_norm + 1e-6), 1), in place."""
    op = "clip_grads_with_norm_"
    _check_foreach(op, foreach)
    grads = [p.grad for p in _as_list(op, parameters) if p.grad is not None]
    if not grads:
        return
    coefficient = (float(max_norm) / (total_norm + _NORM_EPSILON)).clamp(max=1.0)
    for g in grads:
        g.mul_(coefficient.to(g.device))


@no_grad()
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scales all gradients together so that their total norm is at most max_norm; returns
    the total norm before clipping (a 0-d tensor)."""
    parameters = _as_list("clip_grad_norm_", parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated: clip_grad_norm_."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@no_grad()
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient to [-clip_value, clip_value], in place."""
    op = "clip_grad_value_"
    _check_foreach(op, foreach)
    clip_value = float(clip_value)
    for p in _as_list(op, parameters):
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)
