"""Samplers: the order in which a DataLoader visits a map-style dataset, as torch's.

    Sampler               base class: __iter__ yields indices (or batches of them)
    SequentialSampler     0, 1, ..., len - 1
    RandomSampler         a new permutation each pass (or draws with replacement)
    SubsetRandomSampler   the given indices in a new random order each pass
    BatchSampler          another sampler's indices grouped into lists of batch_size

Random orders come from a gpucnn.Generator when one is given, else (as torch) from a fresh
Generator seeded by one draw from the global generator at the start of each pass: the same
gpucnn.manual_seed gives the same sequence of epochs. The numbers are not PyTorch's.
"""
import itertools
import numbers
from typing import Generic, Iterable, TypeVar

from ...factories import randperm
from ...generator import Generator, checked, host_randint

T_co = TypeVar("T_co", covariant=True)

_SEED_LIMIT = 2 ** 63


class Sampler(Generic[T_co]):
    """Base class: subclasses define __iter__ (and __len__ where the DataLoader needs it)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _pass_generator(generator):
    """The generator of one pass: the given one, or (torch's scheme) a new one seeded by one
    draw from the global generator."""
    if generator is not None:
        return generator
    seed = int(host_randint(None, 0, _SEED_LIMIT, 1, "RandomSampler")[0])
    return Generator().manual_seed(seed)


class RandomSampler(Sampler[int]):
    """Without replacement: a random permutation per pass (num_samples > len continues with
    further permutations; the last one cut short). With replacement: num_samples indices drawn
    uniformly from 0 .. len - 1."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = checked(generator, "RandomSampler")
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        samples = self.num_samples
        if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or samples <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, "
                             f"but got num_samples={samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = _pass_generator(self.generator)
        if self.replacement:
            # One draw of num_samples counters: the same numbers as torch's chunks of 32 would
            # take from a counter-based stream, in one call.
            yield from host_randint(generator, 0, n, self.num_samples, "RandomSampler").tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=generator).tolist()
        yield from randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a new random order each pass."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = checked(generator, "SubsetRandomSampler")

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler[list]):
    """Lists of batch_size consecutive indices of `sampler`; the last one shorter, or dropped
    when drop_last."""

    def __init__(self, sampler: Sampler | Iterable, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or \
                batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, "
                             f"but got batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        batch = list(itertools.islice(indices, self.batch_size))
        while batch:
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch
            batch = list(itertools.islice(indices, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


class InfiniteConstantSampler(Sampler[None]):
    """None forever: the index stream of an IterableDataset (which ignores it)."""

    def __iter__(self):
        while True:
            yield None
