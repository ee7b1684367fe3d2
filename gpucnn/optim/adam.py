"""Adam, with amsgrad, maximize, and coupled (L2) or decoupled (AdamW) weight decay:
torch.optim.Adam.

State per parameter: "step" (a float32 count), "exp_avg", "exp_avg_sq" and, with amsgrad,
"max_exp_avg_sq", all made at the parameter's first step. The bias corrections depend on the
step alone and are computed on the host, as torch does.
"""
from ..backend import backend
from .optimizer import Optimizer, flag, number


class Adam(Optimizer):
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize, "foreach": foreach,
                                  "capturable": capturable, "differentiable": differentiable,
                                  "fused": fused,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def _check(self, g):
        name = type(self).__name__
        betas = g["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair, got {betas!r}")
        return {"lr": number(name, "learning rate", g["lr"]),
                "betas": tuple(number(name, f"betas[{i}]", b, 0.0, 1.0, high_open=True)
                               for i, b in enumerate(betas)),
                "eps": number(name, "eps", g["eps"]),
                "weight_decay": number(name, "weight_decay", g["weight_decay"]),
                "amsgrad": flag(name, "amsgrad", g["amsgrad"]),
                "maximize": flag(name, "maximize", g["maximize"]),
                "decoupled_weight_decay": flag(name, "decoupled_weight_decay",
                                               g["decoupled_weight_decay"])}

    def _required_state(self, group):
        needed = {"step", "exp_avg", "exp_avg_sq"}
        return needed | {"max_exp_avg_sq"} if group["amsgrad"] else needed

    def _update(self, g, index, param, grad):
        state = self._state_of(param, ("exp_avg", "exp_avg_sq")
                               + (("max_exp_avg_sq",) if g["amsgrad"] else ()))
        step = self._advance(state)
        beta1, beta2 = g["betas"]
        max_exp_avg_sq = self._buffer(state, "max_exp_avg_sq", index) if g["amsgrad"] else None
        backend(param.device).kernels.adam_step(
            param._array, grad, state["exp_avg"]._array, state["exp_avg_sq"]._array, g["lr"],
            beta1, beta2, g["eps"], g["weight_decay"], step, max_exp_avg_sq=max_exp_avg_sq,
            maximize=g["maximize"], decoupled_weight_decay=g["decoupled_weight_decay"])
