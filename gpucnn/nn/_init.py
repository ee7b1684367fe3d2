"""PyTorch's default initialisation of the layers' parameters."""
from .. import random
from ..factories import from_numpy
from .parameter import Parameter


def uniform_parameter(shape, bound) -> Parameter:
    """PyTorch's default init, U(-bound, bound), drawn in float32 into the parameter itself."""
    return Parameter(from_numpy(random.uniform(shape, -bound, bound)))
