"""gpucnn.optim: torch.optim's optimizers and learning-rate schedulers, step for step.

    optimizer.py     Optimizer: parameter groups, state, zero_grad, state_dict / load_state_dict
    sgd.py           SGD (momentum, dampening, nesterov, weight decay, maximize)
    adam.py          Adam (amsgrad, maximize, coupled or decoupled weight decay)
    adamw.py         AdamW (Adam with decoupled weight decay)
    rmsprop.py       RMSprop (momentum, centered)
    adagrad.py       Adagrad (lr_decay, initial_accumulator_value)
    adadelta.py      Adadelta
    lr_scheduler.py  the learning-rate schedulers (StepLR, OneCycleLR, ReduceLROnPlateau, ...)
    state_arrays.py  a state_dict() as flat arrays + JSON, for gpucnn.save and checkpoints

The arithmetic of every update is one fused kernel per parameter in gpucnn.kernels.optim
(a CUDA kernel and its @njit CPU twin); these files keep the options and the state.
"""
from . import lr_scheduler  # noqa: F401
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
           "lr_scheduler"]
