"""`Optimizer`: what every optimizer shares, PyTorch's way.

Parameter groups (`param_groups`: dicts of options with their `params`), `defaults`, `state`
keyed by the parameter tensor (`optimizer.state[p]["exp_avg"]`), `add_param_group`,
`zero_grad(set_to_none=True)`, `step(closure=None)`, and `state_dict()` /
`load_state_dict()` in PyTorch's shape:

    {"state": {param index: {"step": Tensor(), "exp_avg": Tensor, ...}},
     "param_groups": [{...options..., "params": [param indices]}]}

A subclass names its options (`defaults`, in torch's order), checks them (`_check`), says
which state it keeps (`state_names`, `counts_steps`, `_required_state`) and updates one
parameter (`_update`) with one fused kernel from gpucnn.kernels.optim.

Everything an optimizer is given is checked when it is given (parameters, options, a state
dict), and a step checks every parameter before it updates any, so bad input is an error at
once, not a half-updated model. Differences from torch: a parameter listed twice in a group is
an error (torch warns), options are checked for NaN and inf too, unknown group options are
refused (except those the learning-rate schedulers write, and "param_names"), `state_dict()`
is a snapshot (torch's shares the live tensors) and loading one copies it.

torch's implementation switches are accepted with torch's checks and change nothing: every
update is already one fused kernel per parameter, so foreach (None/True/False) and fused
(None/True/False) give the same numbers; capturable=True too (the step count stays a host
scalar: gpucnn has no CUDA graphs to capture). differentiable=True runs torch's step inside
autograd; gpucnn's kernels run outside it, so what torch can do with it (gradients through
the update of a non-leaf parameter) is refused, and the rest (parameters that do not require
grad) steps as usual. A parameter that requires grad is torch's error under
differentiable=True too (an in-place update of a leaf that requires grad).
"""
import math
import numbers
from collections import defaultdict

import numpy as np

from ..autograd import enable_grad, no_grad
from ..backend import backend
from ..kernels._checks import is_c_contiguous
from ..tensor import Tensor

# Group entries the learning-rate schedulers write (torch keeps whatever a group holds).
SCHEDULER_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")
# torch's implementation switches (see above): None/True/False, and bools.
_OPTIONAL_FLAGS = ("foreach", "fused")
_FLAGS = ("capturable", "differentiable")


def number(owner, name, value, low=0.0, high=math.inf, high_open=False):
    """A real number in [low, high] (or [low, high)); NaN, inf and bools refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{owner}: invalid {name} {value!r} (a finite number is needed)")
    if value < low or value > high or (high_open and value == high):
        upper = f"{high})" if high_open else f"{high}]"
        raise ValueError(f"{owner}: invalid {name} {value!r} (must lie in [{low}, {upper})")
    return float(value)


def flag(owner, name, value):
    """A bool (or 0/1), as a bool."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral)
                                                and value in (0, 1)):
        return bool(value)
    raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")


def optional_flag(owner, name, value):
    """None or a bool (torch's foreach and fused)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise TypeError(f"{owner}: {name} must be None, True or False, got {value!r}")


def _step_value(owner, where, value):
    """A saved step count (a Tensor, array or number: torch keeps a float32 tensor, older
    files an int) as a float, checked to be a whole number >= 0."""
    if isinstance(value, Tensor):
        value = value.numpy()
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "fiu":
        raise ValueError(f"{owner}: {where} step must be one number, got {value!r}")
    step = float(array.reshape(()))
    if not math.isfinite(step) or step < 0 or step != int(step):
        raise ValueError(f"{owner}: {where} step must be a whole number >= 0, got {step!r}")
    return step


class Optimizer:
    # Per-parameter state arrays the optimizer may keep, by name (besides "step").
    state_names: tuple = ()
    # Whether the state holds a step count (torch's SGD keeps none).
    counts_steps = True

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state = defaultdict(dict)   # parameter tensor -> {"step": Tensor, name: Tensor}
        self.param_groups = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Tensors or dicts, got a "
                            f"Tensor (wrap it in a list)")
        if isinstance(params, dict):
            raise TypeError(f"{name}: params must be an iterable of Tensors or dicts, got one "
                            f"dict (wrap it in a list)")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)
        if self.defaults.get("fused"):   # torch checks the constructor's arguments only
            if self.defaults.get("differentiable"):
                raise RuntimeError("`fused` does not support `differentiable`")
            if self.defaults.get("foreach"):
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"

    # --- parameter groups ------------------------------------------------------------------
    def add_param_group(self, param_group: dict):
        """Add a group of parameters with its own options (the rest from defaults)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        params = param_group.get("params")
        params = [params] if isinstance(params, Tensor) else params
        if isinstance(params, set) or params is None or isinstance(params, (str, dict)):
            raise TypeError(f"{name}: a group's params must be an ordered collection of Tensors")
        params = list(params)
        names = None
        if any(isinstance(p, tuple) for p in params):   # from named_parameters()
            if not all(isinstance(p, tuple) and len(p) == 2 for p in params):
                raise ValueError(f"{name}: all optimizer params should be with/without names. "
                                 f"Some param names are missing")
            names = [n for n, _ in params]
            params = [p for _, p in params]
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = set()
        for i, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(f"{name}: can only optimize gpucnn Tensors, but parameter {i} "
                                f"is a {type(param).__name__}")
            if not param.is_leaf:
                why = ("; differentiable=True would step it inside autograd, which gpucnn's "
                       "fused updates cannot (gradients through the step are not available)"
                       if self.defaults.get("differentiable") else "")
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (parameter {i}, "
                                 f"shape {param.shape}){why}")
            if id(param) in ids:
                raise ValueError(f"{name}: parameter {i} (shape {param.shape}) appears twice in "
                                 f"one parameter group; it would be updated twice per step")
            if id(param) in seen:
                raise ValueError(f"{name}: some parameters appear in more than one parameter "
                                 f"group (parameter {i}, shape {param.shape})")
            ids.add(id(param))
        options = {k: v for k, v in param_group.items() if k != "params"}
        if names is not None:
            options["param_names"] = names
        if self.param_groups and \
                ("param_names" in options) != ("param_names" in self.param_groups[0]):
            raise ValueError(f"{name}: all optimizer param groups should be with/without names "
                             f"(named_parameters() or parameters(), not both)")
        checked = self._checked_group(options, len(params))
        self.param_groups.append({"params": params, **checked})

    def _checked_group(self, options: dict, count: int) -> dict:
        """A group's options with the defaults filled in, every one checked."""
        name = type(self).__name__
        unknown = set(options) - set(self.defaults) - set(SCHEDULER_KEYS) - {"param_names"}
        if unknown:
            raise ValueError(f"{name}: unknown options {sorted(unknown)} in a parameter group; "
                             f"known: {sorted(self.defaults)}")
        merged = {**self.defaults, **options}
        switches = {key: optional_flag(name, key, merged[key])
                    for key in _OPTIONAL_FLAGS if key in merged}
        switches.update({key: flag(name, key, merged[key]) for key in _FLAGS if key in merged})
        checked = {**merged, **switches, **self._check(merged)}
        for key in SCHEDULER_KEYS:
            if key in merged:
                checked[key] = number(name, key, merged[key], low=-math.inf)
        if "param_names" in merged:
            names = merged["param_names"]
            if not isinstance(names, (list, tuple)) or len(names) != count or \
                    not all(isinstance(n, str) for n in names):
                raise ValueError(f"{name}: param_names must be {count} strings, got {names!r}")
            checked["param_names"] = list(names)
        return checked

    def _check(self, group: dict) -> dict:
        """The group's options, checked (raise for a bad one). Options this does not return
        are kept as given (an optimizer written outside gpucnn checks nothing)."""
        return {}

    def zero_grad(self, set_to_none=True):
        """Drop every gradient (set_to_none=True, PyTorch's default) or zero it in place."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    param.grad.detach_()
                    param.grad.zero_()

    # --- the update -----------------------------------------------------------------------
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure's loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._opt_called = True   # read by the lr schedulers' order check
        work = self._checked_work()
        with no_grad():
            for group, index, param, grad in work:
                self._update(group, index, param, grad)
                param._version.value += 1   # saved for a backward that has not run yet?
        return loss

    def _checked_work(self):
        """(group, index, param, grad array) of each parameter with a gradient, every one
        checked before any is updated."""
        name = type(self).__name__
        work = []
        for group, index, param in self._indexed():
            grad = param.grad
            if grad is None:
                continue
            if group.get("differentiable") and param.requires_grad:
                raise RuntimeError(
                    f"{name}: a leaf Variable that requires grad is being used in an in-place "
                    f"operation (parameter {index}, shape {param.shape}): differentiable=True "
                    f"steps inside autograd, as torch does; use differentiable=False")
            if group.get("differentiable") and grad.requires_grad:
                raise RuntimeError(
                    f"{name}: the gradient of parameter {index} (shape {param.shape}) requires "
                    f"grad, so differentiable=True would record the update in autograd; "
                    f"gpucnn's fused updates run outside it (gradients through the step are "
                    f"not available): detach the gradient or use differentiable=False")
            if grad.shape != param.shape or grad.device != param.device:
                raise ValueError(f"{name}: gradient {grad.shape} on {grad.device} for "
                                 f"parameter {index} {param.shape} on {param.device}")
            if param.dtype.name != "float32" or grad.dtype.name != "float32":
                raise TypeError(f"{name}: parameter {index} ({param.shape}) is "
                                f"{param.dtype.name} with a {grad.dtype.name} gradient; only "
                                f"float32 parameters are updated")
            if not is_c_contiguous(param._array):
                raise ValueError(f"{name}: parameter {index} ({param.shape}, strides "
                                 f"{param.stride()}) is not contiguous; the update writes it "
                                 f"as one flat array (nn.Parameter makes a contiguous one)")
            if isinstance(param._array, np.ndarray) and not param._array.flags.writeable:
                raise ValueError(f"{name}: parameter {index} ({param.shape}) shares a "
                                 f"read-only NumPy array (gpucnn.from_numpy); give the "
                                 f"optimizer a writable copy (gpucnn.tensor makes one)")
            array = grad._array if is_c_contiguous(grad._array) else grad._contiguous_array()
            work.append((group, index, param, array))
        return work

    def _indexed(self):
        """(group, index, param) of every parameter, indexed as in state_dict()."""
        index = 0
        for group in self.param_groups:
            for param in group["params"]:
                yield group, index, param
                index += 1

    def _update(self, group, index, param, grad):
        """Update `param` in place from the contiguous array `grad`."""
        raise NotImplementedError(f"{type(self).__name__}: an optimizer implements _update() "
                                  f"(one parameter) or overrides step()")

    # --- state helpers for the subclasses -----------------------------------------------------
    @staticmethod
    def _zeros(param, value=0.0):
        array = backend(param.device).full(tuple(param.shape), float(value))
        return Tensor._from_array(array, param.device)

    def _state_of(self, param, zero_names):
        """param's state, made at its first step as torch makes it: the step count, then a
        zero tensor of param's shape per name, in that order (the state_dict's order)."""
        state = self.state[param]
        if not state:
            state["step"] = self._new_step()
            for name in zero_names:
                state[name] = self._zeros(param)
        return state

    @staticmethod
    def _new_step():
        """torch's step counter: a float32 scalar on the host."""
        return Tensor._from_array(np.zeros((), np.float32), "cpu")

    @staticmethod
    def _advance(state) -> float:
        """Count one more step (in float32, as torch) and return the count."""
        step = state["step"]._array
        step += np.float32(1.0)
        return float(step)

    def _buffer(self, state, key, index):
        """A state array the group's options need, or a clear error when an option was
        switched on after the parameter's state was made (torch fails there too)."""
        if key not in state:
            raise ValueError(f"{type(self).__name__}: parameter {index} has state without "
                             f"{key!r}: an option that needs it was switched on after its "
                             f"first step")
        return state[key]._array

    def _required_state(self, group) -> set:
        """The state names a parameter of `group` must hold once it has any state."""
        return {"step"} if self.counts_steps else set()

    # --- checkpoints --------------------------------------------------------------------------
    def state_dict(self):
        """A snapshot of the state, PyTorch-shaped: parameters by index, tensors copied."""
        groups, indices = [], {}
        for group, index, param in self._indexed():
            indices[id(param)] = index
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            if "param_names" in packed:
                packed["param_names"] = list(packed["param_names"])
            packed["params"] = [indices[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        with no_grad():
            for param, values in self.state.items():
                if id(param) in indices:
                    state[indices[id(param)]] = {key: value.detach().clone()
                                                 if isinstance(value, Tensor) else value
                                                 for key, value in values.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state_dict() (this optimizer's or torch's with its tensors converted to
        gpucnn tensors or arrays). All or nothing: every group and array is checked first."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups'")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or \
                len(saved_groups) != len(self.param_groups):
            count = len(saved_groups) if isinstance(saved_groups, (list, tuple)) else "no"
            raise ValueError(f"{name}: {count} parameter groups saved, "
                             f"{len(self.param_groups)} here")
        if not isinstance(saved_state, dict):
            raise ValueError(f"{name}: 'state' must be a dict, got "
                             f"{type(saved_state).__name__}")
        new_groups, params_by_id = [], {}
        for position, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(f"{name}: saved group {position} must be a dict with a "
                                 f"'params' list, got {saved!r}")
            ids = list(saved["params"])
            if len(ids) != len(group["params"]):
                raise ValueError(f"{name}: saved group {position} has {len(ids)} parameters, "
                                 f"the group here has {len(group['params'])}")
            for saved_id, param in zip(ids, group["params"]):
                if isinstance(saved_id, bool) or not isinstance(saved_id, numbers.Integral) \
                        or int(saved_id) in params_by_id:
                    raise ValueError(f"{name}: saved group {position} names parameter "
                                     f"{saved_id!r}: parameter ids must be distinct ints")
                params_by_id[int(saved_id)] = (param, position)
            options = {k: v for k, v in saved.items() if k != "params"}
            if "param_names" in group and "param_names" not in options:
                options["param_names"] = group["param_names"]
            new_groups.append({"params": group["params"],
                               **self._checked_group(options, len(ids))})
        new_state = {}
        for saved_id, values in saved_state.items():
            if isinstance(saved_id, bool) or not isinstance(saved_id, numbers.Integral) or \
                    int(saved_id) not in params_by_id:
                raise ValueError(f"{name}: state for parameter {saved_id!r}, which no saved "
                                 f"group holds (ids {sorted(params_by_id)})")
            param, group_number = params_by_id[int(saved_id)]
            new_state[param] = self._checked_state(name, saved_id, param,
                                                   new_groups[group_number], values)
        for group, new in zip(self.param_groups, new_groups):
            group.clear()
            group.update(new)
        self.state = defaultdict(dict)
        for param, values in new_state.items():
            self.state[param] = {
                key: value if key == "step" else
                Tensor._from_array(backend(param.device).from_host(value), param.device)
                for key, value in values.items()}

    def _checked_state(self, name, saved_id, param, group, values):
        """One parameter's saved state as host arrays (float32, param's shape) and a step
        Tensor, or a ValueError."""
        where = f"parameter {saved_id}"
        if not isinstance(values, dict):
            raise ValueError(f"{name}: state of {where} must be a dict, got {values!r}")
        known = set(self.state_names) | ({"step"} if self.counts_steps else set())
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"{name}: unexpected state {sorted(map(str, unknown))} for {where} "
                             f"(known: {sorted(known)})")
        missing = self._required_state(group) - set(values) if values else set()
        if missing:
            raise ValueError(f"{name}: state of {where} lacks {sorted(missing)}, which its "
                             f"group's options need")
        checked = {}
        for key, value in values.items():
            if key == "step":
                step = self._new_step()
                step._array[...] = _step_value(name, where, value)
                checked[key] = step
                continue
            array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if array.dtype.kind not in "fiu":
                raise ValueError(f"{name}: state {key!r} of {where} has dtype {array.dtype}")
            if tuple(array.shape) != tuple(param.shape):
                raise ValueError(f"{name}: state {key!r} of {where} has shape "
                                 f"{tuple(array.shape)}, the parameter has {tuple(param.shape)}")
            checked[key] = np.array(array, dtype=np.float32, order="C", copy=True)
        return checked
