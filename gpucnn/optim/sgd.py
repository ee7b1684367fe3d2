"""SGD, with momentum, dampening, Nesterov momentum, weight decay and maximize: torch.optim.SGD.

State per parameter: "momentum_buffer" (only when momentum != 0; torch's SGD counts no steps).
The first step with momentum starts the buffer at the gradient itself, as torch does.
"""
from ..backend import backend
from ..tensor import Tensor
from .optimizer import Optimizer, flag, number


class SGD(Optimizer):
    state_names = ("momentum_buffer",)
    counts_steps = False

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize, "foreach": foreach,
                                  "differentiable": differentiable, "fused": fused})

    def _check(self, g):
        checked = {"lr": number("SGD", "learning rate", g["lr"]),
                   "momentum": number("SGD", "momentum", g["momentum"]),
                   "dampening": number("SGD", "dampening", g["dampening"], low=-float("inf")),
                   "weight_decay": number("SGD", "weight_decay", g["weight_decay"]),
                   "nesterov": flag("SGD", "nesterov", g["nesterov"]),
                   "maximize": flag("SGD", "maximize", g["maximize"])}
        if checked["nesterov"] and (checked["momentum"] <= 0 or checked["dampening"] != 0):
            raise ValueError(f"SGD: nesterov momentum requires a momentum > 0 and zero "
                             f"dampening (got momentum {checked['momentum']}, dampening "
                             f"{checked['dampening']})")
        return checked

    def _required_state(self, group):
        return {"momentum_buffer"} if group["momentum"] != 0 else set()

    def _update(self, g, index, param, grad):
        device = backend(param.device)
        buf, first = grad, False   # with momentum 0 the kernel never touches buf
        if g["momentum"] != 0:
            state = self.state[param]
            first = "momentum_buffer" not in state
            if first:   # the kernel writes it whole: buf = g
                state["momentum_buffer"] = Tensor._from_array(
                    device.empty(tuple(param.shape)), param.device)
            buf = state["momentum_buffer"]._array
        device.kernels.sgd_step(param._array, grad, buf, g["lr"], g["momentum"],
                                g["weight_decay"], g["nesterov"], first,
                                dampening=g["dampening"], maximize=g["maximize"])
