"""gpucnn: a readable CNN engine with hand-written numba.cuda kernels and @njit CPU twins.

    import gpucnn as gc
    import gpucnn.nn.functional as F
    x = gc.tensor(images, device="cuda")
"""
__version__ = "0.1.0"

import os as _os

# CPU threads. The CPU twins alternate numba parallel loops with BLAS products. Two thread
# pools that spin while idle starve each other on a small machine (a LeNet-5 step took 1.2 s
# instead of 4 ms on 2 cores), so the products run on one BLAS thread (kernels/_blas.py) and
# numba's OpenMP workers spin only briefly before sleeping. numba's "workqueue" layer never
# spins but costs about 100 us per parallel loop, more than most of a small step's loops.
# GOMP_SPINCOUNT is read when numba first starts its threads; a value set by the user wins.
_os.environ.setdefault("GOMP_SPINCOUNT", "20000")

from . import kernels  # noqa: F401  (gpucnn.kernels: the kernel layer)
from . import cuda, nn, optim  # noqa: F401
from .autograd import is_grad_enabled, no_grad  # noqa: F401
from .gradcheck import GradcheckError, gradcheck  # noqa: F401
from .interop import from_dlpack  # noqa: F401
from .random import manual_seed  # noqa: F401
from .serialization import load, save  # noqa: F401
from .tensor import Tensor, tensor  # noqa: F401
