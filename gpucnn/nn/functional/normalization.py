"""Normalization: batch_norm, as torch.nn.functional.batch_norm."""
import math
import numbers

from ...autograd import no_grad, saved_entry
from ...errors import InputError
from ...ops.norm import BatchNorm
from ._checks import check_tensor


def _verify_batch_size(shape):
    """PyTorch's rule: training statistics need more than one value per channel."""
    if shape[0] * math.prod(shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{shape!r}")


def _channel_values(op, name, t, x):
    """`t` (a tensor of one value per channel of x, or None) checked, seen as (C,)."""
    if t is None:
        return None
    check_tensor(op, name, t)
    n_chan = x.shape[1]
    if t.numel() != n_chan:
        raise InputError(f"{op}: {name} should contain {n_chan} elements (one per channel of "
                         f"input {tuple(x.shape)}), not {t.numel()} (shape {tuple(t.shape)})")
    if t.device != x.device:
        raise ValueError(f"{op}: {name} is on {t.device}, input {tuple(x.shape)} on {x.device}; "
                         f"move them to one device with .to(device)")
    return t if t.ndim == 1 else t.reshape(n_chan)


def batch_norm(input, running_mean, running_var, weight=None, bias=None,  # noqa: A002
               training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel of input (N, C, *) by its mean and variance over (N, *), then
    scale by weight and shift by bias (per channel; None for none).

    training=True: the batch's mean and biased variance are used, and running_mean /
    running_var, when given, are updated in place: running = (1 - momentum) * running +
    momentum * batch statistic (the unbiased variance for running_var). training=False: the
    running statistics are used (they must be given)."""
    op = "batch_norm"
    check_tensor(op, "input", input)
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dimensions (N, C, ...), got shape "
                         f"{tuple(input.shape)}")
    training = bool(training)
    if training:
        _verify_batch_size(input.shape)
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(f"{op}: momentum must be a float, got {momentum!r}")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{op}: eps must be a float, got {eps!r}")
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    if not training and running_mean is None:
        raise InputError(f"{op}: running_mean must be defined in evaluation mode (pass the "
                         f"running statistics, or training=True to use the batch's)")
    stats = [_channel_values(op, name, t, input)
             for name, t in (("running_mean", running_mean), ("running_var", running_var))]
    affine = [_channel_values(op, name, t, input) for name, t in (("weight", weight),
                                                                  ("bias", bias))]
    # The kernels read and update the statistics as flat arrays; a strided buffer is updated
    # through a contiguous copy, written back below.
    arrays = [None if t is None else t._contiguous_array() for t in stats]
    out = BatchNorm.apply(input, *(t for t in affine if t is not None),
                          has_weight=weight is not None, has_bias=bias is not None,
                          running_mean=arrays[0], running_var=arrays[1], training=training,
                          momentum=float(momentum), eps=float(eps))
    if training and running_mean is not None and input.numel():
        for original, t, array in zip((running_mean, running_var), stats, arrays):
            if array is not t._array:
                with no_grad():
                    original.copy_(t._like(array).reshape(original.shape))
    elif not training and out.grad_fn is not None:
        # The backward pass reads the running statistics: as PyTorch, an in-place change to
        # them before it runs (x.add_(...)) is an error. (The kernels' own update in a later
        # training step is not such a change, in PyTorch either.)
        out.grad_fn.saved_versions += [saved_entry(t) for t in stats]
    return out
