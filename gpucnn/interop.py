"""Zero-copy exchange with CuPy, PyTorch and NumPy.

"cuda" tensors expose `__cuda_array_interface__`, so `cupy.asarray(t)` and
`torch.as_tensor(t, device="cuda")` view the same memory. `gpucnn.from_dlpack(obj)` takes any
object with `__cuda_array_interface__` or `__dlpack__` (a PyTorch tensor, a CuPy or NumPy array)
without copying; `Tensor.__dlpack__` makes a gpucnn tensor usable by `torch.from_dlpack`
(on "cuda" this goes through CuPy, which must be installed).
"""
import numpy as np
from numba import cuda

_DLPACK_CPU, _DLPACK_CUDA = 1, 2


def device_array_from(obj):
    return cuda.as_cuda_array(obj)


def cuda_array_interface(obj):
    """obj's __cuda_array_interface__, or None. Not hasattr: a CUDA torch tensor that requires
    grad raises RuntimeError from that property instead of answering."""
    try:
        return getattr(obj, "__cuda_array_interface__", None)
    except (AttributeError, RuntimeError, TypeError):
        return None


def _check_contiguous(array):
    contiguous = array.flags.c_contiguous if isinstance(array, np.ndarray) \
        else array.is_c_contiguous()
    if not contiguous:
        raise ValueError(f"from_dlpack: zero-copy import needs C-contiguous data, got shape "
                         f"{tuple(array.shape)} with strides {tuple(array.strides)}; call "
                         f".contiguous() on it first")


def _check_dtype(array):
    if np.dtype(array.dtype) not in (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.int32),
                                     np.dtype(np.bool_)):
        raise TypeError(f"from_dlpack: zero-copy import needs float32, int64, int32 or bool data, got "
                        f"{np.dtype(array.dtype)} with shape {tuple(array.shape)}; convert first")


def shared_array(obj):
    """(array, device) sharing memory with `obj` (no copy): what gpucnn.from_dlpack wraps."""
    if cuda_array_interface(obj) is not None:
        array = device_array_from(obj)
        _check_dtype(array)
        _check_contiguous(array)
        return array, "cuda"
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(obj).__name__} has neither __dlpack__ nor "
                        f"__cuda_array_interface__")
    device_type = obj.__dlpack_device__()[0]
    if device_type == _DLPACK_CPU:
        array = np.from_dlpack(obj)
        device = "cpu"
    elif device_type == _DLPACK_CUDA:
        import cupy  # optional: only DLPack from the GPU needs it
        array = device_array_from(cupy.from_dlpack(obj))
        device = "cuda"
    else:
        raise TypeError(f"from_dlpack: unsupported DLPack device type {device_type}")
    _check_dtype(array)
    _check_contiguous(array)
    return array, device


def to_dlpack_capable(tensor):
    """An object sharing the tensor's memory that implements the DLPack protocol."""
    if tensor.device == "cpu":
        return tensor._array
    try:
        import cupy  # optional: only DLPack export from the GPU needs it
    except ImportError:
        raise RuntimeError("Tensor.__dlpack__ on 'cuda' needs CuPy (pip install gpucnn[gpu]); "
                           "__cuda_array_interface__ works without it") from None
    return cupy.asarray(tensor._array)
