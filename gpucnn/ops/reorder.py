"""Copies in a new order: flip and roll, with gradients.

gpucnn has no negative strides (kernels/_views.py), so neither is a view; PyTorch's are copies
too. Both are built from existing kernels:

    flip(x, dims)           one gather (kernels/index.py) at offsets from index ramps, reversed
                            along the flipped dims; flipping is its own inverse, so the
                            gradient is the same gather of g (no scatter)
    roll(x, shifts, dims)   per rolled dim, a cat of the two slices that trade places
"""
import numpy as np

from ..errors import InputError
from . import _arrays as A
from .index import Gather, Geometry
from .reduce import normalize_dims
from .shape import cat, clone, narrow


class Flip(Gather):
    """x's elements with the order of `dims` reversed (a Gather whose geometry reads every
    flipped dim backwards); the gradient is g flipped the same way."""
    name = "flip"

    def backward(self, g):
        return Gather.forward(self, g, self.geometry)


def _ramp(x, n, reverse, at, ndim):
    """0 .. n-1 (or n-1 .. 0) as int64 on x's device, shaped to broadcast along dim `at` of
    `ndim` dims: one index array of the gather."""
    kernels = x._kernels
    ramp = A.empty(kernels, (n,), np.int64)
    kernels.ramp(ramp, n - 1 if reverse else 0, -1 if reverse else 1)
    shape = [1] * ndim
    shape[at] = n
    return x._like(A.reshape_contiguous(ramp, shape))


def flip(x, dims):
    """x with the dims in `dims` reversed: a C-contiguous copy. Every dim up to the last flipped
    one is indexed (the others by an identity ramp), so the gather's rows are the contiguous
    trailing dims and the result needs no permutation."""
    dims = normalize_dims(x, tuple(dims), "flip")
    if not dims or not x.numel():
        return clone(x)
    indexed = dims[-1] + 1
    indices = [(d, _ramp(x, x.shape[d], d in dims, d, indexed), True) for d in range(indexed)]
    return Flip.apply(x, geometry=Geometry(x._kernels, x.shape, indices, x))


def roll(x, shifts, dims):
    """x with its elements moved `shifts[i]` places along `dims[i]` (wrapping around), or along
    the flattened tensor when dims is empty: a copy, as torch.roll."""
    if not shifts:
        raise InputError("roll: `shifts` required")
    if not dims:
        if len(shifts) != 1:
            raise InputError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                             f"dims:{len(dims)}")
        return roll(x.flatten(), shifts, (0,)).reshape(x.shape)
    if len(shifts) != len(dims):
        raise InputError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                         f"dims:{len(dims)}")
    if not x.ndim:
        raise IndexError(f"roll: Dimension specified as {dims[0]} but tensor has no dimensions")
    rolled = x
    for shift, dim in zip(shifts, dims):
        dim = x._dim(dim, "roll")
        size = x.shape[dim]
        moved = shift % size if size else 0
        if moved:
            rolled = cat([narrow(rolled, dim, size - moved, moved),
                          narrow(rolled, dim, 0, size - moved)], dim)
    return clone(x) if rolled is x else rolled
