"""gpucnn: a readable CNN engine with hand-written numba.cuda kernels and @njit CPU twins.

    import gpucnn as gc
    import gpucnn.nn.functional as F
    x = gc.tensor(images, device="cuda")
"""
__version__ = "0.1.0"

import os as _os

if "NUMBA_THREADING_LAYER" not in _os.environ:
    # numba's default OpenMP layer and OpenBLAS (which the CPU convolutions call) each keep
    # threads spinning after their work; on a 2-core machine they starve each other and a
    # LeNet step took 1.2 s instead of 6 ms. The workqueue layer sleeps its threads. It must
    # be chosen before the first parallel kernel runs; NUMBA_THREADING_LAYER overrides it.
    import numba as _numba
    _numba.config.THREADING_LAYER = "workqueue"

from . import kernels  # noqa: F401  (gpucnn.kernels: the kernel layer)
from . import cuda, nn, optim  # noqa: F401
from .autograd import is_grad_enabled, no_grad  # noqa: F401
from .gradcheck import GradcheckError, gradcheck  # noqa: F401
from .interop import from_dlpack  # noqa: F401
from .random import manual_seed  # noqa: F401
from .serialization import load, save  # noqa: F401
from .tensor import Tensor, tensor  # noqa: F401
