"""Broadcast one element of a device array into a whole array (the backward of a full sum).

Reading the scalar from a 1-element array keeps it on the device: the backward of `x.sum()`
never copies the incoming gradient to the host.
"""
import numpy as np
from numba import cuda, njit, prange

from ._checks import ceil_div, check_array, check_out
from ._registry import cuda_kernel

THREADS = 256


@cuda_kernel("void(float32[::1], float32[::1])")
def broadcast_scalar_kernel(src, out):
    value = src[0]
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for i in range(start, out.size, step):
        out[i] = value


@njit(parallel=True, cache=True)
def _broadcast_scalar_twin(src, out):
    value = src[0]
    for i in prange(out.size):
        out[i] = value


def _check(src, out, size):
    check_array("broadcast_scalar", "src", src, 1)
    if src.shape[0] != 1:
        raise ValueError(f"broadcast_scalar: src must hold one element, got shape {tuple(src.shape)}")
    if out is not None:
        check_out("broadcast_scalar", out, (size,))


def broadcast_scalar_cpu(src, size, out=None):
    """out[i] = src[0] for i < size; out is 1-D float32."""
    _check(src, out, size)
    out = np.empty(size, np.float32) if out is None else out
    _broadcast_scalar_twin(src, out)
    return out


def broadcast_scalar_cuda(src, size, out=None):
    _check(src, out, size)
    out = cuda.device_array(size, np.float32) if out is None else out
    blocks = max(1, min(ceil_div(size, THREADS), 1024))
    broadcast_scalar_kernel[blocks, THREADS](src, out)
    return out
