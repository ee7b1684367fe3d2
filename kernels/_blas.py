"""The CPU twins' matrix products: NumPy's BLAS, run on one BLAS thread.

The CPU twins alternate numba parallel loops (im2col, col2im, layout changes) with BLAS calls.
OpenBLAS keeps its worker threads spinning for a while after each call, so on a small machine
they take the cores away from the numba loop that follows (a LeNet-5 step measured 20 ms with
both pools at 2 threads on a loaded 2-core machine, 6-7 ms with one BLAS thread, and up to
hundreds of ms under heavier load). The BLAS thread count is set to 1 around each product and
restored after it, so the user's own NumPy keeps its setting; through threadpoolctl's library
handles that costs about a microsecond.
"""
import numpy as np

_libraries = None


def _blas_libraries():
    global _libraries
    if _libraries is None:
        try:
            from threadpoolctl import ThreadpoolController
            _libraries = [lib for lib in ThreadpoolController().lib_controllers
                          if lib.user_api == "blas"]
        except Exception:  # no threadpoolctl, or a BLAS it cannot drive: leave BLAS as it is
            _libraries = []
    return _libraries


def matmul(a, b, out=None):
    """np.matmul(a, b, out=out) on a single BLAS thread."""
    libraries = _blas_libraries()
    previous = [lib.get_num_threads() for lib in libraries]
    for lib in libraries:
        lib.set_num_threads(1)
    try:
        return np.matmul(a, b, out=out)
    finally:
        for lib, threads in zip(libraries, previous):
            lib.set_num_threads(threads)
