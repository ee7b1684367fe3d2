"""Device dispatch: the one place where "cpu" or "cuda" picks a kernel table.

`backend(device).kernels` is that device's table from gpucnn.kernels (kernels.CPU holds the
@njit twins, kernels.CUDA the CUDA launchers) with each op as an attribute, so an op reads
`self.kernels.conv2d_forward(x, w, b, ...)` and the name leads to the kernel module's OPS
table. Ops never see thread blocks; kernels never see tensors. The array helpers below are
the rest of what differs between the devices.
"""
import numpy as np

from . import kernels, process_settings
from .kernels import map_ops


class KernelTable:
    """One device's kernels as attributes: table.relu_forward is kernels.CPU["relu_forward"]."""

    def __init__(self, device: str, table: dict):
        self.device = device
        self.__dict__.update(table)

    def __getattr__(self, name):  # only reached for a name the table lacks
        raise AttributeError(f"no kernel {name!r} for device {self.device!r} (see the OPS "
                             f"tables in gpucnn.kernels)")


class Backend:
    """The kernel table and the array helpers of one device."""

    def __init__(self, device: str):
        self.device = device
        self._kernels = None

    @property
    def kernels(self) -> KernelTable:
        if self._kernels is None:
            if self.device == "cpu":
                process_settings.before_cpu_kernels()
            self._kernels = KernelTable(self.device, kernels.CPU if self.device == "cpu"
                                        else kernels.CUDA)
        return self._kernels

    def empty(self, shape, dtype=np.float32):
        if self.device == "cpu":
            return np.empty(shape, dtype)
        from numba import cuda
        return cuda.device_array(shape, dtype)

    def full(self, shape, value, dtype=np.float32):
        out = self.empty(shape, dtype)
        return self.kernels.unary(map_ops.U_FILL, out, out, value)

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
