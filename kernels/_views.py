"""Strided views of NumPy arrays and numba device arrays: the one place that builds them.

A view shares its array's memory and reads it with its own shape, strides (in elements, never
negative; zero repeats an element, which is how broadcasting and expand work) and element
offset. The engine's view ops (transpose, expand, basic indexing, squeeze) and the elementwise
kernels' layout logic (coalescing dims, cutting a high-rank array into 4-D pieces) build every
view here, for both kinds of array and for the simulator's stand-in for device arrays.

    as_strided(array, shape, strides, offset=0)   a view of `array`'s memory
    element_strides(array)                         its strides in elements
    data_pointer(array)                            the address of its first element
    coalesce(shape, *stride_lists)                 merge dims every array walks contiguously
"""
import numpy as np


class _Interface:
    """Holds an __array_interface__ and the array whose memory it describes (keeps it alive)."""

    def __init__(self, interface, owner):
        self.__array_interface__ = interface
        self.owner = owner


def _is_simulated(array) -> bool:
    return hasattr(array, "_ary")   # numba's CUDA simulator wraps a NumPy array as _ary


def data_pointer(array) -> int:
    """The address of the array's first element (host or device memory)."""
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0]
    if _is_simulated(array):
        return array._ary.__array_interface__["data"][0]
    return array.__cuda_array_interface__["data"][0]


def element_strides(array) -> tuple:
    itemsize = np.dtype(array.dtype).itemsize
    return tuple(int(s) // itemsize for s in array.strides)


def as_strided(array, shape, strides, offset=0):
    """A view of `array`'s memory: element (i0, i1, ...) of the view is the element at
    offset + sum(i_k * strides[k]) counted from `array`'s first element."""
    shape, strides = tuple(int(s) for s in shape), tuple(int(s) for s in strides)
    if len(shape) != len(strides) or min(strides, default=0) < 0 or offset < 0:
        raise ValueError(f"as_strided: shape {shape}, strides {strides}, offset {offset}")
    itemsize = np.dtype(array.dtype).itemsize
    if isinstance(array, np.ndarray):
        return _numpy_view(array, shape, strides, offset, itemsize)
    if _is_simulated(array):
        return type(array)(_numpy_view(array._ary, shape, strides, offset, itemsize))
    from numba.cuda.cudadrv.devicearray import DeviceNDArray
    data = array.gpu_data.view(offset * itemsize) if offset else array.gpu_data
    return DeviceNDArray(shape, tuple(s * itemsize for s in strides), array.dtype,
                         gpu_data=data, stream=array.stream)


def _numpy_view(array, shape, strides, offset, itemsize):
    interface = dict(array.__array_interface__)
    pointer, read_only = interface["data"]
    interface.update(data=(pointer + offset * itemsize, read_only), shape=shape,
                     strides=tuple(s * itemsize for s in strides))
    interface.pop("mask", None)
    view = np.asarray(_Interface(interface, array))
    if not array.flags.writeable:
        view.flags.writeable = False
    return view


def coalesce(shape, *stride_lists):
    """(shape, stride lists) with size-1 dims dropped and every pair of neighbouring dims
    merged where all the arrays step through them as through one (stride[i] == shape[i+1] *
    stride[i+1] for each). Loops then run over as few, as long dims as the layout allows."""
    dims = [(n, [strides[i] for strides in stride_lists]) for i, n in enumerate(shape) if n != 1]
    merged = []
    for n, strides in dims:
        if merged:
            m, outer = merged[-1]
            if all(o == s * n for o, s in zip(outer, strides)):
                merged[-1] = (m * n, strides)
                continue
        merged.append((n, strides))
    if not merged:
        return (1,), [(0,) for _ in stride_lists]
    new_shape = tuple(n for n, _ in merged)
    return new_shape, [tuple(strides[k] for _, strides in merged)
                       for k in range(len(stride_lists))]
