"""gpucnn: a readable CNN engine with hand-written numba.cuda kernels and @njit CPU twins.

    import gpucnn as gc
    import gpucnn.nn.functional as F
    x = gc.tensor(images, device="cuda")
"""
__version__ = "0.1.0"

from . import process_settings as _process_settings

# The one setting that must precede NumPy's import (see gpucnn/process_settings.py).
_process_settings.prefer_avx512_blas()

from . import kernels  # noqa: E402,F401  (gpucnn.kernels: the kernel layer)
from . import cuda, nn, optim  # noqa: E402,F401
from .autograd import is_grad_enabled, no_grad  # noqa: E402,F401
from .gradcheck import GradcheckError, gradcheck  # noqa: E402,F401
from .random import manual_seed  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401
from .tensor import Tensor, from_dlpack, from_numpy, tensor  # noqa: E402,F401
