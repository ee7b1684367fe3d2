"""Datasets as torch.utils.data has them: the map-style base class and its compositions.

    Dataset            dataset[i] -> one sample; len(dataset); dataset + other concatenates
    IterableDataset    iter(dataset) -> samples (a stream; no indexing)
    TensorDataset      sample i is (t[i] for each tensor t), tensors sharing their first dim
    Subset             the samples of a dataset at given indices
    ConcatDataset      datasets one after another
    ChainDataset       iterable datasets one after another
    random_split       a dataset cut into random non-overlapping Subsets (by counts or fractions)

A DataLoader over a TensorDataset (or a Subset of one) with the default collation reads each
batch with one gather per tensor, on the tensors' device (see fetch.py), rather than stacking
batch_size samples.
"""
import bisect
import itertools
import math
import numbers
import warnings
from typing import Generic, Iterable, TypeVar

from ...factories import randperm
from ...generator import checked as checked_generator
from ...tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map from keys (usually 0 .. len - 1) to samples: subclasses define __getitem__, and
    __len__ for the default samplers. They may define __getitems__(indices) -> list of samples
    to read a batch at once (the DataLoader calls it when present)."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A stream of samples: subclasses define __iter__. A DataLoader reads it in order (no
    sampler, no shuffle). gpucnn starts no worker processes, so get_worker_info() is None
    and the stream is read once, in the main process."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: "Dataset") -> "ChainDataset":
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple]):
    """Sample i is tuple(tensor[i] for tensor in tensors); the tensors (on any device, all
    with the same size of their first dimension) are kept, not copied."""

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        for position, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor):
                raise TypeError(f"TensorDataset: argument {position} must be a gpucnn Tensor, "
                                f"got {type(tensor).__name__} (gpucnn.as_tensor converts "
                                f"arrays)")
            if tensor.ndim == 0:
                raise ValueError(f"TensorDataset: argument {position} is a 0-d tensor; every "
                                 f"tensor needs a first dimension to index samples by")
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: size mismatch between tensors: their first "
                             f"dimensions differ (shapes {shapes})")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset[T_co]):
    """The samples of `datasets` one after another; index i falls in the dataset where the
    running total of lengths (`cumulative_sizes`) first exceeds it."""

    @staticmethod
    def cumsum(sequence):
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (use "
                                "ChainDataset)")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(f"ConcatDataset: absolute value of index {idx} should not "
                                 f"exceed dataset length {len(self)}")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        if dataset_idx == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for a dataset of "
                             f"length {len(self)}")
        return self.datasets[dataset_idx][sample_idx]


class ChainDataset(IterableDataset):
    """Iterable datasets read one after another."""

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices` (a sequence), in that order."""

    def __init__(self, dataset: Dataset, indices):
        self.dataset = dataset
        self.indices = indices
        # As torch: a subclass that reads samples its own way must read batches that way too,
        # or the DataLoader (which calls __getitems__) would bypass it.
        if type(self).__getitem__ is not Subset.__getitem__ and \
                type(self).__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__: the "
                f"DataLoader reads batches through __getitems__. A simple implementation:\n\n"
                f"def __getitems__(self, indices):\n"
                f"    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[idx] for idx in indices])
        return [self.dataset[self.indices[idx]] for idx in indices]

    def __len__(self) -> int:
        return len(self.indices)


def _split_lengths(dataset, lengths) -> list:
    """torch's rule: fractions summing to 1 become floor(fraction * len) each, the remainder
    handed out one at a time round-robin from the first split; ints are used as given."""
    lengths = list(lengths)
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, numbers.Real):
            raise TypeError(f"random_split: lengths must be ints or fractions, got "
                            f"{length!r} at index {i}")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(len(dataset) * fraction))
        for i in range(len(dataset) - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=3)
        return counts
    for i, length in enumerate(lengths):
        if not isinstance(length, numbers.Integral) or length < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions "
                             f"summing to 1, got {length!r} at index {i} (lengths {lengths})")
    if total != len(dataset):
        raise ValueError(f"random_split: sum of input lengths ({total}) does not equal the "
                         f"length of the input dataset ({len(dataset)})")
    return [int(length) for length in lengths]


def random_split(dataset: Dataset, lengths, generator=None) -> list:
    """Subsets of `dataset` with the given lengths (ints summing to len(dataset), or fractions
    summing to 1), made from one random permutation drawn from `generator` (a
    gpucnn.Generator; None: the global generator that gpucnn.manual_seed seeds)."""
    checked_generator(generator, "random_split")
    counts = _split_lengths(dataset, lengths)
    indices = randperm(sum(counts), generator=generator).tolist()
    return [Subset(dataset, indices[end - count:end])
            for end, count in zip(itertools.accumulate(counts), counts)]
