"""How a DataLoader turns the indices of one batch into the batch.

Map-style datasets: dataset.__getitems__(indices) when the dataset has it, else
[dataset[i] for i in indices], then collate_fn (as torch's fetcher). One shortcut, taken only
where it gives exactly what that path would: with the default collation, a TensorDataset (or a
Subset of one, at any depth) whose reading methods are not overridden is read with one gather
per tensor (kernels/index.py) on the tensor's device, with the row offsets computed on the
host: [t[indices] for t in tensors] instead of batch_size views stacked together. The result
has no autograd history, so tensors that require grad take the ordinary path.

Iterable datasets: the next batch_size samples of the stream (or one sample without
batching), then collate_fn; the stream ending stops the pass.
"""
import math

import numpy as np

from ...backend import backend
from ...kernels import _views
from ...ops import _arrays as A
from ...tensor import Tensor
from .collate import default_collate
from .dataset import Subset, TensorDataset

# The gather kernel walks a row pattern of at most this many dims (after coalescing); tensors
# with more take the per-sample path rather than a copy of the whole tensor per batch.
MAX_REST_DIMS = 4


def tensor_dataset_under(dataset):
    """(TensorDataset, [Subset, ...] from the outermost in) when `dataset` is a TensorDataset
    or Subsets of one, none of them reading samples their own way; else None."""
    chain = []
    while type(dataset) is not TensorDataset:
        if not isinstance(dataset, Subset) or type(dataset).__getitem__ is not Subset.__getitem__ \
                or type(dataset).__getitems__ is not Subset.__getitems__:
            return None
        chain.append(dataset)
        dataset = dataset.dataset
    if any(t.requires_grad or len(_rest_pattern(t._array)[0]) > MAX_REST_DIMS
           for t in dataset.tensors):
        return None
    return dataset, chain


def _rest_pattern(array):
    """(shape, element strides) of one row of `array` (its dims after the first), coalesced."""
    shape, (strides,) = _views.coalesce(tuple(array.shape[1:]), A.strides(array)[1:])
    return shape, strides


def gather_rows(tensor: Tensor, rows: np.ndarray) -> Tensor:
    """tensor[rows] for int64 rows already checked to lie in [0, len(tensor)): one gather
    kernel on the tensor's device, reading any strides in place (a row pattern of at most
    MAX_REST_DIMS dims)."""
    array = tensor._array
    shape = tuple(array.shape)
    result_shape = (rows.size,) + shape[1:]
    kernels = tensor._kernels
    if rows.size == 0 or math.prod(shape[1:]) == 0:
        return Tensor._from_array(A.empty(kernels, result_shape, array.dtype), tensor.device)
    strides = A.strides(array)
    rest_shape, rest_strides = _rest_pattern(array)
    extent = 1 + sum((size - 1) * stride for size, stride in zip(shape, strides))
    storage = A.view(array, (extent,), (1,))
    offsets = backend(tensor.device).from_host(rows * np.int64(strides[0]))
    out = A.empty(kernels, (rows.size,) + tuple(rest_shape), array.dtype)
    kernels.gather(storage, offsets, rest_shape, rest_strides, out)
    return Tensor._from_array(A.reshape_contiguous(out, result_shape), tensor.device)


def checked_rows(indices, n: int) -> np.ndarray:
    """indices as int64 rows in [0, n), negative ones counted from the end; IndexError
    (torch's message) for any outside [-n, n)."""
    rows = np.asarray(indices, dtype=np.int64).reshape(-1)
    if rows.size:
        low, high = int(rows.min()), int(rows.max())
        bad = low if low < -n else high if high >= n else None
        if bad is not None:
            raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {n}")
        if low < 0:
            rows = np.where(rows < 0, rows + n, rows)
    return rows


def gathered_batch(found, indices) -> list:
    """The default-collated batch of a TensorDataset (under Subsets) at `indices`."""
    dataset, chain = found
    for subset in chain:
        indices = [subset.indices[i] for i in indices]
    rows = checked_rows(indices, len(dataset))
    return [gather_rows(t, rows) for t in dataset.tensors]


class MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation = dataset, auto_collation
        self.collate_fn, self.drop_last = collate_fn, drop_last
        self.gatherable = tensor_dataset_under(dataset) \
            if auto_collation and collate_fn is default_collate else None

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            if self.gatherable is not None:
                return gathered_batch(self.gatherable, possibly_batched_index)
            getitems = getattr(self.dataset, "__getitems__", None)
            if callable(getitems):
                data = getitems(possibly_batched_index)
            else:
                data = [self.dataset[i] for i in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class IterableDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)
