"""Define-by-run autograd: `Function` nodes, the grad modes, and the reverse walk.

An op is a `Function` subclass whose `forward` and `backward` sit side by side and work on raw
arrays of one device. `apply` checks devices and dtypes, runs forward, and, when a gradient is
wanted, records the node on the output. `backward_pass` walks the graph in reversed
topological order, checks every gradient's shape, accumulates, and frees the graph behind it.

In-place changes. Every tensor carries a version counter, shared by the views of one storage
and bumped by every in-place op. A node records the versions of the tensors its backward
reads (`saves`: which inputs, and whether the output); a backward that finds one changed
raises PyTorch's error instead of computing a wrong gradient from the changed values.

Grad modes, as PyTorch's: `no_grad()`, `enable_grad()`, `set_grad_enabled(mode)` and
`inference_mode(mode=True)` are context managers and decorators (`inference_mode` is
`no_grad` here: gpucnn has no separate inference tensors).
"""
import functools

import numpy as np

from . import dtypes
from .backend import backend
from .ops import _arrays

_grad_enabled = True


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
            with type(self)(self.enabled):
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


def is_grad_enabled() -> bool:
    return _grad_enabled


def is_inference_mode_enabled() -> bool:
    return not _grad_enabled


class Version:
    """The in-place version counter of one storage, shared by all its views."""
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class Function:
    """One op. Subclasses set `name` (used in every error it raises) and implement
    forward(*arrays, **options) -> array and backward(grad_out) -> one gradient array (or None)
    per tensor input, calling kernels through `self.kernels`, the kernel table of the inputs'
    device (gpucnn.backend).

    Class options:
        float_inputs   inputs must be float32 (default); False lets an op take any dtype
        strided_inputs forward accepts arrays of any strides (elementwise ops and views);
                       False (default) hands it C-contiguous copies of strided inputs
        saves          indices of the inputs whose values backward reads ("all" by default)
        saves_output   backward reads the output's values
        is_view        the output shares the first input's memory (and its version counter)
    """

    name = "op"
    float_inputs = True
    strided_inputs = False
    saves = "all"
    saves_output = False
    is_view = False

    def __init__(self, device, inputs):
        self.device = device
        self.kernels = backend(device).kernels   # this device's kernel table
        self.inputs = inputs
        self.needs_grad = tuple(t.requires_grad for t in inputs)

    @classmethod
    def apply(cls, *inputs, **options):
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
        node = cls(inputs[0].device, inputs)
        arrays = [t._array if cls.strided_inputs else t._contiguous_array() for t in inputs]
        out = node.forward(*arrays, **options)
        # Only float results carry gradients (an argmax, a comparison, a cast to int do not).
        track = _grad_enabled and any(node.needs_grad) and np.dtype(out.dtype) == np.float32
        result = inputs[0]._from_array(out, node.device, requires_grad=track,
                                       creator=node if track else None,
                                       version=inputs[0]._version if cls.is_view else None)
        if track:
            saved = inputs if cls.saves == "all" else [inputs[i] for i in cls.saves]
            if cls.saves_output:
                saved = [*saved, result]
            node.saved_versions = [(t._version, t._version.value, t) for t in saved]
        return result

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    @property
    def next_functions(self):
        """((node, 0), ...) per input, as PyTorch's grad_fn.next_functions: the input's node,
        an AccumulateGrad for a leaf that requires grad, None for the rest."""
        return tuple((_next_node(t), 0) for t in self.inputs)

    def __repr__(self):
        return f"<{type(self).__name__}Backward object>"

    def check_versions(self):
        for version, expected, tensor in getattr(self, "saved_versions", ()):
            if version.value != expected:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{tensor.dtype.name} {list(tensor.shape)}], "
                    f"used by {self.name}, is at version {version.value}; expected version "
                    f"{expected} instead. Change the in-place op to its out-of-place form "
                    f"(x = x.add(y) instead of x.add_(y)), or clone the tensor first.")


class AccumulateGrad:
    """Where a leaf's gradient lands (shown in next_functions, as PyTorch's)."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    name = "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad object>"


def _next_node(tensor):
    if not tensor.requires_grad:
        return None
    if tensor._creator is None:
        return AccumulateGrad(tensor)
    return tensor._creator if tensor._creator is not FREED else None


class _FreedGraph:
    """Marks a tensor whose graph a backward pass already consumed."""
    name = "freed graph"
    inputs = ()


FREED = _FreedGraph()


def _topological_order(root):
    order, seen = [], set()
    stack = [(root, False)]
    while stack:  # iterative: deep graphs must not hit Python's recursion limit
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        if tensor._creator is not None:
            for parent in tensor._creator.inputs:
                if parent.requires_grad and id(parent) not in seen:
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
    grads = {id(root): grad_array}
    order = list(reversed(_topological_order(root)))
    for tensor in order:
        node = tensor._creator
        if node is FREED:
            raise RuntimeError("Trying to backward through the graph a second time: backward() "
                               "already freed it; recompute the forward pass, or call "
                               "backward(retain_graph=True) the first time")
        if node is not None:
            node.check_versions()
    for tensor in order:
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        kernels = backend(tensor.device).kernels   # a graph may cross devices (Tensor.to)
        node = tensor._creator
        if tensor._retains_grad or node is None:
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
        for parent, wanted, g in zip(node.inputs, node.needs_grad, input_grads):
            if not wanted or g is None:
                continue
            if tuple(g.shape) != tuple(parent.shape):
                raise RuntimeError(f"{node.name}.backward produced a gradient of shape "
                                   f"{tuple(g.shape)} for an input of shape {tuple(parent.shape)}")
            previous = grads.get(id(parent))
            grads[id(parent)] = g if previous is None else \
                _arrays.add(backend(parent.device).kernels, previous, g)
        if not retain_graph:
            tensor._creator = FREED  # free the graph as we go: arrays kept for backward go


def _accumulate(kernels, tensor, grad):
    """tensor.grad += grad, out of place (one gradient array may be handed to several inputs:
    x + y gives both the same array), as a C-contiguous array (the optimizers' kernels read
    gradients flat)."""
    if tensor.grad is None:
        tensor.grad = tensor._from_array(_arrays.contiguous(kernels, grad), tensor.device)
    else:
        tensor.grad = tensor._from_array(_arrays.add(kernels, tensor.grad._array, grad),
                                         tensor.device)
