"""A process that stands between the launcher and a rank's work, so that a rank killed by a
signal is reported by its rank.

A rank that raises speaks for itself (faults.py). A rank killed outright (SIGKILL, the OOM
killer, a segmentation fault) cannot, and MPICH's mpiexec names only a process id before it
ends the others. So `gpucnn train --distributed` (and `python -m gpucnn.distributed SCRIPT`)
fork before MPI starts: the child does the rank's work, the parent waits for it, passes on
the signals the launcher or the user send, and, if the child dies by a signal, prints one
line naming the rank and the signal and exits with the shell's status for it (128 + the
signal), so that the launcher ends the job as it would have. The child runs in a process group
of its own, so that each signal reaches it once, through the parent; and it asks the kernel
to kill it when the parent goes (PR_SET_PDEATHSIG): a launcher that ends the job by killing
the process it started ends the rank's work too. Forking, not starting a new interpreter, keeps
the imports already made (shared, copy-on-write) and costs no start-up time.

Linux only (PR_SET_PDEATHSIG); elsewhere, and outside a launcher, the rank runs unsupervised.
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import warnings

# The variables MPI launchers and Slurm set in each process they start: rank, world size.
LAUNCHER_RANK_VARIABLES = (
    ("PMI_RANK", "PMI_SIZE"),                            # MPICH's hydra, Intel MPI
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),    # Open MPI
    ("PMIX_RANK", None),                                  # any PMIx launcher
    ("SLURM_PROCID", "SLURM_NTASKS"),                    # srun
)
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                     signal.SIGUSR1, signal.SIGUSR2)
PR_SET_PDEATHSIG = 1

_state = {"supervisor_pid": None}


def launcher_rank() -> tuple[int, int | None] | None:
    """(rank, world size or None) as the launcher that started this process set them, or
    None when no launcher did."""
    for rank_variable, size_variable in LAUNCHER_RANK_VARIABLES:
        rank = os.environ.get(rank_variable, "")
        if rank.isdigit():
            size = os.environ.get(size_variable, "") if size_variable else ""
            return int(rank), int(size) if size.isdigit() else None
    return None


def supervisor_pid() -> int | None:
    """The process id of this rank's supervisor (the one the launcher started), or None."""
    return _state["supervisor_pid"]


def supervise_this_rank() -> None:
    """Fork: return in the child, which does the rank's work; in the parent, wait for the
    child and exit with its status. Does nothing outside a launcher, off Linux, or when this
    process is already supervised. Call before MPI or a GPU is initialised."""
    where = launcher_rank()
    if where is None or _state["supervisor_pid"] is not None or \
            not sys.platform.startswith("linux"):
        return
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    for stream in (sys.stdout, sys.stderr):   # or both processes would write what is buffered
        stream.flush()
    parent = os.getpid()
    with warnings.catch_warnings():
        # Python 3.12+ warns when a process with threads forks: the only other threads here
        # are OpenBLAS's idle workers, which OpenBLAS itself restarts in the child.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:
        # A group of its own: a launcher that signals the process group it started (MPICH
        # does, for Ctrl-C) must reach the rank once, through the supervisor, not twice.
        os.setpgid(0, 0)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:   # the supervisor went before the request was made
            os._exit(1)
        _state["supervisor_pid"] = parent
        return
    os._exit(_wait_for(child, *where))


def _wait_for(child: int, rank: int, size: int | None) -> int:
    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except ProcessLookupError:   # it has just ended; waitpid reports how
            pass

    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, forward)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return code
    signum = -code
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    of = f" of {size}" if size is not None else ""
    sys.stderr.write(f"Error: rank {rank}{of} was killed by {name} (signal {signum}), pid "
                     f"{child} on {socket.gethostname()}; ending the job\n")
    sys.stderr.flush()
    return 128 + signum
