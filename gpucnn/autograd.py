"""Define-by-run autograd: `Function` nodes and the reverse walk.

An op is a `Function` subclass whose `forward` and `backward` sit side by side and work on raw
arrays of one device. `apply` checks devices and dtypes, runs forward, and, when a gradient is
wanted, records the node on the output. `backward_pass` walks the graph in reversed
topological order, checks every gradient's shape, accumulates, and frees the graph behind it.
"""
import contextlib

import numpy as np

from .backend import backend

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Within this block, ops record no graph (inference, optimizer updates)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    return _grad_enabled


class Function:
    """One op. Subclasses set `name` (used in every error it raises) and implement
    forward(*arrays, **options) -> array and backward(grad_out) -> one gradient array (or None)
    per tensor input, calling kernels through `self.kernels`, the kernel table of the inputs'
    device (gpucnn.backend)."""

    name = "op"
    float_inputs = True  # integer tensors are refused unless an op says otherwise

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
                if t.dtype != np.float32:
                    raise TypeError(f"{cls.name}: expected float32 tensors, got {t.dtype} with "
                                    f"shape {tuple(t.shape)}")
        node = cls(inputs[0].device, inputs)
        out = node.forward(*(t.data for t in inputs), **options)
        track = _grad_enabled and any(node.needs_grad)
        return inputs[0]._from_array(out, node.device, requires_grad=track,
                                     creator=node if track else None)

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError


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


def backward_pass(root, grad_array):
    kernels = backend(root.device).kernels
    grads = {id(root): grad_array}
    for tensor in reversed(_topological_order(root)):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        node = tensor._creator
        if node is FREED:
            raise RuntimeError("backward() through a graph that a previous backward() already "
                               "freed; recompute the forward pass")
        if node is None:
            # A leaf: accumulate out of place, since one gradient array may be shared by
            # several inputs (x + y hands the same array to both).
            if tensor.grad is None:
                tensor.grad = tensor._from_array(grad, tensor.device)
            else:
                tensor.grad = tensor._from_array(_add(kernels, tensor.grad.data, grad),
                                                 tensor.device)
            continue
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
            grads[id(parent)] = g if previous is None else _add(kernels, previous, g)
        tensor._creator = FREED  # free the graph as we go: arrays kept for backward are dropped


def _add(kernels, a, b):
    out = kernels.axpby(a.reshape(a.size), b.reshape(b.size), np.float32(1.0), np.float32(1.0))
    return out.reshape(a.shape)
