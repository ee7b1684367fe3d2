"""Hook registries, PyTorch's way: registering a hook returns a handle whose `remove()`
unregisters it (also as a context manager). Modules keep their forward hooks in one
(gpucnn.nn.hooks), leaf tensors their post-accumulate-grad hooks in another."""
import itertools
from collections import OrderedDict

_ids = itertools.count()


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


def add_hook(hooks: OrderedDict, hook, kind: str) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"a {kind} must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle
