"""gpucnn.nn: Module, the layers (one file per family, as torch.nn.modules), init, utils and
the functional API."""
from . import functional, init, utils  # noqa: F401
from .activation import (ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU,  # noqa: F401
                         Softmax, Tanh)
from .batchnorm import BatchNorm1d, BatchNorm2d, SyncBatchNorm  # noqa: F401
from .container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .conv import Conv2d  # noqa: F401
from .dropout import Dropout, Dropout2d  # noqa: F401
from .flatten import Flatten  # noqa: F401
from .linear import Identity, Linear  # noqa: F401
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss,  # noqa: F401
                   MSELoss, NLLLoss, SmoothL1Loss)
from .module import Buffer, Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
from . import parallel  # noqa: E402,F401  (after Module: DistributedDataParallel is one)
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d  # noqa: F401
