"""The default process group: which process this is (rank), how many there are (world size),
and the transport that carries their collectives.

Ranks come from the MPI launcher that started the job (`mpiexec -n N`, `mpirun --hostfile`,
Slurm's `srun --mpi=pmi2`), through mpi4py: there is no address or port to configure, and a
script started alone is a job of one. The transport is MPI for tensors on any device, or NCCL
(through CuPy) for "cuda" tensors, its communicator set up from a unique id that rank 0 sends
to the others over MPI.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from . import faults, nccl_transport
from .mpi_transport import MPITransport

BACKENDS = ("mpi", "nccl")
DEFAULT_EXIT_TIMEOUT = 30.0   # seconds; see faults._exit_together


@dataclass
class ProcessGroup:
    rank: int
    size: int
    local_rank: int      # the rank among the processes of this machine: its GPU
    local_size: int
    backend: str
    comm: object         # mpi4py's duplicate of COMM_WORLD: every collective of the group
    transport: object    # MPITransport or NCCLTransport

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, rank={self.rank}, size={self.size})"


_default: ProcessGroup | None = None


def _mpi():
    """mpi4py's MPI module (initialising MPI), or an error that says what to install."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(f"gpucnn.distributed needs MPI through mpi4py ({error}); install "
                           f"it with: pip install 'gpucnn[distributed]' (mpi4py and MPICH's "
                           f"wheel, which brings mpiexec)") from None
    return MPI


def is_available() -> bool:
    """True when mpi4py can be imported (the NCCL backend needs CuPy and a GPU as well)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def _launched_by_another_launcher(size: int) -> str | None:
    """torchrun (and torch.distributed.launch) set WORLD_SIZE; a job it started would run as
    N separate jobs of one here, each training alone: refuse rather than do that."""
    launcher_size = os.environ.get("WORLD_SIZE")
    if size == 1 and launcher_size not in (None, "", "1") and \
            "OMPI_COMM_WORLD_SIZE" not in os.environ and "PMI_SIZE" not in os.environ:
        return (f"WORLD_SIZE={launcher_size} is set (torchrun?) but MPI sees a job of one "
                f"process; gpucnn takes its ranks from an MPI launcher: start the script with "
                f"mpiexec -n {launcher_size} python SCRIPT (or srun --mpi=pmi2)")
    return None


def init_process_group(backend: str | None = None, init_method=None, timeout=None,
                       world_size: int = -1, rank: int = -1, store=None, group_name: str = "",
                       pg_options=None, device_id=None):
    """Join the job the MPI launcher started. backend "mpi" (any device) or "nccl" ("cuda"
    tensors; GPU local_rank of this machine); None picks "nccl" when a GPU is present and
    CuPy's NCCL can be loaded, else "mpi". world_size and rank, when given, must agree with the
    launcher's. A rank that raises an uncaught exception from here on ends the whole job
    (MPI_Abort), its message naming the rank, so that no other rank waits forever; so does
    a rank that exits without destroy_process_group() while the others have not come to
    their end within `timeout` (a timedelta or seconds, 30 s by default)."""
    global _default
    _seconds(timeout)   # checked before MPI starts
    if _default is not None:
        raise RuntimeError("trying to initialize the default process group twice; call "
                           "destroy_process_group() first")
    if backend is not None and (not isinstance(backend, str) or
                                backend.lower() not in BACKENDS):
        hint = " (gloo is PyTorch's; use 'mpi')" if str(backend).lower() == "gloo" else ""
        raise ValueError(f"init_process_group: unknown backend {backend!r}{hint}; gpucnn has "
                         f"{' and '.join(repr(b) for b in BACKENDS)}")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_method={init_method!r}: gpucnn takes ranks from the MPI "
                         f"launcher (mpiexec, mpirun, srun), not from an address; leave "
                         f"init_method unset")
    if store is not None:
        raise ValueError("init_process_group: store= is not supported; ranks come from the MPI "
                         "launcher")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    size, my_rank = world.Get_size(), world.Get_rank()
    problem = _launched_by_another_launcher(size)
    if problem is not None:
        raise RuntimeError(f"init_process_group: {problem}")
    for name, given, actual in (("world_size", world_size, size), ("rank", rank, my_rank)):
        if given is not None and given != -1 and given != actual:
            raise ValueError(f"init_process_group: {name}={given}, but the MPI launcher "
                             f"started this process as {name} {actual}")
    comm = world.Dup()   # the group's own communicator: user code on COMM_WORLD cannot mix in
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=my_rank)
    local_rank, local_size = local.Get_rank(), local.Get_size()
    local.Free()
    chosen = (backend or ("nccl" if nccl_transport.available() else "mpi")).lower()
    if chosen == "nccl":
        transport = nccl_transport.NCCLTransport(comm, local_rank)
    else:
        transport = MPITransport(comm)
    _default = ProcessGroup(my_rank, size, local_rank, local_size, chosen, comm, transport)
    faults.install(my_rank, size, world.Abort, world.Dup(), _seconds(timeout))


def _seconds(timeout) -> float:
    """timeout: a datetime.timedelta or seconds; how long a rank that reaches its end without
    destroy_process_group() waits for the others before ending the job."""
    if timeout is None:
        return DEFAULT_EXIT_TIMEOUT
    seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise ValueError(f"init_process_group: timeout must be a positive timedelta or number "
                         f"of seconds, got {timeout!r}")
    return float(seconds)


def destroy_process_group(group=None):
    """Leave the group (after a barrier, so no rank leaves while another still sends)."""
    global _default
    pg = default_group("destroy_process_group")
    pg.comm.Barrier()
    pg.transport.close()
    pg.comm.Free()
    _default = None
    faults.uninstall()


def is_initialized() -> bool:
    return _default is not None


def default_group(caller: str) -> ProcessGroup:
    if _default is None:
        raise ValueError(f"{caller}: the default process group has not been initialized; "
                           f"call gpucnn.distributed.init_process_group() first (and start the "
                           f"script with mpiexec -n N)")
    return _default


def check_group(group, caller: str) -> ProcessGroup:
    """The default group, which is the only one: group=None or group.WORLD."""
    pg = default_group(caller)
    if group is not None and group is not pg and group is not WORLD:
        raise ValueError(f"{caller}: only the default group (group=None) is supported; "
                         f"gpucnn has no new_group()")
    return pg


class _World:
    """gpucnn.distributed.group.WORLD: the default group, by name."""

    def __repr__(self):
        return "group.WORLD"


WORLD = _World()


def get_rank(group=None) -> int:
    return check_group(group, "get_rank").rank


def get_world_size(group=None) -> int:
    return check_group(group, "get_world_size").size


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank among those on its machine (its GPU index)."""
    if _default is None:
        if fallback_rank is not None:
            return fallback_rank
        raise RuntimeError("get_node_local_rank: the default process group has not been "
                           "initialized and no fallback_rank was given")
    return _default.local_rank


def get_backend(group=None) -> str:
    return check_group(group, "get_backend").backend
