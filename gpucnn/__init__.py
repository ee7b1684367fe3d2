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


def _prefer_avx512_blas():
    """Ask OpenBLAS for its AVX-512 kernels where the CPU has them.

    OpenBLAS's run-time detection picks its AVX2 ("Haswell") kernels on some AVX-512 CPUs
    (AMD Zen 4 under a hypervisor, measured here), halving the CPU convolutions' speed. The
    choice is read when NumPy loads OpenBLAS, so it only takes effect when gpucnn is imported
    before NumPy (always so for the `gpucnn` command); OPENBLAS_CORETYPE set by the user wins.
    """
    import sys
    if "numpy" in sys.modules or "OPENBLAS_CORETYPE" in _os.environ:
        return
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= set(flags):
        _os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"


_prefer_avx512_blas()

from . import allocator as _allocator  # noqa: E402

_allocator.keep_freed_memory()

from . import kernels  # noqa: F401  (gpucnn.kernels: the kernel layer)
from . import cuda, nn, optim  # noqa: F401
from .autograd import is_grad_enabled, no_grad  # noqa: F401
from .gradcheck import GradcheckError, gradcheck  # noqa: F401
from .interop import from_dlpack  # noqa: F401
from .random import manual_seed  # noqa: F401
from .serialization import load, save  # noqa: F401
from .tensor import Tensor, tensor  # noqa: F401
