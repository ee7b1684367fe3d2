"""gpucnn: a readable CNN engine with hand-written numba.cuda kernels and @njit CPU twins.

    import gpucnn as gc
    import gpucnn.nn.functional as F
    x = gc.tensor(images, device="cuda")
"""
__version__ = "0.1.0"

from . import kernels  # noqa: F401  (gpucnn.kernels: the kernel layer)
from . import cuda, nn, optim  # noqa: F401
from .autograd import is_grad_enabled, no_grad  # noqa: F401
from .gradcheck import GradcheckError, gradcheck  # noqa: F401
from .interop import from_dlpack  # noqa: F401
from .random import manual_seed  # noqa: F401
from .serialization import load, save  # noqa: F401
from .tensor import Tensor, tensor  # noqa: F401
