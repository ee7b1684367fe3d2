"""cblas_sgemm from NumPy's own BLAS, callable from inside @njit code.

The per-image convolutions (conv2d_cpu_per_image.py) multiply inside their parallel loops.
numba's own np.dot would do, but it calls SciPy's copy of OpenBLAS, measured 15-50% slower on
these shapes than the copy NumPy links (an older release), and it has no beta (accumulate) or
leading-dimension arguments. So this module finds cblas_sgemm in the BLAS NumPy loaded and
hands it to the kernels as a ctypes function: passed as an argument, not read as a global, so
numba can still cache the compiled kernels on disk.

    fn = sgemm_function()        # None when no cblas_sgemm was found
    gemm(fn, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc)   # in @njit code:
        c[:m, :n] = op(a) @ op(b) + beta * c, row-major, with leading dimensions lda/ldb/ldc
"""
import ctypes
import os

import numpy as np
from numba import njit

from ._blas import blas_libraries

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112

# Exported names, newest packaging first, and the width of their integer arguments.
_SYMBOLS = (("scipy_cblas_sgemm64_", ctypes.c_int64),   # NumPy >= 2 wheels (scipy-openblas64)
            ("cblas_sgemm64_", ctypes.c_int64),
            ("scipy_cblas_sgemm", ctypes.c_int32),
            ("cblas_sgemm", ctypes.c_int32))            # reference CBLAS, MKL, Accelerate

_found = None


def _prototype(integer):
    enum, real, pointer = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
    return ctypes.CFUNCTYPE(None, enum, enum, enum, integer, integer, integer, real, pointer,
                            integer, pointer, integer, real, pointer, integer)


def _numpy_blas_paths():
    """Paths of the loaded BLAS libraries, NumPy's own first."""
    paths = [lib.filepath for lib in blas_libraries()]
    # Wheels keep NumPy's copy in numpy.libs (or numpy/.dylibs), SciPy's in scipy.libs.
    return sorted(paths, key=lambda path: "numpy" not in os.path.dirname(path))


def sgemm_function():
    """cblas_sgemm of NumPy's BLAS as a ctypes function, or None if none could be found."""
    global _found
    if _found is None:
        _found = (None,)
        for path in _numpy_blas_paths():
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            for symbol, integer in _SYMBOLS:
                if hasattr(library, symbol):
                    _found = (_prototype(integer)((symbol, library)),)
                    break
            if _found[0] is not None:
                break
    return _found[0]


@njit(inline="always")
def gemm(fn, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """c = op(a) @ op(b) + beta*c for the row-major matrices starting at a[0], b[0], c[0]."""
    fn(ROW_MAJOR, TRANS if trans_a else NO_TRANS, TRANS if trans_b else NO_TRANS, m, n, k,
       np.float32(1.0), a.ctypes, lda, b.ctypes, ldb, np.float32(beta), c.ctypes, ldc)
