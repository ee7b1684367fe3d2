"""DistributedSampler: one process's shard of a map-style dataset, as torch's.

In a data-parallel job every process runs the same DataLoader over the same dataset; passing
DistributedSampler(dataset) as its sampler makes each process (rank) read a disjoint shard of
every epoch, so that together the ranks visit the dataset once per epoch. Every rank builds
the same epoch order (a pure function of seed + epoch, so no communication is needed) and
keeps the positions rank, rank + num_replicas, ... of it. Call set_epoch(epoch) on every rank
before each epoch: without it every epoch has the same order.

All ranks must take the same number of steps (a rank that runs out early would leave the
others waiting in a collective), so the order is made a multiple of num_replicas: padded by
repeating its start, or with drop_last cut at the tail. The shuffled order comes from a
gpucnn.Generator; the numbers are not PyTorch's, the unshuffled order and the padding are.
"""
import math
import numbers
from typing import TypeVar

from ... import distributed
from ...factories import randperm
from ...generator import Generator
from .sampler import Sampler

T_co = TypeVar("T_co", covariant=True)

_NOT_INITIALIZED = ("DistributedSampler: the default process group is not initialized; call "
                    "gpucnn.distributed.init_process_group() first (under mpiexec), or pass "
                    "num_replicas and rank")


def _check_int(name, value):
    # bool is an int subclass; True replicas or rank True is a mistake, not 1
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"DistributedSampler: {name} should be an int, but got "
                        f"{name}={value!r} ({type(value).__name__})")
    return int(value)


def _process_group():
    """gpucnn.distributed, when its default group is up (importing it needs no MPI)."""
    if not distributed.is_initialized():
        raise RuntimeError(_NOT_INITIALIZED)
    return distributed


class DistributedSampler(Sampler[T_co]):
    """The indices of rank `rank` among `num_replicas` processes (defaults: the default
    process group's rank and world size): each epoch's order (a permutation seeded by
    seed + epoch when shuffle, else 0 .. len - 1) made a multiple of num_replicas, then every
    num_replicas-th position from `rank` on. len() is the same on every rank."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            group = _process_group()
            if num_replicas is None:
                num_replicas = group.get_world_size()
            if rank is None:
                rank = group.get_rank()
        num_replicas = _check_int("num_replicas", num_replicas)
        rank = _check_int("rank", rank)
        seed = _check_int("seed", seed)
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas should be a positive integer, "
                             f"but got num_replicas={num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"DistributedSampler: Invalid rank {rank}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        try:
            n = len(dataset)
        except TypeError:
            raise TypeError(f"DistributedSampler: the dataset must have a length (__len__), "
                            f"got {type(dataset).__name__}") from None
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.seed = seed
        # drop_last only drops when the length does not divide: to the largest multiple of
        # num_replicas below it, so that every rank gets the same count.
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            # Seeded by seed + epoch alone: every rank draws the same permutation.
            generator = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            # Repeat the whole order as often as needed: padding can exceed len when there
            # are more replicas than samples.
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding else []
        if len(indices) != self.total_size:
            raise AssertionError(f"DistributedSampler: {len(indices)} indices, expected "
                                 f"total_size {self.total_size}")
        shard = indices[self.rank:self.total_size:self.num_replicas]
        if len(shard) != self.num_samples:
            raise AssertionError(f"DistributedSampler: {len(shard)} indices in the shard, "
                                 f"expected num_samples {self.num_samples}")
        return iter(shard)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose order the next pass yields; call it with the same epoch on every
        rank before each epoch, or every epoch repeats the same order."""
        self.epoch = _check_int("epoch", epoch)
