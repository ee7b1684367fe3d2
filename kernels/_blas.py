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
# A long reduction (a weight gradient summed over N*P*Q) is cut into DEPTH_PARTS fixed chunks
# whose partial products are added in order. The cut follows the shapes alone, never the
# thread count, so the result is the same on 1 thread or 16 (threads share out the chunks).
DEPTH_PARTS = 8
DEPTH_SPLIT_MIN = 8 * 1024

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
        big = out.size * depth >= SPLIT_MIN_MACS
        if big and depth >= DEPTH_SPLIT_MIN and columns < 64 * max(workers, 2):
            # Few columns but a long reduction: DEPTH_PARTS partial products, each into its
            # own buffer, added in a fixed order.
            partials = [out] + [np.empty_like(out) for _ in range(DEPTH_PARTS - 1)]
            _split(_depth, depth, a, b, partials, DEPTH_PARTS, workers)
            for partial in partials[1:]:
                np.add(out, partial, out=out)
        elif big and workers > 1 and columns >= 64 * workers:
            # Column blocks: each output element is still one product, whoever computes it.
            _split(_columns, columns, a, b, out, workers, workers)
        else:
            np.matmul(a, b, out=out)
        return out


def _split(work, length, a, b, out, parts, workers):
    """work(..., part, lo, hi) for `parts` equal ranges of [0, length), spread over `workers`
    threads (the caller's among them)."""
    bounds = [length * i // parts for i in range(parts + 1)]

    def run(first, last):
        for part in range(first, last):
            work(a, b, out, part, bounds[part], bounds[part + 1])

    shares = [(parts * w // workers, parts * (w + 1) // workers) for w in range(workers)]
    pool = _thread_pool(workers) if workers > 1 else None
    futures = [pool.submit(run, *share) for share in shares[1:]] if pool else []
    run(*shares[0])
    for future in futures:
        future.result()


def _columns(a, b, out, part, lo, hi):
    # Column blocks of b and out are strided views BLAS takes as they are (leading dimension).
    np.matmul(a, b[..., lo:hi], out=out[..., lo:hi])


def _depth(a, b, partials, part, lo, hi):
    np.matmul(a[..., lo:hi], b[..., lo:hi, :], out=partials[part])
