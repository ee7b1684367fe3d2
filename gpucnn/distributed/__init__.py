"""gpucnn.distributed: data-parallel training across processes, torch.distributed's API.

    mpiexec -n 4 python train.py          # four processes on this machine
    mpirun --hostfile hosts -n 16 ...     # or across machines; srun --mpi=pmi2 under Slurm

    import gpucnn.distributed as dist
    dist.init_process_group("mpi")        # or "nccl" for GPUs; ranks come from the launcher
    model = gpucnn.nn.parallel.DistributedDataParallel(model)

    process_group.py   the default group: init/destroy, rank, world size, local rank
    collectives.py     all_reduce, broadcast, all_gather, all_gather_object, barrier, ...
    mpi_transport.py   the collectives over MPI (mpi4py), for tensors on any device
    nccl_transport.py  the collectives over NCCL (CuPy), for "cuda" tensors
    functional.py      all_reduce with a gradient (SyncBatchNorm's statistics)
    faults.py          a rank that raises ends the whole job (MPI_Abort), naming the rank
    supervisor.py      a rank killed by a signal is named by the process the launcher started
    __main__.py        python -m gpucnn.distributed SCRIPT: a script's ranks, supervised

MPI comes from the `distributed` extra: pip install 'gpucnn[distributed]' (mpi4py and the
MPICH wheel, which brings mpiexec).
"""
from types import SimpleNamespace

from . import functional
from .collectives import (ReduceOp, Work, all_gather, all_gather_object, all_reduce, barrier,
                          broadcast, broadcast_object_list, rank_table)
from .process_group import (WORLD, destroy_process_group, get_backend, get_node_local_rank,
                            get_rank, get_world_size, init_process_group, is_available,
                            is_initialized)

group = SimpleNamespace(WORLD=WORLD)   # torch.distributed.group.WORLD
nn = SimpleNamespace(functional=functional)   # torch.distributed.nn.functional

__all__ = ["ReduceOp", "Work", "all_gather", "all_gather_object", "all_reduce", "barrier",
           "broadcast", "broadcast_object_list", "destroy_process_group", "get_backend",
           "get_node_local_rank", "get_rank", "get_world_size", "group", "init_process_group",
           "is_available", "is_initialized", "rank_table"]
