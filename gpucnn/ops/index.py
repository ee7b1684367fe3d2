"""Indexing: x[key] and x[key] = value, by NumPy's and PyTorch's rules.

Basic indexing (ints, slices with positive steps, None, ...) is a view (ops/shape.py's View):
no copy, and the gradient is written back through the same view. Advanced indexing (integer
tensors, lists, bool masks) copies, through the index kernels (kernels/index.py):

1. Ellipsis is expanded; a bool mask becomes one integer index per dim it covers (its
   nonzero positions); with any advanced index present, ints count as advanced too (0-dim
   indices), as in NumPy.
2. Slices and None make a view `v` of x in which every advanced dim is still whole.
3. The advanced indices are checked against their dims' sizes (IndexError, before the gather
   runs), wrapped if negative, broadcast together to a shape B, and turned into element
   offsets into v's memory: offset[b] = sum_k index_k[b] * stride_k.
4. gather reads, at each offset, the pattern of v's other ("rest") dims. The result is
   B + rest, with B moved to where the advanced dims were when they were adjacent (NumPy's
   placement rule).
The gradient scatters g back into zeros shaped like v, adding where an index repeats
(deterministically: kernels/index.py sorts the offsets). __setitem__ with an advanced index
scatters the value the same way, the last write winning where an index repeats.
"""
import math

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..errors import InputError
from ..kernels import _views
from ..kernels import map_ops as M
from ..kernels import reduce as K
from . import _arrays as A
from .shape import View

MAX_REST_DIMS = 4


def _is_tensor(k) -> bool:
    return hasattr(k, "_array")


def _expand_ellipsis(ndim, items):
    consumed = 0
    for k in items:
        if k is None or k is Ellipsis:
            continue
        consumed += k.ndim if _is_tensor(k) and k.dtype is dtypes.bool else 1
    if sum(k is Ellipsis for k in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    if Ellipsis in [k for k in items if not _is_tensor(k)]:
        at = next(i for i, k in enumerate(items) if k is Ellipsis and not _is_tensor(k))
        return items[:at] + (slice(None),) * (ndim - consumed) + items[at + 1:]
    return items + (slice(None),) * (ndim - consumed)


def _check_item(k):
    if isinstance(k, bool):
        raise IndexError("indexing with a Python bool is not supported; use a bool tensor mask")
    if k is None or k is Ellipsis or isinstance(k, slice) or _is_tensor(k):
        return k
    if isinstance(k, (int, np.integer)):
        return int(k)
    raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or bool "
                     f"tensors are valid indices (got {type(k).__name__})")


# ================================================================ basic indexing: a view

def basic_view(items, shape):
    """make_view for items of int / slice / None (one per consumed dim), checked now."""
    plan, d = [], 0
    for k in items:
        if k is None:
            plan.append(("new", None, 0, 0, 0))
            continue
        size = shape[d]
        if isinstance(k, slice):
            step = 1 if k.step is None else int(k.step)
            if step <= 0:
                raise ValueError("step must be greater than zero (negative steps are not "
                                 "supported, as in PyTorch; use flip)")
            start, stop, _ = k.indices(size)
            plan.append(("slice", d, start, max(stop, start), step))
        else:
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {d} with size {size}")
            plan.append(("int", d, k % size, 0, 0))
        d += 1
    first_rest = d

    def make_view(array):
        strides = A.strides(array)
        new_shape, new_strides, offset = [], [], 0
        for kind, dim, start, stop, step in plan:
            if kind == "new":
                new_shape.append(1)
                new_strides.append(0)
            elif kind == "slice":
                length = max(0, -(-(stop - start) // step))
                new_shape.append(length)
                new_strides.append(strides[dim] * step)
                offset += start * strides[dim] if length else 0
            else:
                offset += start * strides[dim]
        new_shape += list(array.shape[first_rest:])
        new_strides += list(strides[first_rest:])
        if 0 in new_shape:
            offset = 0
        return A.view(array, new_shape, new_strides, offset)
    return make_view


# ================================================================ advanced indexing

def _split(x, items):
    """(basic items for the view, [(view dim, index tensor)]) with masks and ints turned into
    integer index tensors (ints only when advanced indices are present)."""
    advanced = any(_is_tensor(k) for k in items)
    basic, indices, view_dim, x_dim = [], [], 0, 0
    for k in items:
        if k is None:
            basic.append(None)
            view_dim += 1
        elif _is_tensor(k) and k.dtype is dtypes.bool:
            covered = tuple(x.shape[x_dim:x_dim + k.ndim])
            if tuple(k.shape) != covered:
                raise IndexError(f"The shape of the mask {list(k.shape)} at index {x_dim} does "
                                 f"not match the shape of the indexed tensor {list(covered)} at "
                                 f"index {x_dim}")
            for coordinate in nonzero(k, as_tuple=True):
                basic.append(slice(None))
                indices.append((view_dim, coordinate, True))   # in range by construction
                view_dim += 1
            x_dim += k.ndim
        elif _is_tensor(k) or (advanced and isinstance(k, int)):
            if _is_tensor(k) and k.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            basic.append(slice(None))
            indices.append((view_dim, k if _is_tensor(k) else int(k), False))
            view_dim += 1
            x_dim += 1
        else:
            basic.append(k)
            view_dim += 0 if isinstance(k, int) else 1
            x_dim += 1
    return basic, indices


def _checked_indices(kernels, view_shape, indices, device_tensor):
    """The index arrays, int64, wrapped where negative, bounds-checked (IndexError), and
    broadcast to one shape B."""
    arrays = []
    for dim, index, trusted in indices:
        size = view_shape[dim]
        if isinstance(index, int):
            if not -size <= index < size:
                raise IndexError(f"index {index} is out of bounds for dimension {dim} with size "
                                 f"{size}")
            arrays.append(A.full(kernels, (), index % size, np.int64))
            continue
        array = A.cast(kernels, index._array, np.int64)
        if array.size and not trusted:
            low, high = (int(device_tensor._like(A.reduce(kernels, code, array,
                                                          range(len(array.shape)))).item())
                         for code in (K.R_MIN, K.R_MAX))
            bad = low if low < -size else high if high >= size else None
            if bad is not None:
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size "
                                 f"{size}")
            if low < 0:
                negative = A.compare(kernels, M.C_LT, array, A.full(kernels, (), 0, np.int64))
                array = A.where(kernels, negative, A.unary(kernels, M.U_ADD, array, size), array)
        arrays.append(array)
    shape = A.broadcast_shapes("index", *(a.shape for a in arrays))
    return [A.expand(a, shape) for a in arrays], shape


def _offsets(kernels, arrays, dims, strides):
    """sum_k arrays[k] * strides[dims[k]]: element offsets, a C-contiguous int64 array."""
    total = None
    for array, dim in zip(arrays, dims):
        term = A.unary(kernels, M.U_MUL, A.contiguous(kernels, array), strides[dim])
        total = term if total is None else A.add(kernels, total, term)
    return A.contiguous(kernels, total)


def _block_to_front(array, start, size):
    """A view of `array` with dims [start, start + size) moved first, the rest in order."""
    ndim = len(array.shape)
    return A.permuted(array, list(range(start, start + size)) + list(range(start))
                      + list(range(start + size, ndim)))


class Geometry:
    """Where an advanced index reads in an array `v` (the view after slices and None)."""

    def __init__(self, kernels, v_shape, indices, device_tensor):
        self.dims = [dim for dim, _, _ in indices]
        self.arrays, self.batch = _checked_indices(kernels, v_shape, indices, device_tensor)
        self.rest = [d for d in range(len(v_shape)) if d not in self.dims]
        self.rest_shape = tuple(v_shape[d] for d in self.rest)
        adjacent = self.dims == list(range(self.dims[0], self.dims[-1] + 1))
        # NumPy's placement: the indexed dims' result goes where they were when adjacent,
        # else first.
        self.lead = sum(1 for d in self.rest if d < self.dims[0]) if adjacent else 0

    @property
    def result_shape(self):
        r = self.rest_shape
        return r[:self.lead] + self.batch + r[self.lead:]

    def to_batch_first(self, array):
        """A result-shaped array seen as batch + rest (a permutation view)."""
        return _block_to_front(array, self.lead, len(self.batch))

    def from_batch_first(self, array):
        return _block_to_front(array, len(self.batch), self.lead)

    def storage(self, kernels, v):
        """(1-D view over v's memory, offsets, rest shape, rest strides) for the kernels;
        v must have at most MAX_REST_DIMS rest dims after coalescing (else pass a copy)."""
        strides = A.strides(v)
        offsets = _offsets(kernels, self.arrays, self.dims, strides)
        rest_shape, (rest_strides,) = _views.coalesce(self.rest_shape,
                                                      tuple(strides[d] for d in self.rest))
        extent = 1 + sum((n - 1) * s for n, s in zip(v.shape, strides)) if v.size else 1
        flat = A.view(v, (extent,), (1,)) if v.size else A.empty(kernels, (1,), v.dtype)
        return flat, A.reshape_contiguous(offsets, (offsets.size,)), rest_shape, rest_strides

    def fits(self, v) -> bool:
        shape, _ = _views.coalesce(self.rest_shape, tuple(A.strides(v)[d] for d in self.rest))
        return len(shape) <= MAX_REST_DIMS


def _gather(kernels, v, geometry):
    """v[indices]: a new array of geometry.result_shape."""
    if not geometry.fits(v):
        v = A.contiguous(kernels, v)
    flat, offsets, rest_shape, rest_strides = geometry.storage(kernels, v)
    out = A.empty(kernels, (offsets.size,) + tuple(rest_shape), v.dtype)
    if offsets.size and math.prod(rest_shape):
        kernels.gather(flat, offsets, rest_shape, rest_strides, out)
    batch_first = A.reshape_contiguous(out, geometry.batch + geometry.rest_shape)
    return geometry.from_batch_first(batch_first)


def _scatter(kernels, target, geometry, values, what):
    """target[indices] = values (an array broadcast to geometry.result_shape), in target's
    memory, the last write winning where an index repeats."""
    rows = A.contiguous(kernels, geometry.to_batch_first(values))
    rows = A.cast(kernels, rows, target.dtype)
    if not geometry.fits(target):
        raise IndexError(f"__setitem__: this index leaves more than {MAX_REST_DIMS} "
                         f"non-contiguous dims in the indexed tensor ({what}); assign into "
                         f"x.contiguous() instead")
    flat, offsets, rest_shape, rest_strides = geometry.storage(kernels, target)
    if offsets.size and math.prod(rest_shape):
        rows = A.reshape_contiguous(A.contiguous(kernels, rows),
                                    (offsets.size,) + tuple(rest_shape))
        kernels.scatter(flat, offsets, rest_shape, rest_strides, rows, False)


class Gather(Function):
    """v[indices] for a view v; the gradient scatters back, adding at repeated indices."""
    name, float_inputs, strided_inputs, saves = "index", False, True, ()

    def forward(self, v, geometry):
        self.geometry, self.v_shape = geometry, v.shape
        return _gather(self.kernels, v, geometry)

    def backward(self, g):
        k, geometry = self.kernels, self.geometry
        rows = A.contiguous(k, geometry.to_batch_first(g))
        gv = A.full(k, self.v_shape, 0.0)
        flat, offsets, rest_shape, rest_strides = geometry.storage(k, gv)
        if offsets.size and math.prod(rest_shape):
            rows = A.reshape_contiguous(rows, (offsets.size,) + tuple(rest_shape))
            k.scatter(flat, offsets, rest_shape, rest_strides, rows, True)
        return gv


def getitem(x, key):
    items = _expand_ellipsis(x.ndim, tuple(_check_item(k) for k in key))
    if not any(_is_tensor(k) for k in items):
        return View.apply(x, make_view=basic_view(items, x.shape))
    basic, indices = _split(x, items)
    v = View.apply(x, make_view=basic_view(basic, x.shape))
    geometry = Geometry(x._kernels, v.shape, indices, x)
    return Gather.apply(v, geometry=geometry)


def is_advanced(key) -> bool:
    """Whether x[key] gathers (index tensors or masks in key) rather than being a view."""
    return any(_is_tensor(k) for k in key)


def setitem(x, key, value):
    """x[key] = value (a tensor on x's device), written into x's memory; no autograd (inside
    it, gpucnn/inplace.py writes basic keys through a view and advanced ones by index_put)."""
    kernels = x._kernels
    items = _expand_ellipsis(x.ndim, tuple(_check_item(k) for k in key))
    advanced = any(_is_tensor(k) for k in items)
    basic, indices = _split(x, items) if advanced else (items, [])
    target = basic_view(basic, x.shape)(x._array)
    if not advanced:
        source = _broadcast_value(kernels, value._array, target.shape)
        if A.overlaps(source, target):
            source = A.contiguous(kernels, kernels.cast(source, A.empty(kernels, source.shape,
                                                                        source.dtype)))
        kernels.cast(source, target)
        return
    geometry = Geometry(kernels, target.shape, indices, x)
    values = _broadcast_value(kernels, value._array, geometry.result_shape)
    _scatter(kernels, target, geometry, values,
             f"shape {tuple(x.shape)}, strides {x.stride()}")


class IndexPut(Function):
    """x with x[key] = value for an advanced key, as a new tensor (what `x[mask] = v` records
    inside autograd, torch's index_put): the gradient of x is g with the written positions
    zeroed, value's is g at those positions, summed to value's shape."""
    name, float_inputs, strided_inputs, saves = "index_put", False, True, ()

    def forward(self, x, value, *, make_view, geometry):
        k = self.kernels
        self.make_view, self.geometry, self.value_shape = make_view, geometry, value.shape
        out = k.cast(x, A.empty(k, x.shape, x.dtype))
        target = make_view(out)
        _scatter(k, target, geometry, _broadcast_value(k, value, geometry.result_shape),
                 f"shape {tuple(x.shape)}")
        return out

    def backward(self, g):
        k, geometry = self.kernels, self.geometry
        g_x = g_value = None
        if self.needs_grad[0]:
            g_x = k.cast(g, A.empty(k, g.shape))
            zeros = A.expand(A.full(k, (), 0.0), geometry.result_shape)
            _scatter(k, self.make_view(g_x), geometry, zeros, f"shape {tuple(g.shape)}")
        if self.needs_grad[1]:
            picked = _gather(k, self.make_view(g), geometry)
            shape = _stripped(self.value_shape, len(geometry.result_shape))
            g_value = A.reshape_contiguous(A.contiguous(k, A.sum_to(k, picked, shape)),
                                           self.value_shape)
        return g_x, g_value


def index_put(x, key, value):
    """x with x[key] = value (key advanced: index tensors or masks), a new tensor."""
    items = _expand_ellipsis(x.ndim, tuple(_check_item(k) for k in key))
    basic, indices = _split(x, items)
    make_view = basic_view(basic, x.shape)
    geometry = Geometry(x._kernels, make_view(x._array).shape, indices, x)
    return IndexPut.apply(x, value, make_view=make_view, geometry=geometry)


def _stripped(shape, ndim):
    """shape without the leading size-1 dims beyond ndim (a value of shape (1, n) written to
    n elements)."""
    shape = tuple(shape)
    while len(shape) > ndim and shape[0] == 1:
        shape = shape[1:]
    return shape


def _broadcast_value(kernels, array, shape):
    """The value array seen as `shape` (leading size-1 dims dropped, then broadcast)."""
    original = tuple(array.shape)
    stripped = _stripped(original, len(shape))
    if stripped != original:
        array = A.reshape_contiguous(A.contiguous(kernels, array), stripped)
    if A.broadcast_shapes("__setitem__", array.shape, shape) != tuple(shape):
        raise InputError(f"shape mismatch: value tensor of shape {list(original)} cannot "
                           f"be broadcast to indexing result of shape {list(shape)}")
    return A.expand(array, shape)


def nonzero(x, as_tuple=False):
    """The coordinates of x's nonzero elements: (count, ndim) int64, or a tuple of ndim 1-D
    tensors with as_tuple (what a bool mask index uses)."""
    kernels = x._kernels
    if x.dtype is dtypes.bool:
        truth = x._array
    else:
        values = A.cast(kernels, x._array, np.int64) if x.dtype is dtypes.int32 else x._array
        truth = A.compare(kernels, M.C_NE, values, A.full(kernels, (), 0, values.dtype))
    flat = A.reshape_contiguous(A.contiguous(kernels, truth), (x.numel(),))
    positions = kernels.nonzero(flat)
    coordinates, step = [], 1
    for size in reversed(x.shape):
        along = A.unary(kernels, M.U_FLOORDIV, positions, step) if step != 1 else positions
        coordinates.append(A.unary(kernels, M.U_REMAINDER, along, size) if size else along)
        step *= size
    coordinates.reverse()
    if as_tuple:
        return tuple(x._like(c) for c in coordinates) if x.ndim else (x._like(positions),)
    if not coordinates:
        return x._like(A.empty(kernels, (positions.size, 0), np.int64))
    out = A.empty(kernels, (positions.size, len(coordinates)), np.int64)
    for d, c in enumerate(coordinates):
        kernels.cast(c, A.view(out, (positions.size,), (len(coordinates),), d))
    return x._like(out)
