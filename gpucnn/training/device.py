"""Choosing the device once, for the whole command."""
import contextlib

from .. import cuda
from .errors import UserError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> str:
    """"auto" -> "cuda" when a GPU is present, else "cpu"; "cuda" without a GPU is an error."""
    if name == "auto":
        return "cuda" if cuda.is_available() else "cpu"
    if name == "cuda" and not cuda.is_available():
        raise UserError("--device cuda: no CUDA GPU is available (numba finds no driver or "
                        "device); use --device cpu or --device auto")
    if name not in ("cpu", "cuda"):
        raise UserError(f"--device must be one of {', '.join(DEVICE_CHOICES)}, got {name!r}")
    return name


@contextlib.contextmanager
def cpu_threads(threads: int):
    """Run the block with `threads` threads for numba's parallel CPU kernels and one for BLAS.

    The CPU twins alternate numba parallel loops (im2col, layout changes) with BLAS calls. Both
    libraries keep a pool of threads that spin for a while after each call, so with both at
    the core count they fight over the cores: on a 2-core machine with other work running, a
    LeNet-5 step took 250-940 ms that way against 3-5 ms with one thread each. BLAS
    therefore always gets one thread here, numba `threads`.
    """
    import numba
    if threads < 1:
        raise UserError(f"--threads must be >= 1, got {threads}")
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # scikit-learn brings it; without it BLAS keeps its own setting
            yield
            return
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(previous)
