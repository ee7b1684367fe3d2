"""`gpucnn train --distributed`: the same run as one process, spread over the ranks of an MPI
job (`mpiexec -n N gpucnn train --distributed ...`).

The run is defined by its global batch (--batch-size), whatever the number of ranks: every
rank reads the same sequence of global batches (the loader's order is a function of the seed
and the epoch), augments the whole batch (so the random crops are those one process would
draw), and trains on its contiguous shard of it; the loss of a shard is weighted so that the
averaged gradient is that of the global batch's mean loss, also when the shards differ in size.
BatchNorm layers become SyncBatchNorm, whose statistics cover the global batch. So N ranks
take the steps one process would (up to the order of float32 sums), and a checkpoint, written
by rank 0 alone, resumes under any number of ranks.

Metrics (loss, correct predictions) are summed over the ranks after every batch, in rank
order, so every rank holds the same numbers; the same sum carries Ctrl-C, so that all ranks
stop after the same batch. The test set is split into one shard per rank, and the confusion
matrices are added.
"""
from __future__ import annotations

import numpy as np

from .. import cuda
from .. import distributed as dist
from ..distributed import nccl_transport
from ..nn import SyncBatchNorm
from ..nn.parallel import DistributedDataParallel
from . import UserError
from .evaluation import EvalResult


def shard(n: int, rank: int, size: int) -> tuple[int, int]:
    """[start, stop) of rank's contiguous part of n items: the first n % size ranks take one
    more."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


class SingleProcess:
    """The ranks of a run of one process: no communication at all."""
    rank, size, is_main, backend = 0, 1, True, None

    def shard(self, n: int) -> tuple[int, int]:
        return 0, n

    def sum(self, values: tuple) -> tuple:
        return values

    def agree(self, problem):
        return problem

    def wrap(self, model):
        """(the model, what batches go through)."""
        return model, model

    def merge(self, result: EvalResult) -> EvalResult:
        return result

    def ranks(self) -> list[str]:
        return []

    def close(self):
        pass


class Ranks(SingleProcess):
    """This process's place in an MPI job, and the few collectives the trainer needs."""

    def __init__(self, device_option: str):
        gpu = device_option == "cuda" or (device_option == "auto" and cuda.is_available())
        try:
            # NCCL between GPUs when CuPy has it; else MPI (through host memory for "cuda").
            dist.init_process_group("nccl" if gpu and nccl_transport.available() else "mpi")
        except (RuntimeError, ValueError) as error:
            raise UserError(f"--distributed: {error}") from None
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.is_main = self.rank == 0
        self.backend = dist.get_backend()
        if gpu and self.backend == "mpi" and cuda.is_available():
            cuda.set_device(dist.get_node_local_rank() % cuda.device_count())

    def shard(self, n):
        return shard(n, self.rank, self.size)

    def sum(self, values):
        every = [None] * self.size
        dist.all_gather_object(every, tuple(values))
        return tuple(sum(v[i] for v in every) for i in range(len(values)))

    def agree(self, problem):
        """None if no rank had a problem; else the first one (naming its rank, unless every
        rank had the same)."""
        every = [None] * self.size
        dist.all_gather_object(every, problem)
        failed = [(r, p) for r, p in enumerate(every) if p is not None]
        if not failed:
            return None
        rank, first = failed[0]
        return first if all(p == first for p in every) else f"rank {rank}: {first}"

    def wrap(self, model):
        model = SyncBatchNorm.convert_sync_batchnorm(model)
        return model, DistributedDataParallel(model)

    def merge(self, result):
        loss_sum, confusion = self.sum((result.loss * result.total if result.total else 0.0,
                                        result.confusion))
        total = int(np.asarray(confusion).sum())
        return EvalResult(loss_sum / total if total else float("nan"), confusion)

    def ranks(self):
        return dist.rank_table()

    def close(self):
        if dist.is_initialized():
            dist.destroy_process_group()

