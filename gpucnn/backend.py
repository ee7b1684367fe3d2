"""Device dispatch: the one place where "cpu" or "cuda" picks a kernel.

Ops ask `backend(device)` for a kernel by its op name (`conv2d_forward`) and get the `@njit`
CPU twin or the CUDA launcher from gpucnn.kernels. Ops never see thread blocks; kernels never
see tensors.
"""
import numpy as np

from . import kernels

DEVICES = ("cpu", "cuda")
_KERNEL_MODULES = (kernels.conv2d, kernels.max_pool2d, kernels.matmul, kernels.elementwise,
                   kernels.softmax_xent, kernels.optim, kernels.broadcast)


def normalize_device(device) -> str:
    if device is None:
        return "cpu"
    name = str(device)
    if name.startswith("cuda"):
        name = "cuda"
    if name not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected one of {DEVICES}")
    if name == "cuda":
        from . import cuda
        cuda.ensure_available()
    return name


class Backend:
    """Kernel table and array helpers for one device."""

    def __init__(self, device: str):
        self.device = device
        self._suffix = "cpu" if device == "cpu" else "cuda"

    def __getattr__(self, op_name):
        # Resolved once per name, then cached on the instance.
        for module in _KERNEL_MODULES:
            fn = getattr(module, f"{op_name}_{self._suffix}", None)
            if fn is not None:
                setattr(self, op_name, fn)
                return fn
        raise AttributeError(f"no kernel {op_name!r} for device {self.device!r}")

    # --- array helpers -------------------------------------------------------------------
    def empty(self, shape, dtype=np.float32):
        if self.device == "cpu":
            return np.empty(shape, dtype)
        from numba import cuda
        return cuda.device_array(shape, dtype)

    def full(self, shape, value, dtype=np.float32):
        out = self.empty(shape, dtype)
        self.fill(flat(out), value)
        return out

    def from_host(self, array: np.ndarray):
        array = np.require(array, None, "C")
        if self.device == "cpu":
            return array
        from numba import cuda
        return cuda.to_device(array)

    def copy_from_host(self, dst, host):
        """dst[...] = host, into dst's own memory (dst contiguous, host any array-like)."""
        host = np.ascontiguousarray(host, dtype=dst.dtype)
        if self.device == "cpu":
            np.copyto(dst, host)
        else:
            dst.copy_to_device(host)

    def to_host(self, array) -> np.ndarray:
        if isinstance(array, np.ndarray):
            return array
        return array.copy_to_host()


def flat(array):
    """1-D view of a contiguous array (NumPy or device), for elementwise kernels."""
    return array.reshape(array.size)


_BACKENDS = {}


def backend(device: str) -> Backend:
    if device not in _BACKENDS:
        _BACKENDS[device] = Backend(device)
    return _BACKENDS[device]
