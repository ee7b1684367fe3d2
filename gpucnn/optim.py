"""Optimizers following torch.optim's update rules exactly (SGD with momentum, Adam).

The arithmetic is in gpucnn.kernels.optim (one fused kernel per parameter); this file keeps
the state and the hyper-parameters, PyTorch's way: `param_groups` and `state_dict()`.
Everything an optimizer is given is checked when it is given (parameters, hyper-parameters,
a state dict), so a bad value is an error at once, not a damaged model later.
"""
import math
import numbers

import numpy as np

from .autograd import no_grad
from .backend import backend, flat
from .tensor import Tensor


def _number(owner, name, value, low=0.0, high=math.inf, high_open=False):
    """A real number in [low, high] (or [low, high)); NaN, inf and bools refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{owner}: invalid {name} {value!r} (a finite number is needed)")
    if value < low or value > high or (high_open and value == high):
        upper = f"{high})" if high_open else f"{high}]"
        raise ValueError(f"{owner}: invalid {name} {value!r} (must lie in [{low}, {upper})")
    return float(value)


class Optimizer:
    # Per-parameter state arrays the optimizer keeps, by name (besides the integer "step").
    state_names: tuple = ()

    def __init__(self, params, **defaults):
        self.defaults = defaults
        self.param_groups = []
        self.state = {}  # id(param) -> {"step": int, buffer name: device array}
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or "
                            f"dicts, got a Tensor (wrap it in a list)")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, group: dict):
        """Add a group of parameters with its own hyper-parameters (the rest from defaults)."""
        name = type(self).__name__
        if not isinstance(group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(group).__name__}")
        params = group.get("params")
        params = [params] if isinstance(params, Tensor) else params
        if isinstance(params, set) or params is None:
            raise TypeError(f"{name}: a group's params must be an ordered collection of Tensors")
        params = list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = set()
        for i, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(f"{name}: can only optimize gpucnn Tensors, but parameter {i} "
                                f"is a {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (parameter {i}, "
                                 f"shape {param.shape})")
            if id(param) in ids:
                raise ValueError(f"{name}: parameter {i} (shape {param.shape}) appears twice in "
                                 f"one parameter group; it would be updated twice per step")
            if id(param) in seen:
                raise ValueError(f"{name}: some parameters appear in more than one parameter "
                                 f"group (parameter {i}, shape {param.shape})")
            ids.add(id(param))
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"{name}: unknown options {sorted(unknown)} in a parameter group; "
                             f"known: {sorted(self.defaults)}")
        checked = self._check({**self.defaults, **group})
        self.param_groups.append({**checked, "params": params})

    def _params(self):
        for group in self.param_groups:
            for param in group["params"]:
                yield group, param

    def zero_grad(self, set_to_none=True):
        """Drop every gradient (set_to_none=True, PyTorch's default) or zero it in place."""
        for _, param in self._params():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.zero_()

    def step(self):
        name = type(self).__name__
        with no_grad():
            for index, (group, param) in enumerate(self._params()):
                if param.grad is None:
                    continue
                if param.grad.shape != param.shape or param.grad.device != param.device:
                    raise ValueError(f"{name}: gradient {param.grad.shape} on "
                                     f"{param.grad.device} for parameter {index} "
                                     f"{param.shape} on {param.device}")
                if isinstance(param._array, np.ndarray) and not param._array.flags.writeable:
                    raise ValueError(f"{name}: parameter {index} ({param.shape}) shares a "
                                     f"read-only NumPy array (gpucnn.from_numpy); give the "
                                     f"optimizer a writable copy (gpucnn.tensor makes one)")
                state = self.state.setdefault(id(param), {"step": 0})
                state["step"] += 1
                self._update(group, param, state)
                param._version.value += 1   # saved for a backward that has not run yet?

    # --- checkpoints: state as NumPy arrays, keyed by parameter position --------------------
    def state_dict(self):
        arrays, groups = {}, []
        index = 0
        for group in self.param_groups:
            groups.append({k: v for k, v in group.items() if k != "params"})
            for param in group["params"]:
                state = self.state.get(id(param))
                if state is not None:
                    arrays[f"{index}.step"] = np.array(state["step"], dtype=np.int64)
                    for key, value in state.items():
                        if key != "step":
                            arrays[f"{index}.{key}"] = backend(param.device).to_host(value).copy()
                index += 1
        return {"state": arrays, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """All or nothing: every group and array is checked before any is applied."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups'")
        groups, arrays = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError(f"{name}: {len(groups) if isinstance(groups, list) else 'no'} "
                             f"parameter groups saved, {len(self.param_groups)} here")
        checked = []
        for saved in groups:
            if not isinstance(saved, dict) or set(saved) - set(self.defaults):
                raise ValueError(f"{name}: a saved group has options {saved!r}, expected "
                                 f"{sorted(self.defaults)}")
            checked.append(self._check({**self.defaults, **saved}))
        params = [param for _, param in self._params()]
        states = {}
        for key, value in arrays.items():
            head, _, buffer = str(key).partition(".")
            if not head.isdigit() or int(head) >= len(params) or \
                    buffer not in ("step",) + self.state_names:
                raise ValueError(f"{name}: unexpected state {key!r} (parameters 0.."
                                 f"{len(params) - 1}, state {('step',) + self.state_names})")
            value = np.asarray(value)
            if value.dtype.kind not in "fiu":
                raise ValueError(f"{name}: state {key!r} has dtype {value.dtype}")
            param = params[int(head)]
            if buffer == "step":
                if value.shape != () or value.dtype.kind not in "iu" or int(value) < 1:
                    raise ValueError(f"{name}: state {key!r} must be an int >= 1, got {value!r}")
                states.setdefault(int(head), {})["step"] = int(value)
            elif tuple(value.shape) != param.shape:
                raise ValueError(f"{name}: state {key!r} has shape {value.shape}, parameter "
                                 f"{head} has {param.shape}")
            else:
                states.setdefault(int(head), {})[buffer] = np.ascontiguousarray(value,
                                                                                dtype=np.float32)
        for index, state in states.items():
            if "step" not in state:
                raise ValueError(f"{name}: parameter {index} has state but no step")
        for group, values in zip(self.param_groups, checked):
            group.update(values)
        self.state = {}
        for index, state in states.items():
            param = params[index]
            self.state[id(param)] = {
                key: value if key == "step" else backend(param.device).from_host(value.copy())
                for key, value in state.items()}

    def _check(self, group: dict) -> dict:
        """The group's hyper-parameters, checked (raise for a bad one)."""
        raise NotImplementedError

    def _update(self, group, param, state):
        raise NotImplementedError


class SGD(Optimizer):
    state_names = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         nesterov=nesterov)

    def _check(self, g):
        checked = {"lr": _number("SGD", "learning rate", g["lr"]),
                   "momentum": _number("SGD", "momentum", g["momentum"]),
                   "weight_decay": _number("SGD", "weight_decay", g["weight_decay"]),
                   "nesterov": bool(g["nesterov"])}
        if checked["nesterov"] and checked["momentum"] <= 0:
            raise ValueError("SGD: nesterov momentum requires momentum > 0")
        return checked

    def _update(self, g, param, state):
        device = backend(param.device)
        first = "momentum_buffer" not in state
        if g["momentum"] != 0 and first:
            state["momentum_buffer"] = device.empty(param.shape)
        # With momentum 0 the kernel never touches the buffer; the gradient stands in for it.
        buf = state.get("momentum_buffer", param.grad._array)
        device.kernels.sgd_step(flat(param._array), flat(param.grad._array), flat(buf),
                                np.float32(g["lr"]), np.float32(g["momentum"]),
                                np.float32(g["weight_decay"]), g["nesterov"], first)


class Adam(Optimizer):
    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _check(self, g):
        betas = g["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair, got {betas!r}")
        return {"lr": _number("Adam", "learning rate", g["lr"]),
                "betas": tuple(_number("Adam", f"betas[{i}]", b, 0.0, 1.0, high_open=True)
                               for i, b in enumerate(betas)),
                "eps": _number("Adam", "eps", g["eps"]),
                "weight_decay": _number("Adam", "weight_decay", g["weight_decay"])}

    def _update(self, g, param, state):
        device = backend(param.device)
        if "exp_avg" not in state:
            state["exp_avg"] = device.full(param.shape, 0.0)
            state["exp_avg_sq"] = device.full(param.shape, 0.0)
        b1, b2 = g["betas"]
        device.kernels.adam_step(flat(param._array), flat(param.grad._array),
                                 flat(state["exp_avg"]),
                                 flat(state["exp_avg_sq"]), g["lr"], b1, b2, g["eps"],
                                 g["weight_decay"], state["step"])
