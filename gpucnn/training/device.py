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
    """Run the block with `threads` CPU threads for the kernels: numba's parallel loops and the
    split BLAS products both follow numba's thread count (BLAS itself runs one thread per
    call; see gpucnn/kernels/_blas.py)."""
    import numba
    if threads < 1:
        raise UserError(f"--threads must be >= 1, got {threads}")
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(previous)
