"""gpucnn.utils.checkpoint: torch.utils.checkpoint's activation checkpointing.

    out = checkpoint(block, x, use_reentrant=False)     # block's activations not kept
    out = checkpoint_sequential(model, segments, x, use_reentrant=False)

checkpoint(function, *args, ...) runs function without recording a graph, so the activations
inside it are freed as it goes, and gives each output a node of its own instead. When
backward reaches one, function runs again, with gradients, from the same inputs and (with
preserve_rng_state, the default) the same random state, so dropout draws the same masks;
backward then walks the recomputed graph. The gradients are those of running function
plainly. The random state after the recomputation is the one from before it (the recompute
draws nothing from the main stream), and the autocast state of the forward holds again
during the recompute. As in torch, a BatchNorm in training mode updates its running
statistics in the forward and again in the recomputation.

The two variants, as torch 2.13's (use_reentrant=None warns, as torch's does, and means True):
  use_reentrant=True   the outputs need gradients only when a tensor argument requires grad
                       (else torch's warning, and the parameters inside get none); keyword
                       arguments, context_fn and debug are refused
  use_reentrant=False  the outputs need gradients when anything the function reads requires
                       grad (parameters too: the graph-free forward notes what its ops read);
                       keyword arguments and tensors inside lists, tuples and dicts are
                       inputs too; context_fn, determinism_check ("default": the recomputed
                       outputs' shapes, dtypes and devices must match), debug, early_stop
                       (gpucnn always recomputes the whole function) are taken
Gradients reach the tensor inputs and every leaf the function uses (its parameters). A tensor
with history that the function reads from outside (not passed in) gets its gradient through
a second walk into its graph from the recomputation, as in torch's reentrant variant.
"""
import contextlib
import warnings

from .. import autograd, random
from ..amp import autocast_mode
from ..autograd import Function, enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn"]

_DETERMINISM_CHECKS = ("default", "none")


class CheckpointError(RuntimeError):
    """The recomputation did not give what the forward gave (torch's CheckpointError)."""


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def _tensors(value, nested):
    """The tensors in value (itself, or in lists, tuples and dicts when nested), in order."""
    if isinstance(value, Tensor):
        return [value]
    if nested and isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item, True)]
    if nested and isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item, True)]
    return []


def _replaced(value, replacement, nested):
    """value with each tensor t found by _tensors replaced by replacement(t)."""
    if isinstance(value, Tensor):
        return replacement(value)
    if nested and isinstance(value, (list, tuple)):
        items = [_replaced(item, replacement, True) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if nested and isinstance(value, dict):
        return type(value)((k, _replaced(v, replacement, True)) for k, v in value.items())
    return value


def _detached(tensor):
    """A leaf with tensor's memory that requires grad when tensor does (torch's
    detach_variable): the recomputation's graph ends there."""
    copy = tensor.detach()
    if tensor.requires_grad:
        copy.requires_grad_(True)
    return copy


class _Recomputation:
    """What the nodes of one checkpoint's outputs share: how to run the function again, and
    the recomputed outputs until every node that needs them has had them."""

    def __init__(self, function, args, kwargs, nested, preserve_rng_state, rng_state,
                 recompute_context, determinism_check, forward_outputs):
        self.function, self.args, self.kwargs, self.nested = function, args, kwargs, nested
        self.preserve_rng_state, self.rng_state = preserve_rng_state, rng_state
        self.autocast_state = autocast_mode.snapshot()
        self.recompute_context = recompute_context
        self.determinism_check = determinism_check
        self.forward_meta = [(tuple(t.shape), t.dtype, t.device) for t in forward_outputs]
        self.pending = 0          # nodes whose backward has not run yet
        self.outputs = None       # the recomputed output tensors, flattened
        self.inputs = None        # the leaves the recomputation started from

    def recomputed(self):
        if self.outputs is None:
            self._recompute()
        return self.outputs

    def _recompute(self):
        detached = {}

        def leaf(t):
            if id(t) not in detached:
                detached[id(t)] = _detached(t)
            return detached[id(t)]
        args = tuple(_replaced(a, leaf, self.nested) for a in self.args)
        kwargs = {k: _replaced(v, leaf, self.nested) for k, v in self.kwargs.items()}
        rng = random.forked(self.rng_state) if self.preserve_rng_state else \
            contextlib.nullcontext()
        with rng, enable_grad(), autocast_mode.restored(self.autocast_state), \
                self.recompute_context:
            outputs = self.function(*args, **kwargs)
        self.inputs = detached
        self.outputs = _tensors(outputs, True)
        if self.determinism_check == "default":
            meta = [(tuple(t.shape), t.dtype, t.device) for t in self.outputs]
            if meta != self.forward_meta:
                raise CheckpointError(
                    f"torch.utils.checkpoint: the recomputed outputs differ from the forward's "
                    f"(shape, dtype, device): {meta} against {self.forward_meta}; the function "
                    f"must compute the same thing when it runs again (pass "
                    f"determinism_check='none' to skip this check)")
        if not self.nested and not any(t.requires_grad for t in self.outputs):
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")

    def gradients(self, index, grad, inputs):
        """Backpropagate grad from recomputed output `index`; the gradients of `inputs` (the
        checkpoint's tensor inputs: those of their recomputation leaves)."""
        output = self.recomputed()[index]
        leaves = [self.inputs.get(id(t)) for t in inputs]
        for t in leaves:
            if t is not None:
                t.grad = None
        if output.requires_grad:
            # The graph is kept (retain_graph): other outputs may walk it too, and a tensor
            # the function read from outside leads into the caller's graph, which the outer
            # pass still has to walk.
            autograd._walk_backward(output, grad, True)
        self.pending -= 1
        grads = tuple(None if t is None or t.grad is None else t.grad._array for t in leaves)
        if self.pending == 0:
            self.outputs = self.inputs = None   # every output is done: free the recompute
        return grads


class CheckpointBackward(Function):
    """The node of one checkpointed output: its backward recomputes the function (once for
    all the outputs) and walks the recomputed graph."""
    name = "checkpoint"
    strided_inputs = True

    def __init__(self, device, inputs, recomputation, index):
        super().__init__(device, inputs)
        self.recomputation, self.index = recomputation, index
        self.versions = [(t._version, t._version.value, t) for t in inputs]

    def check_versions(self):
        for version, expected, tensor in self.versions:
            if version.value != expected:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{tensor.dtype.name} {list(tensor.shape)}], an "
                    f"input of checkpoint(), is at version {version.value}; expected version "
                    f"{expected} instead (the recomputation reads it)")

    def backward(self, grad_out):
        return self.recomputation.gradients(self.index, grad_out, self.inputs)


def _attach(outputs, recomputation, inputs):
    """outputs with each float32 tensor in them given a CheckpointBackward node."""
    count = [0]

    def with_node(t):
        index = count[0]
        count[0] += 1
        if t.dtype.name != "float32":
            return t
        node = CheckpointBackward(t.device, inputs, recomputation, index)
        recomputation.pending += 1
        return Tensor._from_array(t._array, t.device, requires_grad=True, creator=node,
                                  version=t._version)
    return _replaced(outputs, with_node, True)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """function(*args, **kwargs) with its activations recomputed in backward instead of kept
    (see the module's docstring); returns what function returns."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. Starting in PyTorch 2.9, calling checkpoint without "
                      "use_reentrant will raise an exception. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
    elif determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but "
                         f"got {determinism_check}")
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    nested = not use_reentrant
    inputs = [t for a in (*args, *kwargs.values()) for t in _tensors(a, nested)]
    if use_reentrant and not any(t.requires_grad for t in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)
    if not autograd.is_grad_enabled():   # nothing will need a gradient: just run it
        forward_context = context_fn()[0] if not use_reentrant else contextlib.nullcontext()
        with forward_context:
            return function(*args, **kwargs)

    forward_context, recompute_context = context_fn()
    rng_state = random.get_state() if preserve else None
    read_requiring_grad = []

    def note(op_inputs):
        if not read_requiring_grad and any(t.requires_grad for t in op_inputs):
            read_requiring_grad.append(True)
    previous_recorder = autograd.input_recorder
    autograd.input_recorder = None if use_reentrant else note
    try:
        with no_grad(), forward_context:
            outputs = function(*args, **kwargs)
    finally:
        autograd.input_recorder = previous_recorder
    if previous_recorder is not None and (read_requiring_grad or
                                          any(t.requires_grad for t in inputs)):
        previous_recorder(inputs)   # an enclosing checkpoint's forward reads these too
    needs_grad = any(t.requires_grad for t in inputs) or bool(read_requiring_grad)
    if not needs_grad:
        return outputs
    recomputation = _Recomputation(function, args, kwargs, nested, preserve, rng_state,
                                   recompute_context, determinism_check if nested else "none",
                                   _tensors(outputs, True))
    return _attach(outputs, recomputation, inputs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002
    """Run functions (a Sequential or a list of modules/functions) in `segments` pieces, all
    but the last checkpointed."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant "
                      "parameter should be passed explicitly. In version 2.9 we will raise an "
                      "exception if use_reentrant is not passed. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):  # noqa: A002
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
