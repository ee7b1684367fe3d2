"""Containers: Sequential, ModuleList, ModuleDict, with PyTorch's indexing and mutation.

Children are registered under their position ("0", "1", ...) or key, so parameters() and
state_dict() keys match PyTorch's for the same model.
"""
import numbers
from collections import OrderedDict

from .module import Module


def _module(owner, where, value):
    if not isinstance(value, Module):
        raise TypeError(f"{owner}: {where} is a {type(value).__name__}, not a Module")
    return value


class _Indexed(Module):
    """Children named by their position; shared by Sequential and ModuleList."""

    def _position(self, index):
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, not "
                            f"{type(index).__name__}")
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for {type(self).__name__} of "
                             f"length {size}")
        return int(index) % size

    def _renumber(self, modules):
        self._modules.clear()
        for position, module in enumerate(modules):
            self._modules[str(position)] = module

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(*list(self._modules.values())[index]) if isinstance(self, Sequential) \
                else ModuleList(list(self._modules.values())[index])
        return list(self._modules.values())[self._position(index)]

    def __setitem__(self, index, module):
        key = list(self._modules)[self._position(index)]
        self._modules[key] = _module(type(self).__name__, f"item {index}", module)

    def __delitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._position(index)]
        self._renumber(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self._modules[str(len(self._modules))] = _module(type(self).__name__, "appended item",
                                                         module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, _module(type(self).__name__, "inserted item", module))
        self._renumber(modules)

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_Indexed):
    """Sequential(m0, m1, ...) or Sequential(OrderedDict(name=module)): runs its children in
    order. An error from a child names the layer it came from."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, _module("Sequential", f"item {name!r}", module))
            return
        for index, module in enumerate(modules):
            self.add_module(str(index), _module("Sequential", f"item {index}", module))

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential + {type(other).__name__}: add two Sequentials")
        return Sequential(*self, *other)

    def forward(self, x):
        for name, module in self._modules.items():
            try:
                x = module(x)
            except (ValueError, TypeError) as error:
                # Name the layer in the error, once (nested Sequentials keep the innermost).
                if getattr(error, "_layer_named", False):
                    raise
                named = type(error)(f"layer '{name}' {module!r}: {error}")
                named._layer_named = True
                raise named from error
        return x


class ModuleList(_Indexed):
    """A list of modules, registered (their parameters are the model's); no forward."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __repr__(self):
        """Runs of equal children compressed, as PyTorch's: "(0-3): 4 x Linear(...)"."""
        runs = []   # [first index, last index, repr]
        for index, child in enumerate(self):
            text = repr(child)
            if runs and runs[-1][2] == text:
                runs[-1][1] = index
            else:
                runs.append([index, index, text])
        if not runs:
            return "ModuleList()"
        lines = [f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}"
                 for a, b, text in runs]
        return "ModuleList(\n  " + "\n  ".join(line.replace("\n", "\n  ") for line in lines) \
            + "\n)"

    def __add__(self, other):
        return ModuleList([*self, *other])


class ModuleDict(Module):
    """An ordered dict of modules, registered under their keys; no forward."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__}")
        self.add_module(key, _module("ModuleDict", f"value of {key!r}", module))

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        return self._modules.pop(key)

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for entry in items:
            key, module = entry
            self[key] = module
