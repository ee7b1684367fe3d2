"""The CPU twins' matrix products: BLAS on one thread per worker.

The CPU twins alternate numba parallel loops (im2col, col2im, layout changes) with BLAS calls.
OpenBLAS keeps its worker threads spinning for a while after each call, so on a small machine
they take the cores away from the numba loops that follow (a LeNet-5 step measured hundreds of
ms that way on 2 cores, against 4 ms without). So BLAS is set to one thread around each product
(and restored after it, so the user's own NumPy keeps its setting), and a large product is
split by output columns across a small pool of Python threads instead: np.matmul releases the
GIL, and an idle Python thread sleeps rather than spins. Kernels that call BLAS from inside
their own parallel loops (kernels/_cblas.py) run under single_threaded().
"""
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numba
import numpy as np

# Below this many multiply-adds a product is not worth waking a second thread (~20-50 us).
SPLIT_MIN_MACS = 4_000_000

_libraries = None
_pool = None
_pool_size = 0


def blas_libraries():
    global _libraries
    if _libraries is None:
        try:
            from threadpoolctl import ThreadpoolController
            _libraries = [lib for lib in ThreadpoolController().lib_controllers
                          if lib.user_api == "blas"]
        except Exception:  # no threadpoolctl, or a BLAS it cannot drive: leave BLAS as it is
            _libraries = []
    return _libraries


def _threads() -> int:
    """The products use as many threads as numba's parallel loops (numba.set_num_threads)."""
    return numba.get_num_threads()


def _thread_pool(workers):
    global _pool, _pool_size
    if _pool is None or _pool_size < workers - 1:
        _pool = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="gpucnn-blas")
        _pool_size = workers - 1
    return _pool


@contextmanager
def single_threaded():
    """BLAS on one thread within the block (the user's setting comes back after it)."""
    libraries = blas_libraries()
    previous = [lib.get_num_threads() for lib in libraries]
    for lib in libraries:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, threads in zip(libraries, previous):
            lib.set_num_threads(threads)


def matmul(a, b, out):
    """np.matmul(a, b, out=out) with single-threaded BLAS calls, split across the cores when
    the product is large. `out` must be given (the split writes column blocks of it)."""
    with single_threaded():
        columns, depth = out.shape[-1], a.shape[-1]
        workers = _threads()
        if out.size * depth < SPLIT_MIN_MACS or workers == 1:
            return np.matmul(a, b, out=out)
        if columns >= 64 * workers:
            _split(_columns, columns, a, b, out, workers)
        elif depth >= 256 * workers:
            # Few columns but a long reduction (a weight gradient summed over N*P*Q): each
            # thread reduces a slice into its own buffer; the buffers are added in a fixed
            # order, so the result does not depend on timing.
            partials = [out] + [np.empty_like(out) for _ in range(workers - 1)]
            _split(_depth, depth, a, b, partials, workers)
            for partial in partials[1:]:
                np.add(out, partial, out=out)
        else:
            np.matmul(a, b, out=out)
        return out


def _split(work, length, a, b, out, parts):
    bounds = [length * i // parts for i in range(parts + 1)]
    pool = _thread_pool(parts)
    futures = [pool.submit(work, a, b, out, part, bounds[part], bounds[part + 1])
               for part in range(1, parts)]
    work(a, b, out, 0, bounds[0], bounds[1])
    for future in futures:
        future.result()


def _columns(a, b, out, part, lo, hi):
    # Column blocks of b and out are strided views BLAS takes as they are (leading dimension).
    np.matmul(a, b[..., lo:hi], out=out[..., lo:hi])


def _depth(a, b, partials, part, lo, hi):
    np.matmul(a[..., lo:hi], b[..., lo:hi, :], out=partials[part])
