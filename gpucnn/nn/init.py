"""gpucnn.nn.init: PyTorch's parameter initialisers, with its names, arguments and rules.

Each fills a tensor in place on its own device, under no_grad, and returns it. Random draws
come from gpucnn's Philox generator (gpucnn.manual_seed seeds it; the same numbers on "cpu"
and "cuda"), through Tensor.uniform_ / normal_; the numbers differ from PyTorch's, the
distributions do not. generator= takes a gpucnn.Generator, whose own Philox stream then
feeds the draws (a torch.Generator, or anything else, is a TypeError).
orthogonal_ factors its random matrix on the host (QR in float64) and copies the result to
the tensor's device.

    calculate_gain(nonlinearity, param)          the recommended gain per nonlinearity
    _calculate_fan_in_and_fan_out(tensor)        fans: dims 1 and 0 times the receptive field
    uniform_, normal_, trunc_normal_, constant_, ones_, zeros_, eye_, dirac_,
    xavier_uniform_, xavier_normal_, kaiming_uniform_, kaiming_normal_, orthogonal_, sparse_
    uniform, normal, ... (without the underscore): PyTorch's deprecated aliases
"""
import math
import warnings

import numpy as np

from .. import dtypes, factories
from .. import generator as generators
from ..autograd import no_grad
from ..factories import empty_like, tensor as make_tensor
from ..functions import where
from ..tensor import Tensor

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def _checked(op, tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{op}: tensor must be a gpucnn Tensor, got "
                        f"{type(tensor).__name__}")
    return tensor


def _draw(op, kind, like, a, b, generator):
    """A new float32 tensor of like's shape on its device, uniform on [a, b) or normal with
    mean a and std b, from `generator` (a gpucnn.Generator) or the global generator."""
    if like.dtype is not dtypes.float32:
        raise TypeError(f"nn.init.{op}: only float32 tensors can be filled with random "
                        f"numbers, got {like.dtype.name}")
    fresh = empty_like(like)
    if generator is None:
        return fresh.uniform_(a, b) if kind == "uniform" else fresh.normal_(a, b)
    # The draw Tensor.uniform_ / normal_ make, from the given generator's Philox counters.
    seed, offset = generators.philox_counters(generator, fresh.numel(), f"nn.init.{op}")
    kernels = fresh._kernels
    (kernels.uniform if kind == "uniform" else kernels.normal)(fresh._array, seed, offset, a, b)
    return fresh


def _fill(op, kind, tensor, a, b, generator):
    """tensor filled in place as _draw draws (straight into its memory without a generator)."""
    with no_grad():
        if generator is None:
            return tensor.uniform_(a, b) if kind == "uniform" else tensor.normal_(a, b)
        return tensor.copy_(_draw(op, kind, tensor, a, b, generator))


def calculate_gain(nonlinearity, param=None):
    """The recommended gain: 1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope^2)) for leaky_relu (slope = param, 0.01 by default), 3/4 for selu."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or \
                isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4   # found empirically (PyTorch's choice)
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; give one of "
                     f"{', '.join(_LINEAR_FNS)}, sigmoid, tanh, relu, leaky_relu, selu")


def _calculate_fan_in_and_fan_out(tensor):
    """(size(1), size(0)), each times the product of the dims after the first two."""
    if tensor.dim() < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return tensor.size(1) * receptive_field_size, tensor.size(0) * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ================================================================ plain fills

def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """U(a, b)."""
    return _fill("uniform_", "uniform", _checked("uniform_", tensor), a, b, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """N(mean, std^2)."""
    return _fill("normal_", "normal", _checked("normal_", tensor), mean, std, generator)


def constant_(tensor, val):
    _checked("constant_", tensor)
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    _checked("ones_", tensor)
    with no_grad():
        return tensor.fill_(1.0)


def zeros_(tensor):
    _checked("zeros_", tensor)
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """The identity matrix (ones on the main diagonal) of a 2-D tensor of any shape."""
    _checked("eye_", tensor)
    if tensor.ndimension() != 2:
        raise ValueError(f"nn.init.eye_: only tensors with 2 dimensions are supported, got "
                         f"shape {tuple(tensor.shape)}")
    with no_grad():
        return tensor.copy_(factories.eye(*tensor.shape, device=tensor.device))


def dirac_(tensor, groups=1):
    """The Dirac delta of a 3-, 4- or 5-D convolution weight: output channel d of each group
    passes input channel d through its kernel's centre (as many channels as fit)."""
    _checked("dirac_", tensor)
    dimensions = tensor.ndimension()
    if dimensions not in (3, 4, 5):
        raise ValueError(f"nn.init.dirac_: only tensors with 3, 4, or 5 dimensions are "
                         f"supported, got shape {tuple(tensor.shape)}")
    sizes = tensor.size()
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"nn.init.dirac_: groups must be a positive int, got {groups!r}")
    if sizes[0] % groups != 0:
        raise ValueError(f"nn.init.dirac_: dim 0 must be divisible by groups (size "
                         f"{sizes[0]}, groups {groups})")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    centre = tuple(s // 2 for s in sizes[2:])
    host = np.zeros(tuple(sizes), np.float32)   # built on the host: one copy, not many writes
    for g in range(groups):
        for d in range(min_dim):
            host[(g * out_chans_per_grp + d, d) + centre] = 1.0
    with no_grad():
        return tensor.copy_(make_tensor(host, device=tensor.device))


# ================================================================ scaled by the fans

def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)) (Glorot)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_checked("xavier_uniform_", tensor))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _fill("xavier_uniform_", "uniform", tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out)) (Glorot)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_checked("xavier_normal_", tensor))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill("xavier_normal_", "normal", tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    """gain / sqrt(fan), or None for a tensor with no elements (PyTorch warns: a no-op)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound), bound = gain sqrt(3 / fan_mode) (He)."""
    std = _kaiming_std(_checked("kaiming_uniform_", tensor), a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _fill("kaiming_uniform_", "uniform", tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2), std = gain / sqrt(fan_mode) (He)."""
    std = _kaiming_std(_checked("kaiming_normal_", tensor), a, mode, nonlinearity)
    if std is None:
        return tensor
    return _fill("kaiming_normal_", "normal", tensor, 0.0, std, generator)


# ================================================================ other distributions

def _norm_cdf(x):
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) restricted to [a, b], by PyTorch's two samplers: redrawing the normal
    values that fall outside while that keeps most of them (the mass inside above 0.3), else
    rejection sampling from U(a, b) against the normal's density."""
    _checked("trunc_normal_", tensor)
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    with no_grad():
        inside = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
        result = (_redraw_outside if inside > 0.3 else _rejection_sample)(
            tensor, mean, std, a, b, generator)
        return tensor.copy_(result)


def _redraw_outside(tensor, mean, std, a, b, generator):
    low, high = float(np.float32(a)), float(np.float32(b))   # the bounds as stored values
    result = _draw("trunc_normal_", "normal", tensor, mean, std, generator)
    while True:
        outside = (result < low) | (result > high)
        if not bool(outside.any()):
            return result
        result = where(outside, _draw("trunc_normal_", "normal", tensor, mean, std, generator),
                       result)


def _rejection_sample(tensor, mean, std, a, b, generator):
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def candidates():
        return _draw("trunc_normal_", "uniform", tensor, a, b, generator)

    def rejected(x):   # log U > the log density at x relative to its peak over [a, b]
        log_u = _draw("trunc_normal_", "uniform", tensor, 0.0, 1.0, generator).log()
        return log_u > ((x - mean) / std).square() * -0.5 - log_peak

    result = candidates()
    pending = rejected(result)
    while bool(pending.any()):
        fresh = candidates()
        result = where(pending, fresh, result)
        pending = pending & rejected(fresh)
    return result


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times gain: the Q of a QR factorisation of a standard normal
    (rows, numel / rows) matrix (transposed when wide), its columns' signs set by R's diagonal
    so that Q is uniform over orthogonal matrices. The QR runs on the host in float64."""
    _checked("orthogonal_", tensor)
    if tensor.ndimension() < 2:
        raise ValueError(f"nn.init.orthogonal_: only tensors with 2 or more dimensions are "
                         f"supported, got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    with no_grad():
        drawn = _draw("orthogonal_", "normal", tensor, 0.0, 1.0, generator)
        flattened = drawn.numpy().astype(np.float64).reshape(rows, cols)
        if rows < cols:
            flattened = flattened.T
        q, r = np.linalg.qr(flattened)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        values = (q * gain).astype(np.float32).reshape(tuple(tensor.shape))
        return tensor.copy_(make_tensor(values, device=tensor.device))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """N(0, std^2) with ceil(sparsity * rows) elements of each column set to zero, at rows
    chosen at random (a random permutation per column: the order of uniform draws)."""
    _checked("sparse_", tensor)
    if tensor.ndimension() != 2:
        raise ValueError(f"nn.init.sparse_: only tensors with 2 dimensions are supported, got "
                         f"shape {tuple(tensor.shape)}")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with no_grad():
        _fill("sparse_", "normal", tensor, 0.0, std, generator)
        keys = _draw("sparse_", "uniform", tensor, 0.0, 1.0, generator).numpy()
        order = np.argsort(keys, axis=0, kind="stable")   # a permutation of the rows per column
        zero = np.zeros((rows, cols), np.bool_)
        zero[order[:num_zeros], np.arange(cols)] = True
        return tensor.masked_fill_(make_tensor(zero, device=tensor.device), 0.0)


# ================================================================ PyTorch's deprecated aliases

def _make_deprecate(method):
    new_name = method.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return method(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"Deprecated: nn.init.{new_name}."
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant", "eye",
           "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
           "orthogonal", "sparse"]
