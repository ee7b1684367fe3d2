"""`Module`: parameters, buffers and sub-modules registered by attribute, PyTorch's way.

Assigning a Parameter, a Module, or a tensor to a registered buffer's name registers it; a
name keeps its place when it is assigned again (parameters() and state_dict() keep their
order). state_dict() is each module's parameters, then its persistent buffers, then its
children's, under PyTorch's dotted keys ("0.weight", "bn1.running_mean", ...), as detached
tensors sharing the module's memory. load_state_dict checks everything before it changes
anything.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import dtypes
from .. import memory_formats
from ..backend import backend
from ..devices import cuda_name, resolve as resolve_device
from ..tensor import Tensor, to_arguments, unsupported_conversion
from . import hooks
from .parameter import Parameter
from .summary import summarize

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class StateDictError(ValueError):
    """A state dict that does not fit a module; `problems` lists every key that does not."""

    def __init__(self, module_name: str, problems: str):
        super().__init__(f"load_state_dict into {module_name}: {problems}")
        self.problems = problems


def _listed(keys, limit=8) -> str:
    shown = repr(keys[:limit])
    return shown if len(keys) <= limit else f"{shown[:-1]}, ... ({len(keys)} in all)]"


def _typename(value) -> str:
    """torch.typename's spelling of a value's type, which PyTorch's errors name: a tensor's
    type() ("gpucnn.FloatTensor"), else module.qualname, builtins bare ("int")."""
    if isinstance(value, Tensor):
        return value.type()
    module = getattr(value, "__module__", "") or ""
    if hasattr(value, "__qualname__"):
        qualname = value.__qualname__
    elif hasattr(value, "__name__"):
        qualname = value.__name__
    else:
        module, qualname = type(value).__module__ or "", type(value).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


class _BufferMeta(type):
    # As PyTorch's: a Buffer is a plain tensor marked by Buffer(...), so the tensor a module
    # holds still counts as one (assigning it to another name registers that name too).
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A tensor marked for registration as a buffer when assigned to a module attribute, as
    torch.nn.Buffer: `self.mask = nn.Buffer(t, persistent=False)` is
    `self.register_buffer("mask", t, persistent=False)`. Buffer(t) is t detached (sharing its
    memory, keeping its requires_grad), a plain Tensor carrying `persistent`."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor(np.empty(0, np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"nn.Buffer: data must be a gpucnn.Tensor, got {_typename(data)} "
                            f"(gpucnn.tensor(data) makes one)")
        tensor = data.detach().requires_grad_(data.requires_grad)
        tensor.persistent = persistent
        tensor._is_buffer = True
        return tensor


class Module:
    """The base of every layer and model, with PyTorch's attribute rules: a Parameter, a
    Module or a tensor assigned to a registered buffer's name goes into its registry
    (_parameters, _modules, _buffers) and nowhere else, and __getattr__ finds it there."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    # ================================================================ registration
    def __getattr__(self, name):
        # Reached only when normal lookup fails: registered parameters, buffers and children.
        state = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in state and name in state[registry]:
                return state[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        state = self.__dict__
        params = state.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_everywhere(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                f"(gpucnn.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if state.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_everywhere(name, keep="_modules")
            self._modules[name] = value       # an existing name keeps its place
        elif "_modules" in state and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                f"(gpucnn.nn.Module or None expected)")
            self._modules[name] = value
        elif isinstance(value, Buffer) or ("_buffers" in state and name in self._buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                f"(gpucnn.nn.Buffer, gpucnn.Tensor or None expected)")
            # A Buffer replaces nothing: a plain attribute of that name is register_buffer's
            # "already exists" error, as in PyTorch.
            persistent = (value.persistent if isinstance(value, Buffer)
                          else name not in self._non_persistent_buffers)
            self.register_buffer(name, value, persistent)
        else:
            object.__setattr__(self, name, value)

    def _remove_everywhere(self, name, keep):
        """Forget `name` in the instance dict and every registry but `keep`."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        if keep != "_buffers":
            self._non_persistent_buffers.discard(name)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = [*dir(type(self)), *self.__dict__, *self._parameters, *self._modules,
                *self._buffers]
        return sorted(key for key in keys if not key[0].isdigit())   # PyTorch's: no dedup

    def _check_new_name(self, kind, name, registry):
        """PyTorch's checks of a parameter or buffer name about to be registered."""
        if registry not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f"{kind} name can't contain \".\"")
        if name == "":
            raise KeyError(f"{kind} name can't be empty string \"\"")
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Register a parameter, or None for an absent one (a layer built with bias=False)."""
        self._check_new_name("parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            f"(gpucnn.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as "
                             f"a function of another Tensor, compute the value in the "
                             f"forward() method.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that belongs to the module's state but is not trained (running
        statistics): moved by .to(), saved by state_dict() unless persistent=False."""
        self._check_new_name("buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            f"(gpucnn Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Register a child module (or None) under `name`, as `self.name = module` does."""
        # PyTorch's checks in PyTorch's order (before __init__, self._modules is the
        # AttributeError of __getattr__, as there).
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f"module name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError("module name can't be empty string \"\"")
        self._modules[name] = module

    def register_module(self, name, module):
        """Alias for add_module."""
        self.add_module(name, module)

    # ================================================================ calling
    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        if hooks.global_forward_hooks or self._forward_hooks:
            out = hooks.run_forward_hooks(self, args, out)
        return out

    def register_forward_hook(self, hook):
        """Call hook(module, inputs, output) after this module's forward; returns a handle
        whose remove() unregisters it."""
        return hooks.add_hook(self._forward_hooks, hook)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    # ================================================================ structure
    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        return (child for _, child in self.named_children())

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        memo = set() if memo is None else memo
        if remove_duplicate and id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self):
        return (m for _, m in self.named_modules())

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def get_submodule(self, target: str):
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} "
                                     f"(looking for {target!r})")
            module = module._modules[part]
        return module

    def apply(self, fn):
        """fn(module) for every sub-module, children first, then self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ================================================================ modes and devices
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.zero_()

    def to(self, *args, **kwargs):
        """Move every parameter and buffer in place (device), or convert the float ones
        (dtype), as PyTorch's Module.to; returns self. memory_format= is checked as
        PyTorch's (the rank of every 4-D and 5-D parameter and buffer); the layout stays
        NCHW, the one gpucnn's kernels read (gpucnn/memory_formats.py)."""
        memory_format = kwargs.pop("memory_format", None)
        device, dtype = _to_arguments(args, kwargs)
        if memory_format is not None:
            memory_formats.check("to", memory_format)
            for t in [*self.parameters(), *self.buffers()]:
                if t.ndim in (4, 5):
                    memory_formats.check_rank(memory_format, t.ndim)
        for _, param in self.named_parameters():
            _move_in_place(param, device, dtype)
            if param.grad is not None:
                param.grad = param.grad.to(param.device)
        for module in self.modules():
            for name, buf in module._buffers.items():
                if buf is not None:
                    module._buffers[name] = _moved_buffer(buf, device, dtype)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(cuda_name(device))

    def float(self):
        return self.to(dtypes.float32)

    double = unsupported_conversion("double", "float64", owner="Module.")
    half = unsupported_conversion("half", "float16", owner="Module.")

    # ================================================================ state
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Name -> tensor (detached, sharing the module's memory) for every parameter and
        persistent buffer, with PyTorch's keys and order."""
        state = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                state[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers:
                state[prefix + name] = buf if keep_vars else buf.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(state, prefix + name + ".", keep_vars)
        return state

    def _state_targets(self):
        """Name -> the tensor that load_state_dict writes for every state_dict key."""
        return OrderedDict(self.state_dict(keep_vars=True))

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (NumPy, gpucnn, PyTorch or anything array-like) into the parameters
        and buffers. Returns (missing_keys, unexpected_keys) as PyTorch does.

        Mis-shaped keys, and missing or unexpected keys when strict, are all reported in one
        StateDictError (a ValueError); nothing is loaded unless every key checks out.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got "
                            f"{type(state_dict).__name__}")
        targets = self._state_targets()
        arrays = {}
        for key, value in state_dict.items():
            arrays[key] = _host_values(value)
        missing = [k for k in targets if k not in arrays]
        unexpected = [k for k in arrays if k not in targets]
        misshaped = [f"{k}: got {tuple(arrays[k].shape)}, expected {tuple(targets[k].shape)}"
                     for k in targets if k in arrays and tuple(arrays[k].shape) !=
                     tuple(targets[k].shape)]
        not_numbers = [f"{k}: {arrays[k].dtype}" for k in targets
                       if k in arrays and arrays[k].dtype.kind not in "fiub"]
        read_only = [k for k in targets if k in arrays and isinstance(targets[k]._array,
                                                                     np.ndarray)
                     and not targets[k]._array.flags.writeable]
        problems = []
        if missing and strict:
            problems.append(f"missing keys {_listed(missing)}")
        if unexpected and strict:
            problems.append(f"unexpected keys {_listed(unexpected)}")
        if misshaped:
            problems.append(f"mis-shaped keys {_listed(misshaped)}")
        if not_numbers:
            problems.append(f"keys that are not numbers {_listed(not_numbers)}")
        if read_only:
            problems.append(f"parameters backed by read-only arrays {_listed(read_only)}")
        if problems:
            raise StateDictError(type(self).__name__, "; ".join(problems))
        for key, target in targets.items():
            if key in arrays:
                # Into the existing storage: a view taken earlier (torch.as_tensor, cupy.asarray,
                # a NumPy view) keeps seeing the parameter instead of memory freed under it.
                _write_in_place(target, arrays[key])
        return IncompatibleKeys(missing, unexpected)

    # ================================================================ display
    def extra_repr(self):
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}("] + ([f"  {extra}"] if extra else [])
        for name, child in self._modules.items():
            lines.append("  (" + name + "): " + repr(child).replace("\n", "\n  "))
        lines.append(")")
        return "\n".join(lines)

    def flops(self, in_shape, out_shape) -> int:
        """Forward FLOPs of this layer alone for one image (gpucnn.nn.summary's definition:
        2 per multiply-add of a convolution or a dense layer, nothing else counted)."""
        return 0

    def summary(self, input_shape, device=None):
        """Print and return a table: layer, output shape, parameters, FLOPs; with totals and
        memory. input_shape excludes the batch dimension, e.g. (1, 28, 28)."""
        return summarize(self, input_shape, device)


# ================================================================ helpers

def _to_arguments(args, kwargs):
    device, dtype = to_arguments("Module.to()", args, kwargs)
    device = None if device is None else resolve_device(device)
    dtype = None if dtype is None else dtypes.resolve(dtype, "Module.to")
    if dtype is not None and not dtype.is_floating_point:
        raise TypeError(f"Module.to only accepts floating point dtypes, got {dtype.name}")
    return device, dtype


def _move_in_place(tensor, device, dtype):
    """A parameter moved (and converted) in place: the same Parameter object, new memory."""
    changed = tensor
    if dtype is not None and tensor.dtype.is_floating_point:
        changed = changed.detach().to(dtype)
    if device is not None and changed.device != device:
        changed = changed.detach().to(device)
    if changed is not tensor:
        tensor._array, tensor.device = changed._array, changed.device
        tensor._version.value += 1


def _moved_buffer(buf, device, dtype):
    moved = buf
    if dtype is not None and buf.dtype.is_floating_point:
        moved = moved.to(dtype)
    if device is not None:
        moved = moved.to(device)
    return moved


def _host_values(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "detach") and hasattr(value, "cpu"):   # a PyTorch tensor
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        return value.numpy()
    return np.asarray(value)


def _write_in_place(target, values):
    host = np.ascontiguousarray(values, dtype=target._array.dtype)
    if target.is_contiguous():
        backend(target.device).copy_from_host(target._array, host)
    else:
        target.data.copy_(Tensor(host, device=target.device))
    target._version.value += 1
