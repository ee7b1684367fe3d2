"""In-place ops inside autograd, by PyTorch's rules: the tensor takes a new history.

`y.mul_(3)` on a tensor in the graph computes `y * 3` (a node whose input is y as it was),
writes the values into y's memory, bumps y's version counter, and makes that node y's
creator: torch's rebase of history. Nodes that read y before keep their edge to the old
version (autograd.py's vertices are (tensor, creator) pairs), and a node that saved y's old
values for its backward finds the counter changed and raises torch's error. While the new
values are computed, a node that would save y itself as its operand saves a copy
(autograd.overwriting), as torch's in-place ops save their "original self". `y[mask] = v`
(an advanced key) is the same with index_put (ops/index.py) as the op.

An in-place op on a view (`y[:, 0].mul_(3)`, `y[0] = v`, `y[0][mask] = v`, `y.t().add_(1)`)
changes its base: the base's new creator is a `CopySlices` node over (base as it was, the
view's new values), whose backward hands the base's old version the gradient with the view's
elements zeroed and the new values the view's elements; the view becomes a view of the base's
new version. Other views of that base made before take the base's new history when next used
(`replay_view`: their chain of view ops is applied again to the base), as torch regenerates
a view's grad_fn. Ops that replace every value (copy_, fill_, zero_, the random fills,
`x.copy_(v)`) are CopySlices too, over the whole tensor: the old version gets a zero
gradient, as torch's CopyBackwards / FillBackward give it.

    record(target, op, compute, overwrite)   target's values := compute(), in the graph
    setitem(x, key, value)                    x[key] = value in the graph
    replay_view(view)                         a stale view's new history
"""
from . import autograd
from .autograd import Function
from .kernels import _views
from .kernels import map_ops as M
from .ops import _arrays as A
from .ops import index


class CopySlices(Function):
    """base with the elements of one region (a view's, or all of them) replaced by `source`:
    inputs (base as it was, source). The region is kept as the view's geometry in the base's
    memory (shape, strides, element offset), so the gradient is cut the same way out of a
    buffer laid out as the base is."""
    name, float_inputs, strided_inputs, saves = "copy_slices", False, True, ()

    def __init__(self, device, inputs, op, region, base_layout):
        super().__init__(device, inputs)
        self.name, self.region, self.base_layout = op, region, base_layout
        self.saved_versions = []

    def backward(self, g):
        k = self.kernels
        if self.region is None:   # every element was replaced
            old = A.full(k, g.shape, 0.0) if self.needs_grad[0] else None
            return old, (g if self.needs_grad[1] else None)
        g_base = _zeros_in_layout(k, *self.base_layout)
        k.cast(g, g_base)
        region = A.view(g_base, *self.region)
        g_source = k.cast(region, A.empty(k, region.shape)) if self.needs_grad[1] else None
        k.unary(M.U_FILL, region, region, 0.0)
        return (g_base if self.needs_grad[0] else None), g_source


def _zeros_in_layout(kernels, shape, strides):
    """A zero array of `shape` laid out with `strides` (the base's layout, so that a view's
    geometry in the base's memory finds the same elements in it)."""
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 1
    return A.view(A.full(kernels, (extent,), 0.0), shape, strides)


def _region(view, base):
    """(shape, strides, element offset) of view's elements in base's memory."""
    itemsize = view._array.dtype.itemsize
    offset = (_views.data_pointer(view._array) - _views.data_pointer(base._array)) // itemsize
    return tuple(view.shape), A.strides(view._array), int(offset) if view.numel() else 0


def _check_base_layout(op, base):
    if any(s == 0 and n > 1 for s, n in zip(A.strides(base._array), base.shape)):
        raise RuntimeError(f"{op}: the base of this view (shape {tuple(base.shape)}, strides "
                           f"{base.stride()}) reads one memory location as several elements, "
                           f"so an in-place change of the view has no gradient; clone() the "
                           f"base first")


def _to_shape(result, shape):
    """result (the new values) seen as target's shape: broadcast (an Expand node, whose
    gradient sums), leading size-1 dims dropped first (x[0] = v with v of shape (1, n))."""
    shape = tuple(shape)
    while result.ndim > len(shape) and result.shape[0] == 1:
        result = result.reshape(result.shape[1:])
    if tuple(result.shape) != shape and result.ndim <= len(shape):
        A.broadcast_shapes("in-place op", result.shape, shape)   # the error names the shapes
        result = result.expand(shape)
    return result


def record(target, op, compute, overwrite=False):
    """target's values := compute() (a tensor broadcastable to target), computed in grad mode
    and written into target's memory, then recorded as target's (or its base's) new history.
    overwrite: compute() does not read target (copy_, fill_): the old version gets zeros."""
    autograd.refresh_stale_views([target])
    base = target._base
    if base is not None:
        _check_base_layout(op, base)
    first_node = next(autograd._node_serials)
    with autograd.overwriting(target):
        result = _to_shape(compute(), target.shape)
    target._assign(result, op)   # checks dtype and shape, writes, bumps the version
    creator = result._creator
    fresh = creator is not None and creator is not autograd.FREED and \
        creator.serial > first_node
    if fresh:
        _adopt_saved_output(creator, result, target)
    if base is None and fresh and not overwrite:
        _rebase(target, creator)
        return target
    owner = target if base is None else base
    autograd.refresh_stale_views([result])
    node = CopySlices(target.device, (owner, result), op,
                      None if base is None else _region(target, base),
                      (tuple(owner.shape), A.strides(owner._array)))
    _rebase(owner, node)
    if base is not None:
        replay_view(target)
    return target


def _adopt_saved_output(node, result, target):
    """The node saved result (its output) for backward, and result's values now live in
    target: it reads them there, and the error for a later change names target, as torch's
    saved output is the modified tensor itself."""
    entries = getattr(node, "saved_versions", [])
    for i, (_, _, tensor, output_of) in enumerate(entries):
        if tensor is result:
            entries[i] = autograd.saved_entry(target, output_of=output_of)
            node.adopt_output(target._array)


def _rebase(tensor, node):
    wants = any(node.needs_grad)
    tensor._creator = node if wants else None
    tensor.requires_grad = wants
    tensor._rebases += 1


def replay_view(view):
    """The view's chain of view ops applied again to its base's current version: the view's
    new creator (its values, memory and version counter are the same)."""
    base = view._base
    with autograd.enable_grad():
        replayed = base
        for op, options in view._view_chain:
            replayed = op.apply(replayed, **options)
    view._creator, view.requires_grad = replayed._creator, replayed.requires_grad
    view._view_rebases = base._rebases


def setitem(x, key, value):
    """x[key] = value inside autograd: a basic key writes a view of x (CopySlices), an
    advanced one (index tensors, masks) is index_put (ops/index.py) recorded on x."""
    if index.is_advanced(key):
        return x._inplace("__setitem__", lambda: index.index_put(x, key, value), value)
    return index.getitem(x, key)._inplace("__setitem__", lambda: value, value, overwrite=True)
