"""gpucnn.utils.data: torch.utils.data's datasets, samplers, collation and DataLoader.

    dataset.py     Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset,
                   ChainDataset, random_split
    sampler.py     Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, BatchSampler
    distributed.py DistributedSampler (each process of a data-parallel job reads its own
                   shard of every epoch)
    collate.py     default_collate, default_convert (float samples collate to float32)
    fetch.py       how a batch is read: per sample + collate, or one gather per tensor of a
                   TensorDataset
    dataloader.py  DataLoader (loads in the main process whatever num_workers), get_worker_info

Random orders (shuffle, RandomSampler, random_split) come from a gpucnn.Generator or from the
global generator that gpucnn.manual_seed seeds. gpucnn.data (no `utils`) is something else:
the readers of the command line's datasets (MNIST, CIFAR-10, ...).
"""
from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset,
                      TensorDataset, random_split)
from .distributed import DistributedSampler
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
           "default_collate", "default_convert", "get_worker_info", "random_split"]
