"""Adagrad, with learning-rate decay, weight decay and maximize: torch.optim.Adagrad.

State per parameter: "step" and "sum". As in torch, the state of the constructor's parameters
is made at construction (step 0, sum = initial_accumulator_value), that of parameters added
later at their first step; both take initial_accumulator_value from the optimizer's defaults,
not from the group (torch's rule, kept so that the updates match).
"""
from ..backend import backend
from .optimizer import Optimizer, flag, number


class Adagrad(Optimizer):
    state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps,
                                  "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable, "fused": fused})
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param)

    def _check(self, g):
        return {"lr": number("Adagrad", "learning rate", g["lr"]),
                "lr_decay": number("Adagrad", "lr_decay", g["lr_decay"]),
                "eps": number("Adagrad", "eps", g["eps"]),
                "weight_decay": number("Adagrad", "weight_decay", g["weight_decay"]),
                "initial_accumulator_value": number("Adagrad", "initial_accumulator_value",
                                                    g["initial_accumulator_value"]),
                "maximize": flag("Adagrad", "maximize", g["maximize"])}

    def _init_state(self, param):
        state = self.state[param]
        state["step"] = self._new_step()
        state["sum"] = self._zeros(param, float(self.defaults["initial_accumulator_value"]))

    def _required_state(self, group):
        return {"step", "sum"}

    def _update(self, g, index, param, grad):
        if not self.state[param]:
            self._init_state(param)
        state = self.state[param]
        step = self._advance(state)
        backend(param.device).kernels.adagrad_step(
            param._array, grad, state["sum"]._array, g["lr"], g["lr_decay"], g["weight_decay"],
            g["eps"], step, g["maximize"])
