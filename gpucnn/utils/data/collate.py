"""Collation: a list of samples into one batch, by torch's default_collate rules.

    default_collate(batch)   samples -> batch (what a DataLoader with batch_size does)
    default_convert(data)    one sample's NumPy arrays -> tensors (batch_size=None)
    collate(batch, collate_fn_map=...)   the recursion both use, with a table of element types

Element type -> batch:
    gpucnn Tensor          gpucnn.stack(batch), on the samples' device ("cuda" samples give a
                           "cuda" batch)
    NumPy array            stacked on the host, then a tensor (as gpucnn.as_tensor: float32,
                           int64, int32 and bool kept; other floats float32, other ints int64)
    NumPy scalar           a tensor of the values (same dtype rule)
    int (and bool)         an int64 (bool) tensor
    float                  a float32 tensor. torch makes float64; gpucnn computes in float32
                           only, so float32 is what it can make
    str, bytes             the list itself
    Mapping                the same kind of mapping, each key collated
    namedtuple             the same namedtuple, each field collated
    tuple                  a list, each position collated (as torch, for compatibility)
    other Sequence         the same kind of sequence, each position collated; all samples must
                           have one length
Anything else raises TypeError.
"""
import collections.abc
import copy
import re

import numpy as np

from ...factories import as_tensor, tensor
from ...functions import stack
from ...tensor import Tensor

# NumPy dtypes that hold text or objects: no tensor can hold them.
_TEXT_OR_OBJECT = re.compile(r"[SaUO]")

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, "
                                  "numbers, dicts or lists; found {}")


def collate(batch, *, collate_fn_map=None):
    """Collate by the type of batch[0]: its entry in collate_fn_map (exact type first, then
    the first key it is an instance of), else the container rules, recursively."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
        except TypeError:   # a mapping type that cannot be built from a dict
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                    for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):   # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map)
                              for samples in transposed])
        except TypeError:   # a sequence type that cannot be built from a list
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if _TEXT_OR_OBJECT.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    shapes = {np.shape(b) for b in batch}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: stack expects each array to be equal size, but "
                           f"got shapes {sorted(shapes)}")
    # One host stack and one tensor: faster than a tensor per sample stacked on the device.
    return as_tensor(np.stack(batch))


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return as_tensor(np.array(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(list(batch))   # float32: gpucnn has no float64 (torch gives float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(list(batch))


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """A list of samples as one batch: tensors, arrays and numbers get a new first dimension
    (the batch), containers are collated position by position (see the module's table)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """One sample with its NumPy arrays and scalars made tensors, containers walked; anything
    else unchanged (the DataLoader's conversion when batch_size=None)."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and _TEXT_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):   # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
