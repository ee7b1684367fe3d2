"""pad, as torch.nn.functional.pad: `pad` lists (before, after) pairs from the last dimension
backwards; a negative pad crops first, in every mode (as PyTorch). "constant" then joins blocks
of `value`; "reflect", "replicate" and "circular" gather each padded dimension through an index
(NumPy's pad of 0..size-1 in the matching mode), so gradients flow back through narrow,
index_select and cat like any other op's."""
import numbers

import numpy as np

from ...autograd import composite
from ...factories import full, tensor
from ...functions import cat
from ._checks import check_tensor

MODES = {"constant": None, "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pads(input, pad):
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: padding length must be divisible by 2, got {len(pad)} ({pad})")
    if len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length {len(pad)} is too large for a "
                         f"{input.ndim}-D input of shape {tuple(input.shape)}")
    return [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]


def _crop(x, dim, before, after):
    if before < 0:
        x = x.narrow(dim, -before, x.shape[dim] + before)
    if after < 0:
        x = x.narrow(dim, 0, x.shape[dim] + after)
    return x


def _constant(x, dim, before, after, value):
    parts = []
    for width in (max(before, 0), None, max(after, 0)):
        if width is None:
            parts.append(x)
        elif width:
            shape = list(x.shape)
            shape[dim] = width
            parts.append(full(shape, value, dtype=x.dtype, device=x.device))
    return cat(parts, dim) if len(parts) > 1 else x


@composite
def pad(input, pad, mode="constant", value=None):
    check_tensor("pad", "input", input, floating=False)
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode != "constant" and value not in (None, 0, 0.0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    value = 0 if value is None else value
    pairs = _pads(input, pad)
    if mode != "constant" and (len(pairs) > 3 or input.ndim not in (len(pairs) + 1,
                                                                      len(pairs) + 2)):
        raise NotImplementedError(
            f"pad: {mode} padding of {len(pairs)} dimension(s) is not supported for a "
            f"{input.ndim}-D input (as in PyTorch: pad the last 1, 2 or 3 dimensions of an input "
            f"with 1 or 2 more); use mode 'constant' or reshape the input")
    x = input
    for i, (before, after) in enumerate(pairs):
        dim = input.ndim - 1 - i
        if before == after == 0:
            continue
        if x.shape[dim] + min(before, 0) + min(after, 0) < 0:
            raise ValueError(f"pad: negative padding {(before, after)} removes more than the "
                             f"{x.shape[dim]} elements of dimension {dim} (input "
                             f"{tuple(input.shape)})")
        x = _crop(x, dim, before, after)
        before, after, size = max(before, 0), max(after, 0), x.shape[dim]
        if before == after == 0:
            continue
        if mode == "constant":
            x = _constant(x, dim, before, after, value)
            continue
        limit = size - 1 if mode == "reflect" else size
        if mode != "replicate" and max(before, after) > limit:
            raise ValueError(f"pad: {mode} padding {(before, after)} of dimension {dim} must be "
                             f"{'<' if mode == 'reflect' else '<='} its size {size} (input "
                             f"{tuple(input.shape)})")
        if size == 0:
            raise ValueError(f"pad: cannot {mode}-pad the empty dimension {dim} of input "
                             f"{tuple(input.shape)}")
        index = np.pad(np.arange(size), (before, after), mode=MODES[mode])
        x = x.index_select(dim, tensor(index, device=x.device))
    return x
