"""`Module`: parameters and sub-modules registered by attribute, PyTorch's way."""
from collections import OrderedDict

import numpy as np

from ..backend import backend
from ..devices import resolve as resolve_device
from . import hooks
from .parameter import Parameter
from .summary import summarize


class StateDictError(ValueError):
    """A state dict that does not fit a module; `problems` lists every key that does not."""

    def __init__(self, module_name: str, problems: str):
        super().__init__(f"load_state_dict into {module_name}: {problems}")
        self.problems = problems


def _listed(keys, limit=8) -> str:
    shown = repr(keys[:limit])
    return shown if len(keys) <= limit else f"{shown[:-1]}, ... ({len(keys)} in all)]"


class Module:
    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning {name!r}")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_parameter(self, name, value):
        """Register a parameter, or None for an absent one (a layer built with bias=False)."""
        if value is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, value)

    # --- calling -------------------------------------------------------------------------
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

    # --- structure -----------------------------------------------------------------------
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix=""):
        for name, param in self._parameters.items():
            yield (f"{prefix}.{name}" if prefix else name), param
        for name, child in self._modules.items():
            yield from child.named_parameters(f"{prefix}.{name}" if prefix else name)

    def parameters(self):
        return (p for _, p in self.named_parameters())

    # --- modes and devices ---------------------------------------------------------------
    def train(self, mode=True):
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def to(self, device):
        """Move every parameter to `device` in place (as PyTorch); returns self."""
        device = resolve_device(device)
        for param in self.parameters():
            if param.device != device:
                param._array = backend(device).from_host(param.numpy())
                param.device = device
                param._version.value += 1
                if param.grad is not None:
                    param.grad = param.grad.to(device)
        return self

    def zero_grad(self):
        for param in self.parameters():
            param.grad = None

    # --- weights -------------------------------------------------------------------------
    def state_dict(self):
        """Parameter name -> NumPy copy, with PyTorch's keys ("0.weight", "0.bias", ...)."""
        return OrderedDict((name, param.numpy()) for name, param in self.named_parameters())

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (NumPy, gpucnn or anything array-like) into the parameters.

        Missing, unexpected and mis-shaped keys are all reported in one StateDictError (a
        ValueError); nothing is loaded unless every key checks out.
        """
        params = dict(self.named_parameters())
        arrays = {}
        for key, value in state_dict.items():
            if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
                value = value.detach().cpu().numpy() if hasattr(value, "detach") else value.numpy()
            arrays[key] = np.asarray(value)
        missing = [k for k in params if k not in arrays]
        unexpected = [k for k in arrays if k not in params]
        misshaped = [f"{k}: got {tuple(arrays[k].shape)}, expected {params[k].shape}"
                     for k in params if k in arrays and tuple(arrays[k].shape) != params[k].shape]
        not_numbers = [f"{k}: {arrays[k].dtype}" for k in params
                       if k in arrays and arrays[k].dtype.kind not in "fiub"]
        read_only = [k for k in params if k in arrays and isinstance(params[k]._array, np.ndarray)
                     and not params[k]._array.flags.writeable]
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
        for key, param in params.items():
            if key in arrays:
                # Into the existing storage: a view taken earlier (torch.as_tensor, cupy.asarray,
                # a NumPy view) keeps seeing the parameter instead of memory freed under it.
                backend(param.device).copy_from_host(param._array, arrays[key])
                param._version.value += 1
        return {"missing_keys": missing, "unexpected_keys": unexpected}

    # --- display -------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
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
