"""PyTorch's default initialisation of the layers' parameters, and the factory arguments
(device=, dtype=) every layer with parameters or buffers takes."""
import numpy as np

from .. import dtypes, random
from ..autograd import no_grad
from ..devices import resolve as resolve_device
from ..factories import empty, from_numpy
from .parameter import Parameter


def factory_device(layer: str, device, dtype):
    """The device a layer makes its parameters and buffers on, from torch's factory
    arguments; a dtype other than float32 (or None) is a TypeError naming the layer."""
    if dtype is not None and dtypes.resolve(dtype, layer) is not dtypes.float32:
        raise TypeError(f"{layer}: dtype {dtypes.resolve(dtype, layer).name} is not "
                        f"supported; gpucnn layers are float32")
    return resolve_device(device)


def empty_parameter(shape, device) -> Parameter:
    """An uninitialised float32 parameter (reset_parameters() fills it, as in torch)."""
    return Parameter(empty(shape, device=device))


def uniform_fill_(param, bound):
    """PyTorch's default init, U(-bound, bound), drawn in float32 from the host generator
    (gpucnn.manual_seed seeds it) into the parameter: straight into its memory on the CPU,
    through one host array on a GPU."""
    with no_grad():
        array = param._array
        if isinstance(array, np.ndarray) and array.flags.c_contiguous and \
                array.flags.writeable:
            random.fill_uniform(array, -bound, bound)
            param._version.value += 1   # an in-place change, as copy_ would count it
        else:
            param.copy_(from_numpy(random.uniform(tuple(param.shape), -bound, bound)))
    return param


def uniform_parameter(shape, bound) -> Parameter:
    """A new CPU parameter drawn as uniform_fill_ draws (for layers that make theirs whole)."""
    return Parameter(from_numpy(random.uniform(shape, -bound, bound)))
