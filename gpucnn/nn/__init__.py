"""gpucnn.nn: Module, layers and the functional API."""
from . import functional  # noqa: F401
from .layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential  # noqa: F401
from .module import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
