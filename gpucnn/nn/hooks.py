"""Forward hooks, PyTorch's way: a function called after a module's forward with
(module, inputs, output), per module (`Module.register_forward_hook`) or for every module
(`register_module_forward_hook`, which `Module.summary` uses to record each layer's output).
A hook that returns something other than None replaces the output.
"""
from collections import OrderedDict

from ..hooks import RemovableHandle
from ..hooks import add_hook as _add_hook

global_forward_hooks: "OrderedDict[int, object]" = OrderedDict()


def add_hook(hooks: OrderedDict, hook) -> RemovableHandle:
    return _add_hook(hooks, hook, "forward hook")


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
