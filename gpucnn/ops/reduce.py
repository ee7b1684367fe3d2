"""Reductions over dims, with `dim` (an int, a tuple, or None for all) and `keepdim`.

    sum, mean               float sums are float32; int and bool sums int64 (as PyTorch)
    max, min                over everything: a tensor; with a dim: (values, indices)
    amax, amin              values over several dims (ties share the gradient)
    argmax, argmin          int64 indices of the first extreme (NaN counts as the extreme)
    var, std                with unbiased / correction (Bessel's by default)
    logsumexp, norm         composed of the above, so their gradients come for free
    any, all                bool results

Each computing reduction is one kernels.reduce call (kernels/reduce.py: deterministic sums,
no atomics) over a view of the input (_arrays.reduce).
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..autograd import Function, composite
from ..errors import InputError, InputTypeError
from ..kernels import map_ops as M
from ..kernels import reduce as K
from . import _arrays as A

MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def normalize_dims(x, dim, op):
    """A sorted tuple of dims in [0, ndim) from None (all), an int, or a sequence."""
    ndim = x.ndim
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    result = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        bound = builtins.max(ndim, 1)
        if not -bound <= d < bound:
            raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                             f"[{-bound}, {bound - 1}], but got {d})")
        d = int(d) % bound
        if d in result:
            raise InputError(f"{op}: dim {d} appears multiple times in the list of dims")
        result.append(d)
    return tuple(sorted(result)) if ndim else ()


def _kept_shape(shape, dims, keepdim):
    if keepdim:
        return tuple(1 if d in dims else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in dims)


class _Reduction(Function):
    """A kernels.reduce op over `dims` of x; result reshaped for keepdim."""
    float_inputs, strided_inputs, saves = False, True, ()
    code = None

    def forward(self, x, dims, keepdim):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        out = A.reduce(self.kernels, self.code, x, dims)
        return A.reshape_contiguous(out, _kept_shape(x.shape, dims, keepdim))

    def expanded(self, g):
        """g (the result's shape) seen with the input's shape: a broadcast view."""
        kept = A.reshape_contiguous(A.contiguous(self.kernels, g),
                                    _kept_shape(self.in_shape, self.dims, True))
        return A.expand(kept, self.in_shape)


class Sum(_Reduction):
    name, code = "sum", K.R_SUM

    def backward(self, g):
        return self.expanded(g)


class Extreme(_Reduction):
    """max/min over dims (values only). The gradient is shared evenly by the elements equal
    to the result, as PyTorch's amax/amin and dim-less max/min."""
    saves, saves_output = (0,), True

    def forward(self, x, dims, keepdim):
        self.x = x
        self.y = super().forward(x, dims, keepdim)
        return self.y

    def backward(self, g):
        k = self.kernels
        hit = A.compare(k, M.C_EQ, self.x, self.expanded(self.y))
        as_float = A.cast(k, hit, np.float32)
        count = A.reduce(k, K.R_SUM, as_float, self.dims)
        share = A.binary(k, M.B_DIV, A.contiguous(k, g),
                         A.reshape_contiguous(count, g.shape))
        return A.binary(k, M.B_MUL, as_float, self.expanded(share))


class Max(Extreme):
    name, code = "max", K.R_MAX


class Min(Extreme):
    name, code = "min", K.R_MIN


class ArgExtreme(_Reduction):
    """int64 indices along one dim (or over everything, flat): no gradient."""


class ArgMax(ArgExtreme):
    name, code = "argmax", K.R_ARGMAX


class ArgMin(ArgExtreme):
    name, code = "argmin", K.R_ARGMIN


class SelectAlong(Function):
    """values of max/min(dim): x at the given indices along `dim`; the gradient goes to those
    positions only (one per output, as PyTorch's max(dim))."""
    float_inputs, strided_inputs, saves = False, True, ()
    name = "max"

    def forward(self, x, values, indices, dim, keepdim):
        self.in_shape, self.dim, self.keepdim, self.indices = x.shape, dim, keepdim, indices
        return values

    def backward(self, g):
        k, dim = self.kernels, self.dim
        kept = _kept_shape(self.in_shape, (dim,), True)
        index = A.reshape_contiguous(A.contiguous(k, self.indices), kept)
        g = A.reshape_contiguous(A.contiguous(k, g), kept)
        positions = A.empty(k, (self.in_shape[dim],), np.int64)
        k.ramp(positions, 0, 1)
        along = A.view(positions, [n if d == dim else 1 for d, n in enumerate(self.in_shape)],
                       [1 if d == dim else 0 for d in range(len(self.in_shape))])
        hit = A.compare(k, M.C_EQ, along, index)
        return A.where(k, hit, g, A.full(k, (1,) * len(self.in_shape), 0.0))


def _reduce(cls, x, dim, keepdim, op):
    return cls.apply(x, dims=normalize_dims(x, dim, op), keepdim=bool(keepdim))


def _check_nonempty(x, dims, op):
    if x.numel() == 0 or builtins.any(x.shape[d] == 0 for d in dims):
        empty = [d for d in dims if x.shape[d] == 0]
        raise IndexError(f"{op}(): Expected reduction dim {empty[0] if empty else 0} to have "
                         f"non-zero size (input shape {tuple(x.shape)})")


def sum(x, dim=None, keepdim=False):  # noqa: A001
    if x.dtype is not dtypes.float32:
        x = x.long()          # bool and integer sums are int64, as PyTorch
    return _reduce(Sum, x, dim, keepdim, "sum")


@composite
def mean(x, dim=None, keepdim=False):
    if not x.dtype.is_floating_point:
        raise InputTypeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {x.dtype.name}")
    dims = normalize_dims(x, dim, "mean")
    count = math.prod(x.shape[d] for d in dims)
    total = Sum.apply(x, dims=dims, keepdim=bool(keepdim))
    return total * (1.0 / count) if count else total * math.nan


def _extreme_all(cls, x, op):
    _check_nonempty(x, range(x.ndim), op)
    return _reduce(cls, _numeric(x), None, False, op).to(x.dtype)


def _numeric(x):
    """x as a dtype the reduce kernels take: float32 or int64."""
    return x if x.dtype in (dtypes.float32, dtypes.int64) else x.long()


def _extreme_dim(cls, arg_cls, result, x, dim, keepdim, op):
    dims = normalize_dims(x, dim, op)
    _check_nonempty(x, dims, op)
    numeric = _numeric(x)
    indices = arg_cls.apply(numeric, dims=dims, keepdim=bool(keepdim))
    values = _reduce(cls, numeric.detach(), dims, keepdim, op).to(x.dtype)
    if x.requires_grad:
        values = SelectAlong.apply(x, values.detach(), indices, dim=dims[0] if dims else 0,
                                   keepdim=bool(keepdim))
    return result(values, indices)


def max(x, dim=None, keepdim=False):  # noqa: A001
    if dim is None:
        return _extreme_all(Max, x, "max")
    return _extreme_dim(Max, ArgMax, MaxResult, x, dim, keepdim, "max")


def min(x, dim=None, keepdim=False):  # noqa: A001
    if dim is None:
        return _extreme_all(Min, x, "min")
    return _extreme_dim(Min, ArgMin, MinResult, x, dim, keepdim, "min")


def amax(x, dim=(), keepdim=False):
    dims = normalize_dims(x, None if dim == () else dim, "amax")
    _check_nonempty(x, dims, "amax")
    return Max.apply(_numeric(x), dims=dims, keepdim=bool(keepdim)).to(x.dtype)


def amin(x, dim=(), keepdim=False):
    dims = normalize_dims(x, None if dim == () else dim, "amin")
    _check_nonempty(x, dims, "amin")
    return Min.apply(_numeric(x), dims=dims, keepdim=bool(keepdim)).to(x.dtype)


def _arg(cls, x, dim, keepdim, op):
    if dim is None:
        _check_nonempty(x, range(x.ndim), op)
        flat = cls.apply(_numeric(x), dims=tuple(range(x.ndim)), keepdim=False)
        return flat.reshape((1,) * x.ndim) if keepdim else flat
    dims = normalize_dims(x, dim, op)
    _check_nonempty(x, dims, op)
    return cls.apply(_numeric(x), dims=dims, keepdim=bool(keepdim))


def argmax(x, dim=None, keepdim=False):
    return _arg(ArgMax, x, dim, keepdim, "argmax")


def argmin(x, dim=None, keepdim=False):
    return _arg(ArgMin, x, dim, keepdim, "argmin")


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    if unbiased is not None and correction is not None:
        raise InputError("var: give either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = normalize_dims(x, dim, "var")
    count = math.prod(x.shape[d] for d in dims)
    centred = x - x.mean(dims, keepdim=True)
    squares = (centred * centred).sum(dims, keepdim=keepdim)
    divisor = builtins.max(count - correction, 0)
    return squares * (1.0 / divisor) if divisor else squares * math.nan


def logsumexp(x, dim, keepdim=False):
    dims = normalize_dims(x, dim, "logsumexp")
    if not x.dtype.is_floating_point:
        x = x.float()
    if x.numel() == 0:
        return x.exp().sum(dims, keepdim=keepdim).log()
    peak = x.amax(dims, keepdim=True).detach()
    peak = peak.masked_fill(peak.isinf(), 0.0)   # all -inf (or +inf) rows: no shift
    total = (x - peak).exp().sum(dims, keepdim=True).log() + peak
    return total if keepdim else total.squeeze(dims) if dims else total


def norm(x, p="fro", dim=None, keepdim=False):
    dims = normalize_dims(x, dim, "norm")
    if not x.dtype.is_floating_point:
        raise InputTypeError(f"norm(): input dtype should be floating point, got {x.dtype.name}")
    if p in ("fro", 2, 2.0):
        return (x * x).sum(dims, keepdim=keepdim).sqrt()
    if p in (math.inf, "inf"):
        return x.abs().amax(dims, keepdim=keepdim)
    if p in (-math.inf, "-inf"):
        return x.abs().amin(dims, keepdim=keepdim)
    if p == 1:
        return x.abs().sum(dims, keepdim=keepdim)
    if p == 0:
        return (x != 0).float().sum(dims, keepdim=keepdim)
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported (use 'fro', a number or inf; "
                         f"for 'nuc' use gpucnn.linalg.matrix_norm(x, 'nuc'))")
    return (x.abs() ** p).sum(dims, keepdim=keepdim) ** (1.0 / p)


def any(x, dim=None, keepdim=False):  # noqa: A001
    truth = x if x.dtype is dtypes.bool else x != 0
    dims = normalize_dims(x, dim, "any")
    return _reduce(Max, truth.long(), dims, keepdim, "any").bool() if x.numel() else \
        truth.long().sum(dims, keepdim=keepdim) > 0


def all(x, dim=None, keepdim=False):  # noqa: A001
    truth = x if x.dtype is dtypes.bool else x != 0
    dims = normalize_dims(x, dim, "all")
    return _reduce(Min, truth.long(), dims, keepdim, "all").bool() if x.numel() else \
        truth.long().sum(dims, keepdim=keepdim) == 0
