"""`DataLoader`: batches over a dataset, with torch.utils.data.DataLoader's arguments and rules.

    loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True)
    for x, y in loader: ...

Loading runs in the main process. num_workers > 0 is accepted (with torch's argument checks)
and loads in the main process too: no worker processes are started, so worker_init_fn is kept
but never called, get_worker_info() is None, timeout only has to be valid, and prefetch_factor
and persistent_workers change nothing. pin_memory is accepted and does nothing (numba copies
from pageable memory). These keep torch scripts running unchanged; the batches are the same.

A dataset of "cuda" tensors gives "cuda" batches (the default collation stacks on the
samples' device; a TensorDataset is read with one gather per tensor, see fetch.py). Shuffling
draws from `generator` (a gpucnn.Generator) or, when None, from the global generator that
gpucnn.manual_seed seeds: the same seed gives the same epochs.
"""
import numbers

from ...generator import checked as checked_generator
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fetch import IterableDatasetFetcher, MapDatasetFetcher
from .sampler import (BatchSampler, InfiniteConstantSampler, RandomSampler, Sampler,
                      SequentialSampler)

_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                     "persistent_workers")


def get_worker_info():
    """None: gpucnn loads in the main process (torch returns None there too)."""
    return None


class DataLoader:
    """Batches of `dataset`: map-style (indexed, in the order of a sampler) or iterable.

    Args as torch's: batch_size (None: no batching, samples converted one by one), shuffle
    (a new RandomSampler order each pass), sampler / batch_sampler (custom orders; exclusive
    with shuffle, and batch_sampler with batch_size, sampler and drop_last), collate_fn
    (default_collate), drop_last (skip the last, short batch), generator (the shuffle's
    gpucnn.Generator). num_workers, timeout, worker_init_fn, multiprocessing_context,
    prefetch_factor, persistent_workers, pin_memory, pin_memory_device and in_order are
    checked as torch checks them and otherwise unused: see the module's docstring.
    """

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative int "
                             f"(got {num_workers!r}); use num_workers=0 to disable "
                             f"multiprocessing")
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got "
                             f"{timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in "
                             "multiprocessing. Let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("DataLoader: prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(f"DataLoader: multiprocessing_context can only be used with "
                             f"multi-process loading (num_workers > 0), but got "
                             f"num_workers={num_workers}")
        checked_generator(generator, "DataLoader")

        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._iterable = True
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            self._iterable = False
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")

        if sampler is None:
            if self._iterable:
                sampler = InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, attr, value):
        if self._initialized and attr in _FIXED_AFTER_INIT:
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Sampler:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> "DataLoaderIterator":
        if self.num_workers == 0 and self.timeout != 0:
            # torch's single-process iterator refuses it as well (an assertion there).
            raise ValueError(f"DataLoader: timeout={self.timeout} applies to worker processes; "
                             f"with num_workers=0 it must be 0")
        return DataLoaderIterator(self)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else \
                    -(-length // self.batch_size)
            return length
        return len(self._index_sampler)


class DataLoaderIterator:
    """One pass over a DataLoader: the sampler's next index (or batch of indices), fetched
    and collated."""

    def __init__(self, loader: DataLoader):
        self._index_sampler = loader._index_sampler
        self._index_iter = iter(self._index_sampler)
        fetcher = IterableDatasetFetcher if loader._iterable else MapDatasetFetcher
        self._fetcher = fetcher(loader.dataset, loader._auto_collation, loader.collate_fn,
                                loader.drop_last)

    def __iter__(self):
        return self

    def __next__(self):
        index = next(self._index_iter)            # StopIteration ends the pass
        return self._fetcher.fetch(index)         # so does the end of an iterable's stream

    def __len__(self) -> int:
        return len(self._index_sampler)
