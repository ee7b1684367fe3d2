"""Optimizers following torch.optim's update rules exactly (SGD with momentum, Adam).

The arithmetic is in gpucnn.kernels.optim (one fused kernel per parameter); this file keeps
the state and the hyper-parameters, PyTorch's way: `param_groups` and `state_dict()`.
"""
import numpy as np

from .autograd import no_grad
from .backend import backend, flat


class Optimizer:
    defaults: dict = {}

    def __init__(self, params, **hyper):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        for group in groups:
            group = {**hyper, **group, "params": list(group["params"])}
            self._check(group)
            self.param_groups.append(group)
        self.state = {}  # id(param) -> {"step": int, buffer name: device array}

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
                backend(param.device).kernels.fill(flat(param.grad.data), 0.0)

    def step(self):
        with no_grad():
            for group, param in self._params():
                if param.grad is None:
                    continue
                if param.grad.shape != param.shape or param.grad.device != param.device:
                    raise ValueError(f"{type(self).__name__}: gradient {param.grad.shape} on "
                                     f"{param.grad.device} for parameter {param.shape} on {param.device}")
                state = self.state.setdefault(id(param), {"step": 0})
                state["step"] += 1
                self._update(group, param, state)

    # --- checkpoints: state as NumPy arrays, keyed by parameter position --------------------
    def state_dict(self):
        arrays, meta = {}, {"groups": []}
        index = 0
        for group in self.param_groups:
            meta["groups"].append({k: v for k, v in group.items() if k != "params"})
            for param in group["params"]:
                state = self.state.get(id(param))
                if state is not None:
                    arrays[f"{index}.step"] = np.array(state["step"], dtype=np.int64)
                    for name, value in state.items():
                        if name != "step":
                            arrays[f"{index}.{name}"] = backend(param.device).to_host(value).copy()
                index += 1
        return {"state": arrays, "param_groups": meta["groups"]}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(groups)} parameter "
                             f"groups saved, {len(self.param_groups)} here")
        for group, saved in zip(self.param_groups, groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        arrays = state_dict["state"]
        self.state = {}
        for index, (_, param) in enumerate(self._params()):
            if f"{index}.step" not in arrays:
                continue
            state = {"step": int(arrays[f"{index}.step"])}
            for key, value in arrays.items():
                head, _, name = key.partition(".")
                if head == str(index) and name != "step":
                    if tuple(value.shape) != param.shape:
                        raise ValueError(f"{type(self).__name__}.load_state_dict: state {key} has "
                                         f"shape {value.shape}, parameter {index} has {param.shape}")
                    state[name] = backend(param.device).from_host(
                        np.ascontiguousarray(value, dtype=np.float32).copy())
            self.state[id(param)] = state

    def _check(self, group):
        raise NotImplementedError

    def _update(self, group, param, state):
        raise NotImplementedError


class SGD(Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         nesterov=nesterov)

    def _check(self, g):
        if g["lr"] < 0:
            raise ValueError(f"SGD: invalid learning rate {g['lr']} (must be >= 0)")
        if g["momentum"] < 0:
            raise ValueError(f"SGD: invalid momentum {g['momentum']} (must be >= 0)")
        if g["weight_decay"] < 0:
            raise ValueError(f"SGD: invalid weight_decay {g['weight_decay']} (must be >= 0)")
        if g["nesterov"] and g["momentum"] <= 0:
            raise ValueError("SGD: nesterov momentum requires momentum > 0")

    def _update(self, g, param, state):
        device = backend(param.device)
        first = "momentum_buffer" not in state
        if g["momentum"] != 0 and first:
            state["momentum_buffer"] = device.empty(param.shape)
        # With momentum 0 the kernel never touches the buffer; the gradient stands in for it.
        buf = state.get("momentum_buffer", param.grad.data)
        device.kernels.sgd_step(flat(param.data), flat(param.grad.data), flat(buf), np.float32(g["lr"]),
                   np.float32(g["momentum"]), np.float32(g["weight_decay"]), bool(g["nesterov"]),
                   bool(first))


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)

    def _check(self, g):
        if g["lr"] < 0:
            raise ValueError(f"Adam: invalid learning rate {g['lr']} (must be >= 0)")
        if g["eps"] < 0:
            raise ValueError(f"Adam: invalid eps {g['eps']} (must be >= 0)")
        b1, b2 = g["betas"]
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"Adam: invalid betas {g['betas']} (each must lie in [0, 1))")
        if g["weight_decay"] < 0:
            raise ValueError(f"Adam: invalid weight_decay {g['weight_decay']} (must be >= 0)")

    def _update(self, g, param, state):
        device = backend(param.device)
        if "exp_avg" not in state:
            state["exp_avg"] = device.full(param.shape, 0.0)
            state["exp_avg_sq"] = device.full(param.shape, 0.0)
        b1, b2 = g["betas"]
        device.kernels.adam_step(flat(param.data), flat(param.grad.data), flat(state["exp_avg"]),
                    flat(state["exp_avg_sq"]), g["lr"], b1, b2, g["eps"], g["weight_decay"],
                    state["step"])
