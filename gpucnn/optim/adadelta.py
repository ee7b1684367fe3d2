"""Adadelta, with weight decay and maximize: torch.optim.Adadelta.

State per parameter: "step", "square_avg" and "acc_delta", made at the parameter's first step.
"""
from ..backend import backend
from .optimizer import Optimizer, flag, number


class Adadelta(Optimizer):
    state_names = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize,
                                  "capturable": capturable, "foreach": foreach,
                                  "differentiable": differentiable})

    def _check(self, g):
        return {"lr": number("Adadelta", "learning rate", g["lr"]),
                "rho": number("Adadelta", "rho", g["rho"], 0.0, 1.0),
                "eps": number("Adadelta", "eps", g["eps"]),
                "weight_decay": number("Adadelta", "weight_decay", g["weight_decay"]),
                "maximize": flag("Adadelta", "maximize", g["maximize"])}

    def _required_state(self, group):
        return {"step", "square_avg", "acc_delta"}

    def _update(self, g, index, param, grad):
        state = self._state_of(param, ("square_avg", "acc_delta"))
        self._advance(state)   # counted, as torch does; the update does not use it
        backend(param.device).kernels.adadelta_step(
            param._array, grad, state["square_avg"]._array, state["acc_delta"]._array, g["lr"],
            g["rho"], g["eps"], g["weight_decay"], g["maximize"])
