"""Array-level helpers the ops share: views, broadcasting, elementwise calls, reductions, casts.

Ops compute on raw arrays (NumPy on "cpu", numba device arrays on "cuda") through their
device's kernel table; these helpers keep forward and backward code to one line per step:

    empty(kernels, shape, dtype)         an uninitialised array on the kernels' device
    view(array, shape, strides, offset)  a view of array's memory (strides in elements)
    strides(array)                       its strides in elements
    expand(array, shape)                 a broadcast view (zero strides), no copy
    broadcast_shapes(op, *shapes)        NumPy's and PyTorch's broadcasting rule
    contiguous(kernels, array)           array itself when C-contiguous, else a copy
    cast(kernels, array, dtype)          array itself when of dtype, else a converted copy
    unary(kernels, op, x, p, q)          a map_ops unary op into a new contiguous array
    binary(kernels, op, a, b, p, q)      a map_ops binary op, a and b broadcast
    add(kernels, a, b)                   a + b (gradient accumulation)
    compare(kernels, code, a, b)         a OP b as bool, broadcast
    where(kernels, cond, a, b)           a where cond else b, broadcast
    full(kernels, shape, value, dtype)   a new array filled with value
    reduce(kernels, op, x, dims)         a reduce op over dims (removed from the shape)
    sum_to(kernels, g, shape)            g summed over the dims broadcasting added or
                                         stretched: the gradient of a broadcast input
"""
import numpy as np

from ..backend import backend
from ..errors import InputError
from ..kernels import _checks, _views, map_ops
from ..kernels import reduce as reduce_kernels


def empty(kernels, shape, dtype=np.float32):
    return backend(kernels.device).empty(tuple(shape), np.dtype(dtype))


def strides(array) -> tuple:
    return _views.element_strides(array)


def view(array, shape, strides_, offset=0):
    return _views.as_strided(array, shape, strides_, offset)


def permuted(array, order):
    """A view of `array` with its dims in `order` (no copy)."""
    strides_ = strides(array)
    return view(array, [array.shape[d] for d in order], [strides_[d] for d in order])


def broadcast_shapes(op: str, *shapes) -> tuple:
    ndim = max(len(s) for s in shapes)
    result = []
    for i in range(ndim):
        sizes = {s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            raise InputError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} do "
                             f"not broadcast (dimension {i} of the result: sizes "
                             f"{sorted(sizes)})")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def expand(array, shape):
    """`array` seen as `shape` by broadcasting: new leading dims and stretched size-1 dims read
    with stride 0. The array itself when the shape already matches."""
    shape = tuple(shape)
    if tuple(array.shape) == shape:
        return array
    lead = len(shape) - len(array.shape)
    old = strides(array)
    new_strides = [0] * lead + [0 if n == 1 and m != 1 else s
                                for n, m, s in zip(array.shape, shape[lead:], old)]
    return view(array, shape, new_strides)


def _extent(array):
    """[first byte, last byte + 1) of the memory an array's elements occupy."""
    start = _views.data_pointer(array)
    span = sum((n - 1) * s for n, s in zip(array.shape, array.strides)) if array.size else 0
    return start, start + span + np.dtype(array.dtype).itemsize


def overlaps(a, b) -> bool:
    """True when a and b may share memory (their byte ranges meet): a copy must read its
    source before writing."""
    if type(a) is not type(b) or not a.size or not b.size:
        return False
    (a0, a1), (b0, b1) = _extent(a), _extent(b)
    return a0 < b1 and b0 < a1


def is_contiguous(array) -> bool:
    return _checks.is_c_contiguous(array)


def contiguous(kernels, array):
    if is_contiguous(array):
        return array
    out = empty(kernels, array.shape, array.dtype)
    return kernels.cast(array, out)


def cast(kernels, array, dtype):
    dtype = np.dtype(dtype)
    if np.dtype(array.dtype) == dtype:
        return array
    return kernels.cast(array, empty(kernels, array.shape, dtype))


def unary(kernels, op, x, p=0, q=0):
    return kernels.unary(op, x, empty(kernels, x.shape, x.dtype), p, q)


def binary(kernels, op, a, b, p=0, q=0):
    shape = broadcast_shapes("binary op", a.shape, b.shape)
    out = empty(kernels, shape, a.dtype)
    return kernels.binary(op, expand(a, shape), expand(b, shape), out, p, q)


def add(kernels, a, b):
    return binary(kernels, map_ops.B_ADD, a, b)


def compare(kernels, code, a, b):
    shape = broadcast_shapes("compare", a.shape, b.shape)
    out = empty(kernels, shape, np.bool_)
    return kernels.compare(code, expand(a, shape), expand(b, shape), out)


def where(kernels, cond, a, b):
    shape = broadcast_shapes("where", cond.shape, a.shape, b.shape)
    out = empty(kernels, shape, a.dtype)
    return kernels.where(expand(cond, shape), expand(a, shape), expand(b, shape), out)


def full(kernels, shape, value, dtype=np.float32):
    out = empty(kernels, shape, dtype)
    return kernels.unary(map_ops.U_FILL, out, out, value)


def _group(shape, strides_, dims):
    """The dims of `dims`, coalesced, as (shape, strides) of at most 2 dims, or None."""
    group_shape, (group_strides,) = _views.coalesce(tuple(shape[d] for d in dims),
                                                    tuple(strides_[d] for d in dims))
    if len(group_shape) > 2:
        return None
    pad = 2 - len(group_shape)
    return (1,) * pad + group_shape, (0,) * pad + group_strides


def reduce(kernels, op, x, dims):
    """x reduced by `op` (kernels.reduce's R_*) over the dims in `dims`: an array of x's shape
    without them, C-contiguous. The reduction reads x in place when the kept dims and the
    reduced dims each coalesce to at most two; otherwise from a contiguous copy with the
    reduced dims moved last."""
    dims = sorted(set(dims))
    kept = [d for d in range(len(x.shape)) if d not in dims]
    out_shape = tuple(x.shape[d] for d in kept)
    x_strides = strides(x)
    kept_group, reduced_group = _group(x.shape, x_strides, kept), _group(x.shape, x_strides, dims)
    if kept_group is None or reduced_group is None:
        copy = contiguous(kernels, permuted(x, kept + dims))
        n_kept = int(np.prod(out_shape, dtype=np.int64))
        n_reduced = int(np.prod([x.shape[d] for d in dims], dtype=np.int64))
        x4 = view(copy, (1, n_kept, 1, n_reduced), (0, n_reduced, 0, 1))
    else:
        x4 = view(x, kept_group[0] + reduced_group[0], kept_group[1] + reduced_group[1])
    out = kernels.reduce(op, x4)
    return reshape_contiguous(out, out_shape)


def reshape_contiguous(array, shape):
    """A C-contiguous array seen with another shape of the same size (a view)."""
    shape = tuple(int(s) for s in shape)
    c_strides, step = [], 1
    for n in reversed(shape):
        c_strides.append(step)
        step *= max(n, 1)
    return view(array, shape, tuple(reversed(c_strides)))


def sum_to(kernels, g, shape):
    """g (the shape of a broadcast result) summed down to `shape`, the input's shape."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = len(g.shape) - len(shape)
    dims = list(range(lead)) + [lead + i for i, n in enumerate(shape)
                                if n == 1 and g.shape[lead + i] != 1]
    summed = reduce(kernels, reduce_kernels.R_SUM, g, dims)
    return reshape_contiguous(summed, shape)
