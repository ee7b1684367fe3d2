"""Forward hooks, PyTorch's way: a function called after a module's forward with
(module, inputs, output), per module (`Module.register_forward_hook`) or for every module
(`register_module_forward_hook`, which `Module.summary` uses to record each layer's output).
A hook that returns something other than None replaces the output.
"""
import itertools
from collections import OrderedDict

_ids = itertools.count()
global_forward_hooks: "OrderedDict[int, object]" = OrderedDict()


class RemovableHandle:
    """What registering a hook returns; `remove()` unregisters it (also as a context manager)."""

    def __init__(self, hooks: OrderedDict):
        self._hooks = hooks
        self.id = next(_ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks: OrderedDict, hook) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"a forward hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook) -> RemovableHandle:
    """Call hook(module, inputs, output) after the forward of every module."""
    return add_hook(global_forward_hooks, hook)


def run_forward_hooks(module, inputs, output):
    for hooks in (global_forward_hooks, module._forward_hooks):
        for hook in list(hooks.values()):
            result = hook(module, inputs, output)
            if result is not None:
                output = result
    return output
