"""RMSprop, with momentum, centering, weight decay and maximize: torch.optim.RMSprop.

State per parameter: "step", "square_avg", "momentum_buffer" (when momentum > 0) and
"grad_avg" (when centered), made at the parameter's first step.
"""
from ..backend import backend
from .optimizer import Optimizer, flag, number


class RMSprop(Optimizer):
    state_names = ("square_avg", "momentum_buffer", "grad_avg")

    # torch's order: capturable and foreach come before maximize, all positional.
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        super().__init__(params, {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                                  "centered": centered, "weight_decay": weight_decay,
                                  "capturable": capturable, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable})

    def _check(self, g):
        return {"lr": number("RMSprop", "learning rate", g["lr"]),
                "momentum": number("RMSprop", "momentum", g["momentum"]),
                "alpha": number("RMSprop", "alpha", g["alpha"]),
                "eps": number("RMSprop", "eps", g["eps"]),
                "centered": flag("RMSprop", "centered", g["centered"]),
                "weight_decay": number("RMSprop", "weight_decay", g["weight_decay"]),
                "maximize": flag("RMSprop", "maximize", g["maximize"])}

    def _required_state(self, group):
        return ({"step", "square_avg"} | ({"momentum_buffer"} if group["momentum"] > 0 else set())
                | ({"grad_avg"} if group["centered"] else set()))

    def _update(self, g, index, param, grad):
        state = self._state_of(param, ("square_avg",)
                               + (("momentum_buffer",) if g["momentum"] > 0 else ())
                               + (("grad_avg",) if g["centered"] else ()))
        self._advance(state)   # counted, as torch does; the update does not use it
        buf = self._buffer(state, "momentum_buffer", index) if g["momentum"] > 0 else None
        grad_avg = self._buffer(state, "grad_avg", index) if g["centered"] else None
        backend(param.device).kernels.rmsprop_step(
            param._array, grad, state["square_avg"]._array, grad_avg, buf, g["lr"], g["alpha"],
            g["eps"], g["weight_decay"], g["momentum"], g["centered"], g["maximize"])
