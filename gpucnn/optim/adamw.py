"""AdamW: Adam with decoupled weight decay (param *= 1 - lr * weight_decay before the
update), weight_decay 1e-2 by default: torch.optim.AdamW, which is torch's Adam with
decoupled_weight_decay=True. Every group decouples, also one loaded from a state dict, as in
torch."""
from .adam import Adam


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def _check(self, g):
        return {**super()._check(g), "decoupled_weight_decay": True}
