"""Shapes and views: reshape, permute, expand, squeeze, slicing; cat, stack, split; copies.

A view shares its input's memory (and version counter) and reads it with its own shape,
strides and offset, as PyTorch's views do: no kernel runs. Each view op is a function of an
array with the input's shape (`make_view`), so its backward can apply the same view to a
zero gradient buffer and write the incoming gradient through it; permute, reshape and expand
have cheaper backwards of their own (the inverse permutation, a reshape, a sum).

    view(x, shape)      strides computed as PyTorch's view; an error where none exist
    reshape(x, shape)   a view where one exists, else a contiguous copy
    unfold(x, d, n, s)  windows of n every s along d as a view (they may overlap); the
                        gradient adds the windows back in rounds that do not overlap
"""
import math

import numpy as np

from .. import dtypes
from ..autograd import Function, is_grad_enabled
from ..backend import backend
from ..errors import InputError
from ..kernels import map_ops as M
from . import _arrays as A


class View(Function):
    """out = make_view(x); the gradient is written through the same view of zeros."""
    name, float_inputs, strided_inputs, saves, is_view = "view", False, True, (), True

    def forward(self, x, make_view, name=None):
        self.in_shape, self.make_view = x.shape, make_view
        return make_view(x)

    def backward(self, g):
        gx = A.full(self.kernels, self.in_shape, 0.0)
        self.kernels.cast(g, self.make_view(gx))
        return gx


class Permute(Function):
    name, float_inputs, strided_inputs, saves, is_view = "permute", False, True, (), True

    def forward(self, x, dims):
        self.dims = dims
        return _permuted(x, dims)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return _permuted(g, inverse)


def _permuted(array, dims):
    strides = A.strides(array)
    return A.view(array, [array.shape[d] for d in dims], [strides[d] for d in dims])


class Reshape(Function):
    """A view with other dims over the same elements in the same order."""
    name, float_inputs, strided_inputs, saves, is_view = "view", False, True, (), True

    def forward(self, x, shape):
        self.in_shape = x.shape
        return _reshaped(x, shape)

    def backward(self, g):
        strides = view_strides(g.shape, A.strides(g), self.in_shape)
        if strides is None:
            g = A.contiguous(self.kernels, g)
            strides = view_strides(g.shape, A.strides(g), self.in_shape)
        return A.view(g, self.in_shape, strides)


def _reshaped(array, shape):
    strides = view_strides(array.shape, A.strides(array), shape)
    return A.view(array, shape, strides)


class Expand(Function):
    name, float_inputs, strided_inputs, saves, is_view = "expand", False, True, (), True

    def forward(self, x, shape):
        self.in_shape = x.shape
        return A.expand(x, shape)

    def backward(self, g):
        return A.sum_to(self.kernels, g, self.in_shape)


class Copy(Function):
    """A C-contiguous copy (contiguous, clone); the gradient passes through."""
    name, float_inputs, strided_inputs, saves = "clone", False, True, ()

    def forward(self, x):
        return self.kernels.cast(x, A.empty(self.kernels, x.shape, x.dtype))

    def backward(self, g):
        return g


class ToDevice(Function):
    """The copy Tensor.to(device) makes: the gradient goes back to the source's device."""
    name, float_inputs, strided_inputs, saves = "to", False, False, ()

    def backward(self, g):
        # backward_pass hands over a C-contiguous g (strided_inputs is False for this op).
        return backend(self.device).from_host(backend("cuda" if self.device == "cpu" else "cpu")
                                               .to_host(g))


def attach_copy(source, moved):
    """`moved` (source's values on another device) joined to source's graph, as Tensor.to."""
    if is_grad_enabled() and source.requires_grad:
        moved.requires_grad = True
        moved._creator = ToDevice(source.device, (source,))
    return moved


# ================================================================ shapes

def view_strides(old_shape, old_strides, new_shape):
    """Strides that read an array of old_shape/old_strides as new_shape in the same element
    order, or None (PyTorch's computeStride): dims are grouped into runs that are contiguous
    with respect to each other, and each new dim must fall within one run."""
    old_shape, new_shape = tuple(old_shape), tuple(new_shape)
    if math.prod(old_shape) == 0 or not old_shape:
        return _c_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel, view_numel = 1, 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel, view_numel = 1, 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def _c_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def infer_shape(op, numel, shape):
    """shape with a -1 resolved; RuntimeError when it does not hold numel elements."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise InputError(f"{op}: only one dimension can be inferred (shape {list(shape)})")
    if any(s < -1 for s in shape):
        raise InputError(f"{op}: invalid shape dimension in {list(shape)}")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or numel % known:
            raise InputError(f"{op}: shape '{list(shape)}' is invalid for input of size "
                               f"{numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if math.prod(shape) != numel:
        raise InputError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view(x, shape):
    shape = infer_shape("view", x.numel(), shape)
    if view_strides(x.shape, x.stride(), shape) is None:
        raise InputError(f"view size is not compatible with input tensor's size and stride "
                           f"(shape {tuple(x.shape)}, strides {x.stride()}, asked for "
                           f"{list(shape)}): at least one dimension spans across two contiguous "
                           f"subspaces. Use .reshape(...) instead.")
    # Always a view op, same shape too: an in-place change of it must reach x (inplace.py).
    return Reshape.apply(x, shape=shape)


def reshape(x, shape):
    shape = infer_shape("reshape", x.numel(), shape)
    if view_strides(x.shape, x.stride(), shape) is None:
        x = contiguous(x)
    return Reshape.apply(x, shape=shape)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = x._dim(start_dim, "flatten"), x._dim(end_dim, "flatten")
    if start > end:
        raise InputError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come "
                           f"after end_dim ({end_dim})")
    shape = tuple(x.shape)
    return reshape(x, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


def permute(x, dims):
    dims = tuple(x._dim(d, "permute") for d in dims) if x.ndim else tuple(dims)
    if sorted(dims) != list(range(x.ndim)):
        raise InputError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}"
                           if len(dims) != x.ndim else
                           f"permute: repeated dim in {list(dims)}")
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    if x.ndim == 0:
        x._dim(dim0, "transpose")
        return x
    order = list(range(x.ndim))
    a, b = x._dim(dim0, "transpose"), x._dim(dim1, "transpose")
    order[a], order[b] = order[b], order[a]
    return Permute.apply(x, dims=tuple(order))


def unsqueeze(x, dim):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"unsqueeze: dim must be an int, got {dim!r}")
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(f"unsqueeze: dimension out of range (expected to be in range of "
                         f"[{-x.ndim - 1}, {x.ndim}], but got {dim})")
    dim = int(dim) % (x.ndim + 1)
    shape = tuple(x.shape)
    return Reshape.apply(x, shape=shape[:dim] + (1,) + shape[dim:])


def squeeze(x, dim=None):
    if dim is None:
        dims = [d for d, n in enumerate(x.shape) if n == 1]
    else:
        dims = [x._dim(d, "squeeze") for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
    shape = tuple(n for d, n in enumerate(x.shape) if not (d in dims and n == 1))
    return Reshape.apply(x, shape=shape)


def expand(x, sizes):
    if len(sizes) < x.ndim:
        raise InputError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    shape = []
    for i, size in enumerate(sizes):
        current = x.shape[i - lead] if i >= lead else None
        if size == -1:
            if current is None:
                raise InputError(f"expand: -1 is not allowed in a leading, non-existing "
                                   f"dimension ({i})")
            size = current
        if current is not None and current != 1 and size != current:
            raise InputError(f"The expanded size of the tensor ({size}) must match the "
                               f"existing size ({current}) at non-singleton dimension {i}.  "
                               f"Target sizes: {list(sizes)}.  Tensor sizes: {list(x.shape)}")
        if size < 0:
            raise InputError(f"expand: invalid size {size} in {list(sizes)}")
        shape.append(int(size))
    return Expand.apply(x, shape=tuple(shape))


def repeat(x, sizes):
    """x tiled sizes[i] times along each dim (new leading dims for extra sizes): always a new
    tensor, as torch's (repeat(1, 1) too, where the tiling alone would be a view)."""
    if len(sizes) < x.ndim:
        raise InputError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller "
                           f"than number of dimensions of tensor ({x.ndim})")
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    if any(r < 0 for r in sizes):
        result = [r * n for r, n in zip(sizes, shape)]
        raise InputError(f"repeat: Trying to create tensor with negative dimension "
                         f"{min(result)}: {result} (repeats {list(sizes)} of a tensor of "
                         f"shape {list(x.shape)})")
    interleaved = []
    for n in shape:
        interleaved += [1, n]
    tiled = []
    for r, n in zip(sizes, shape):
        tiled += [r, n]
    grown = x.reshape(interleaved).expand(tiled)
    tiles = grown.reshape([r * n for r, n in zip(sizes, shape)])
    return Copy.apply(tiles) if tiles._version is x._version else tiles


def contiguous(x):
    return x if x.is_contiguous() else Copy.apply(x)


def clone(x):
    return Copy.apply(x)


# ================================================================ pieces of one tensor

def slice_view(dim, start, stop, step=1):
    """make_view for x[..., start:stop:step, ...] along dim (already clamped)."""
    def make_view(array):
        strides = list(A.strides(array))
        shape = list(array.shape)
        length = max(0, -(-(stop - start) // step))
        offset = start * strides[dim] if length else 0
        shape[dim], strides[dim] = length, strides[dim] * step
        return A.view(array, shape, strides, offset)
    return make_view


def select_view(dim, index):
    """make_view for x[..., index, ...] along dim (the dim removed)."""
    def make_view(array):
        strides = list(A.strides(array))
        offset = index * strides[dim]
        shape = list(array.shape)
        del shape[dim], strides[dim]
        return A.view(array, shape, strides, offset)
    return make_view


def narrow(x, dim, start, length):
    dim = x._dim(dim, "narrow")
    size = x.shape[dim]
    start = int(start) + (size if start < 0 else 0)
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                         f"({size}) of shape {tuple(x.shape)}")
    return View.apply(x, make_view=slice_view(dim, start, start + int(length)))


def select(x, dim, index):
    size = x.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")
    return View.apply(x, make_view=select_view(dim, int(index) % size))


def windows_view(dim, size, step, count):
    """make_view for x.unfold(dim, size, step): `count` windows of `size` elements every
    `step` along dim, each window a new last dim (torch's strides: step * s, then s)."""
    def make_view(array):
        strides, shape = list(A.strides(array)), list(array.shape)
        along = strides[dim]
        shape[dim], strides[dim] = count, along * step
        shape, strides = shape + [size], strides + [along]
        return A.view(array, shape, strides)
    return make_view


class Unfold(Function):
    """x.unfold(dim, size, step): a view. Windows overlap when step < size, so the gradient
    adds g into zeros in ceil(size / step) rounds, each round a set of windows far enough
    apart (rounds * step >= size) that no element is written twice within one kernel call."""
    name, float_inputs, strided_inputs, saves, is_view = "unfold", False, True, (), True

    def forward(self, x, dim, size, step):
        count = (x.shape[dim] - size) // step + 1
        self.in_shape, self.dim, self.size, self.step, self.count = x.shape, dim, size, step, count
        return windows_view(dim, size, step, count)(x)

    def backward(self, g):
        gx = A.full(self.kernels, self.in_shape, 0.0)
        if not g.size:
            return gx
        rounds = min(self.count, -(-self.size // self.step))
        for first in range(rounds):
            picked = len(range(first, self.count, rounds))
            start = first * self.step
            target = windows_view(self.dim, self.size, self.step * rounds, picked)(
                slice_view(self.dim, start, self.in_shape[self.dim])(gx))
            source = slice_view(self.dim, first, self.count, rounds)(g)
            self.kernels.binary(M.B_ADD, target, source, target)
        return gx


def unfold(x, dimension, size, step):
    """Tensor.unfold: torch's checks and errors, then the Unfold view."""
    for name, value in (("dimension", dimension), ("size", size), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"unfold(): argument '{name}' must be int, not "
                            f"{type(value).__name__}")
    dim = x._dim(dimension, "unfold")
    length = x.shape[dim] if x.ndim else 1
    if size > length:
        raise InputError(f"unfold: maximum size for tensor at dimension {dim} is {length} but "
                         f"size is {size} (shape {list(x.shape)})")
    if size < 0:
        raise InputError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise InputError(f"unfold: step is {step} but must be > 0")
    if not x.ndim:   # a 0-dim tensor unfolds to its one element (size 1) or nothing (size 0)
        return narrow(reshape(x, (1,)), 0, 0, int(size))
    return Unfold.apply(x, dim=dim, size=int(size), step=int(step))


def split(x, split_size_or_sections, dim=0):
    dim = x._dim(dim, "split")
    size = x.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != size or any(s < 0 for s in sections):
            raise InputError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {dim}), but got split_sizes="
                               f"{sections}")
    else:
        step = int(split_size_or_sections)
        if step <= 0:
            raise InputError(f"split: split_size must be positive, got {step}")
        sections = [min(step, size - s) for s in range(0, size, step)] or [0]
    pieces, start = [], 0
    for length in sections:
        pieces.append(narrow(x, dim, start, length))
        start += length
    return multiple_views(pieces, "SplitWithSizes" if isinstance(split_size_or_sections,
                                                                 (list, tuple)) else "Split")


def multiple_views(views, function):
    """The views of one call that returns several (split, chunk, unbind), marked: PyTorch
    refuses to change them in place inside autograd (Tensor._inplace_records)."""
    for i, view in enumerate(views):
        view._multi_view = (i, function)
    return tuple(views)


def chunk(x, chunks, dim=0):
    if chunks <= 0:
        raise InputError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = x.shape[x._dim(dim, "chunk")]
    return split(x, max(1, -(-size // chunks)), dim)


# ================================================================ joining tensors

class Cat(Function):
    """The inputs side by side along `dim`; each input's gradient is its slice of g."""
    name, float_inputs, strided_inputs, saves = "cat", False, True, ()

    def forward(self, *arrays, dim, dtype):
        shape = list(arrays[0].shape)
        shape[dim] = sum(a.shape[dim] for a in arrays)
        out = A.empty(self.kernels, shape, dtype.numpy)
        self.pieces, start = [], 0
        for a in arrays:
            piece = slice_view(dim, start, start + a.shape[dim])
            self.kernels.cast(a, piece(out))
            self.pieces.append(piece)
            start += a.shape[dim]
        return out

    def backward(self, g):
        return tuple(piece(g) for piece in self.pieces)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise InputError("cat(): expected a non-empty list of Tensors")
    joined = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    first = joined[0]
    dim = first._dim(dim, "cat")
    for i, t in enumerate(joined):
        if t.ndim != first.ndim:
            raise InputError(f"cat: Tensors must have same number of dimensions: got "
                               f"{first.ndim} and {t.ndim} (tensor {i}: {tuple(t.shape)})")
        for d in range(first.ndim):
            if d != dim and t.shape[d] != first.shape[d]:
                raise InputError(f"cat: Sizes of tensors must match except in dimension "
                                   f"{dim}. Expected size {first.shape[d]} but got size "
                                   f"{t.shape[d]} for tensor number {i} in the list.")
    dtype = dtypes.result_type(*[_as_dimensioned(t) for t in joined])
    return Cat.apply(*joined, dim=dim, dtype=dtype)


class _Dimensioned:
    """A tensor's dtype counted as a dimensioned operand (cat promotes all inputs alike)."""

    def __init__(self, tensor):
        self.dtype, self.ndim = tensor.dtype, 1


def _as_dimensioned(t):
    return _Dimensioned(t)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise InputError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise InputError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    if not -tensors[0].ndim - 1 <= dim <= tensors[0].ndim:
        raise IndexError(f"stack: dimension out of range (expected to be in range of "
                         f"[{-tensors[0].ndim - 1}, {tensors[0].ndim}], but got {dim})")
    return cat([unsqueeze(t, dim) for t in tensors], dim)

