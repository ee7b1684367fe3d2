"""Define-by-run autograd: `Function` nodes, the grad modes, and the reverse walk.

An op is a `Function` subclass whose `forward` and `backward` sit side by side and work on raw
arrays of one device. `apply` checks devices and dtypes, runs forward, and, when a gradient is
wanted, records the node on the output. `backward_pass` walks the graph in reversed
topological order, checks every gradient's shape, accumulates, and frees the graph behind it.

In-place changes. Every tensor carries a version counter, shared by the views of one storage
and bumped by every in-place op. A node records the versions of the tensors its backward
reads (`saved_inputs()`, and the output when `saves_output`); a backward that finds one
changed raises PyTorch's error instead of computing a wrong gradient from the changed values.
An in-place op inside autograd gives its tensor a new history (gpucnn/inplace.py), so one
tensor object stands for several versions in the graph: a node records, beside each input,
the input's creator at the time (`input_creators`), and the walk's vertices are these
(tensor, creator) pairs. While an in-place op computes its new values (`overwriting`), a node
that saves the tensor being overwritten as its operand saves a copy of it instead (torch's
"original self"), so its backward reads the values from before the write.

Grad modes, as PyTorch's: `no_grad()`, `enable_grad()`, `set_grad_enabled(mode)` and
`inference_mode(mode=True)` are context managers and decorators. `inference_mode` is
`no_grad` that also marks the tensors made inside it as inference tensors
(Tensor.is_inference()); gpucnn keeps no other distinction between the two.
"""
import functools
import itertools

import numpy as np

from . import dtypes
from .backend import backend
from .ops import _arrays

_grad_enabled = True
_inference_mode = False   # inside inference_mode(): new storage is inference memory

# The tensor an in-place op is computing new values for (see `overwriting`).
_overwritten = None
_node_serials = itertools.count()
# Called with every op's inputs while a checkpointed forward runs without a graph, to learn
# which tensors that require grad it reads (gpucnn/utils/checkpoint.py); None otherwise.
input_recorder = None
# The tracer of a forward pass being exported (gpucnn/onnx/tracer.py), told of every op
# applied (`record`), every call of a `composite` function (`composite`) and every in-place
# write (`assigned`, from Tensor._assign); None otherwise.
tracer = None


class _GradMode:
    """Sets the grad mode inside a `with` block or a decorated function, restoring the
    previous mode on the way out (also when the block raises)."""

    def __init__(self, enabled: bool):
        self.enabled = bool(enabled)
        self._previous = []

    def __enter__(self):
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._previous.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)(self.enabled)


class no_grad(_GradMode):  # noqa: N801  (PyTorch's names)
    """Within this block, ops record no graph (inference, optimizer updates)."""

    def __new__(cls, fn=None):
        mode = super().__new__(cls)
        if callable(fn):   # used bare, as @gpucnn.no_grad
            mode.__init__()
            return mode(fn)
        return mode

    def __init__(self, fn=None):
        super().__init__(False)


class enable_grad(no_grad):  # noqa: N801
    """Within this block, ops record the graph again (inside a no_grad region)."""

    def __init__(self, fn=None):
        _GradMode.__init__(self, True)


class set_grad_enabled(_GradMode):  # noqa: N801
    """set_grad_enabled(False) as a statement switches gradients off until switched back;
    as a context manager or decorator, only within its block."""

    def __init__(self, mode: bool):
        global _grad_enabled
        super().__init__(mode)
        self._previous.append(_grad_enabled)
        _grad_enabled = self.enabled   # takes effect at once, as torch.set_grad_enabled

    def __enter__(self):
        return self   # already set by __init__; __exit__ restores the mode found then

    def __call__(self, fn):
        global _grad_enabled
        _grad_enabled = self._previous.pop()   # a decorator only sets the mode inside fn
        return super().__call__(fn)

    def clone(self):
        return _GradMode(self.enabled)


class inference_mode(_GradMode):  # noqa: N801
    def __new__(cls, mode=True):
        instance = super().__new__(cls)
        if callable(mode):
            instance.__init__()
            return instance(mode)
        return instance

    def __init__(self, mode=True):
        super().__init__(not mode)
        self.mode = bool(mode)
        self._previous_inference = []

    def __enter__(self):
        global _inference_mode
        self._previous_inference.append(_inference_mode)
        _inference_mode = self.mode
        return super().__enter__()

    def __exit__(self, *exc):
        global _inference_mode
        _inference_mode = self._previous_inference.pop()
        return super().__exit__(*exc)

    def clone(self):
        return type(self)(self.mode)


def is_grad_enabled() -> bool:
    return _grad_enabled


def is_inference_mode_enabled() -> bool:
    """True inside inference_mode() (not inside no_grad(), as torch)."""
    return _inference_mode


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        from .tensor import Tensor   # tensor.py imports this module
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """PyTorch's legacy torch.autograd.Variable, which older model files still import and
    call: every tensor is a Variable, and Variable(t, requires_grad=False) is t.detach()
    (the same memory, no history) with requires_grad set, as in PyTorch 2."""

    def __new__(cls, data=None, requires_grad=False):
        from .tensor import Tensor
        if data is None:
            data = Tensor(np.empty(0, np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


class Version:
    """The in-place version counter of one storage, shared by all its views; `inference`
    says the storage was made inside inference_mode() (Tensor.is_inference(): its views are
    inference tensors too, a view made there of other memory is not, as in torch)."""
    __slots__ = ("value", "inference")

    def __init__(self):
        self.value = 0
        self.inference = _inference_mode


class overwriting:  # noqa: N801  (a context manager, named for what happens inside it)
    """Within this block an in-place op computes the values it will write into `target`: a
    node made here that saves target as its first operand of that name (the op's "self")
    saves a copy of its values instead. Other operands are saved as they are, so that
    x.mul_(x) then backward is PyTorch's error (x, the other factor, was changed)."""

    def __init__(self, target):
        self.target = target

    def __enter__(self):
        global _overwritten
        self._previous, _overwritten = _overwritten, self.target
        return self

    def __exit__(self, *exc):
        global _overwritten
        _overwritten = self._previous
        return False


def saved_entry(tensor, output_of=None):
    """What a node keeps to check `tensor` before its backward: (counter, value now, tensor,
    node), node being the node whose output it is when it saves its own output (that node is
    what the error names; for an input, the tensor's creator at the time of the error)."""
    return (tensor._version, tensor._version.value, tensor, output_of)


def refresh_stale_views(tensors):
    """Views whose base an in-place op changed since they were made take the base's new
    history first (PyTorch regenerates a view's grad_fn the same way)."""
    for t in tensors:
        base = t._base
        if base is not None and t._view_rebases != base._rebases:
            t._refresh_history()


class Function:
    """One op. Subclasses set `name` (used in every error it raises) and implement
    forward(*arrays, **options) -> array and backward(grad_out) -> one gradient array (or None)
    per tensor input, calling kernels through `self.kernels`, the kernel table of the inputs'
    device (gpucnn.backend).

    Class options:
        float_inputs   inputs must be float32 (default); False lets an op take any dtype
        strided_inputs forward accepts arrays of any strides (elementwise ops and views);
                       False (default) hands it C-contiguous copies of strided inputs
        saves          indices of the inputs whose values backward reads ("all" by default);
                       an op whose needs depend on which inputs want gradients overrides
                       saved_inputs() instead (PyTorch saves b for a * b only for a's grad)
        saves_output   backward reads the output's values
        is_view        the output shares the first input's memory (and its version counter)
    """

    name = "op"
    float_inputs = True
    strided_inputs = False
    saves = "all"
    saves_output = False
    is_view = False
    freed = False   # set once a backward pass has consumed the node

    def __init__(self, device, inputs):
        self.device = device
        self.kernels = backend(device).kernels   # this device's kernel table
        self.inputs = inputs
        self.input_creators = tuple(t._creator for t in inputs)
        self.needs_grad = tuple(t.requires_grad for t in inputs)
        self.serial = next(_node_serials)   # creation order: which nodes an in-place op made

    def saved_inputs(self):
        """Indices of the inputs whose values backward reads."""
        return range(len(self.inputs)) if self.saves == "all" else self.saves

    def adopt_output(self, array):
        """The output's values now also live in `array` (an in-place op wrote them there):
        an op that saves its output may read it from there and drop its own copy."""

    @classmethod
    def apply(cls, *inputs, **options):
        if input_recorder is not None:
            input_recorder(inputs)
        devices = {t.device for t in inputs}
        if len(devices) > 1:
            shapes = ", ".join(f"{tuple(t.shape)} on {t.device}" for t in inputs)
            raise ValueError(f"{cls.name}: tensors on different devices ({shapes}); move them "
                             f"with .to(device) first")
        if cls.float_inputs:
            for t in inputs:
                if t.dtype is not dtypes.float32:
                    raise TypeError(f"{cls.name}: expected float32 tensors, got "
                                    f"{t.dtype.name} with shape {tuple(t.shape)}")
        if _grad_enabled:
            refresh_stale_views(inputs)
        node = cls(inputs[0].device, inputs)
        arrays = [t._array if cls.strided_inputs else t._contiguous_array() for t in inputs]
        saved = list(node.saved_inputs())
        first = next((i for i, t in enumerate(inputs) if t is _overwritten), None) \
            if _overwritten is not None else None
        if first in saved and _grad_enabled and any(node.needs_grad):
            # An in-place op is about to overwrite this input: keep what backward reads.
            arrays[first] = node.kernels.cast(arrays[first], _arrays.empty(
                node.kernels, arrays[first].shape, arrays[first].dtype))
            saved.remove(first)
        out = node.forward(*arrays, **options)
        # Only float results carry gradients (an argmax, a comparison, a cast to int do not).
        track = _grad_enabled and any(node.needs_grad) and np.dtype(out.dtype) == np.float32
        result = inputs[0]._from_array(out, node.device, requires_grad=track,
                                       creator=node if track else None,
                                       version=inputs[0]._version if cls.is_view else None)
        if cls.is_view:   # what inplace.py needs to give the view a new history later
            base = inputs[0]._base if inputs[0]._base is not None else inputs[0]
            result._base, result._view_rebases = base, base._rebases
            result._view_chain = inputs[0]._view_chain + ((cls, options),)
            result._multi_view = inputs[0]._multi_view
        if track:
            node.saved_versions = [saved_entry(inputs[i]) for i in saved]
            if cls.saves_output:
                node.saved_versions.append(saved_entry(result, output_of=node))
        if tracer is not None:
            tracer.record(cls, inputs, options, result)
        return result

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    @property
    def next_functions(self):
        """((node, 0), ...) per input, as PyTorch's grad_fn.next_functions: the input's node,
        an AccumulateGrad for a leaf that requires grad, None for the rest."""
        return tuple((_next_node(t, c, wanted), 0) for t, c, wanted in
                     zip(self.inputs, self.input_creators, self.needs_grad))

    def __repr__(self):
        return f"<{type(self).__name__}Backward object>"

    def check_versions(self):
        for version, expected, tensor, output_of in getattr(self, "saved_versions", ()):
            if version.value != expected:
                creator = output_of or tensor.grad_fn
                which = f", which is output 0 of {type(creator).__name__}Backward," \
                    if creator is not None else ""
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{tensor.type()} {list(tensor.shape)}]{which} "
                    f"is at version {version.value}; expected version {expected} instead "
                    f"(read by the backward of {self.name}). Hint: use the out-of-place form "
                    f"of the in-place op (x = x.add(y) instead of x.add_(y)), or clone() the "
                    f"tensor before changing it.")


def composite(fn):
    """Marks a function composed of ops (softmax, mean, pad, ...) as one op to a tracer, which
    records the call whole, with the ops inside it as its fallback; outside a trace the
    wrapper only calls fn."""
    @functools.wraps(fn)
    def traced(*args, **kwargs):
        if tracer is None:
            return fn(*args, **kwargs)
        return tracer.composite(traced, fn, args, kwargs)
    return traced


class AccumulateGrad:
    """Where a leaf's gradient lands (shown in next_functions, as PyTorch's)."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    name = "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad object>"


def _next_node(tensor, creator, wanted):
    if not wanted:
        return None
    if creator is None:
        return AccumulateGrad(tensor)
    return creator if creator is not FREED and not creator.freed else None


class _FreedGraph:
    """Marks a tensor whose graph a backward pass already consumed."""
    name = "freed graph"
    inputs = ()
    freed = True


FREED = _FreedGraph()


def _parents(vertex):
    """The vertices a vertex's gradient flows to: (input, its creator then) for every input
    of its creator that wanted a gradient."""
    node = vertex[1]
    if node is None or node is FREED:
        return ()
    return [(t, c) for t, c, wanted in zip(node.inputs, node.input_creators, node.needs_grad)
            if wanted]


def _key(vertex):
    return id(vertex[0]), id(vertex[1])


def _topological_order(root):
    """Vertices (tensor, creator) from the root's down to the leaves', parents after
    children reversed: each vertex after every vertex it feeds, once reversed."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:  # iterative: deep graphs must not hit Python's recursion limit
        vertex, expanded = stack.pop()
        if expanded:
            order.append(vertex)
            continue
        if _key(vertex) in seen:
            continue
        seen.add(_key(vertex))
        stack.append((vertex, True))
        for parent in _parents(vertex):
            if _key(parent) not in seen:
                stack.append((parent, False))
    return order


# Called once when the backward pass in progress ends (torch's Variable._execution_engine.
# queue_callback): DistributedDataParallel waits for its gradient reductions there.
_final_callbacks = []


def queue_callback(callback):
    """Run callback() once, after the backward pass in progress has reached every leaf."""
    _final_callbacks.append(callback)


def backward_pass(root, grad_array, retain_graph=False):
    try:
        _walk_backward(root, grad_array, retain_graph)
    finally:
        callbacks = list(_final_callbacks)
        _final_callbacks.clear()
    for callback in callbacks:
        callback()


def _walk_backward(root, grad_array, retain_graph):
    start = (root, root._creator)
    grads = {_key(start): grad_array}
    order = list(reversed(_topological_order(start)))
    for _, node in order:
        if node is not None and node.freed:
            raise RuntimeError("Trying to backward through the graph a second time: backward() "
                               "already freed it; recompute the forward pass, or call "
                               "backward(retain_graph=True) the first time")
        if node is not None:
            node.check_versions()
    for i, vertex in enumerate(order):
        order[i] = None   # so that a freed node's arrays go now, not at the end of the walk
        grad = grads.pop(_key(vertex), None)
        if grad is None:
            continue
        tensor, node = vertex
        kernels = backend(tensor.device).kernels   # a graph may cross devices (Tensor.to)
        # .grad of a non-leaf that retains it is its current version's (PyTorch's rule).
        if node is None or (tensor._retains_grad and tensor._creator is node):
            _accumulate(kernels, tensor, grad)
            # A leaf comes after every node that feeds it, so its gradient is final here.
            for hook in tensor._post_accumulate_grad_hooks.values():
                hook(tensor)
        if node is None:
            continue
        if not node.strided_inputs:
            grad = _arrays.contiguous(kernels, grad)   # the op's kernels read it flat
        input_grads = node.backward(grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, creator, wanted, g in zip(node.inputs, node.input_creators,
                                              node.needs_grad, input_grads):
            if not wanted or g is None:
                continue
            if tuple(g.shape) != tuple(parent.shape):
                raise RuntimeError(f"{node.name}.backward produced a gradient of shape "
                                   f"{tuple(g.shape)} for an input of shape {tuple(parent.shape)}")
            key = _key((parent, creator))
            previous = grads.get(key)
            grads[key] = g if previous is None else \
                _arrays.add(backend(parent.device).kernels, previous, g)
        if not retain_graph:
            # Free the graph as we go: the arrays kept for backward go with the node.
            node.freed = True
            if tensor._creator is node:
                tensor._creator = FREED


def _accumulate(kernels, tensor, grad):
    """tensor.grad += grad, out of place (one gradient array may be handed to several inputs:
    x + y gives both the same array), as a C-contiguous array (the optimizers' kernels read
    gradients flat)."""
    if tensor.grad is None:
        tensor.grad = tensor._from_array(_arrays.contiguous(kernels, grad), tensor.device)
    else:
        tensor.grad = tensor._from_array(_arrays.add(kernels, tensor.grad._array, grad),
                                         tensor.device)
