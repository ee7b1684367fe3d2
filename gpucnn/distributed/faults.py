"""A rank that fails ends the whole job, in bounded time, saying which rank it was.

In a data-parallel job every rank waits for every other at each gradient reduction: a rank
that raised and exited would leave the others waiting forever. So, while a process group
exists, an uncaught exception on any rank prints its traceback under a line naming the rank,
then calls MPI_Abort, and the launcher (mpiexec, srun) ends every process of the job with a
non-zero status. A rank killed outright (a signal, the OOM killer) cannot speak for itself:
where it runs under a supervisor (supervisor.py) that process names it; elsewhere the
launcher notices its death and ends the others, naming its process id, and `rank_table()`
(which `gpucnn train --distributed` prints at the start) maps those ids to ranks.
"""
from __future__ import annotations

import atexit
import sys
import time
import traceback

_state = {"previous_hook": None, "abort": None, "rank": None, "size": None,
          "exit_comm": None, "exit_timeout": None, "atexit": False}
POLL_SECONDS = 0.01
FORWARD_SECONDS = 0.5


def describe(rank: int, size: int) -> str:
    return f"rank {rank} of {size}"


def install(rank: int, size: int, abort, exit_comm, exit_timeout: float):
    """exit_comm: a communicator of its own for the exit barrier (a barrier on the group's
    communicator could be matched against a reduction another rank is waiting in)."""
    _state.update(rank=rank, size=size, abort=abort, exit_comm=exit_comm,
                  exit_timeout=exit_timeout)
    if _state["previous_hook"] is None:
        _state["previous_hook"] = sys.excepthook
        sys.excepthook = _abort_on_uncaught
    if not _state["atexit"]:
        atexit.register(_exit_together)
        _state["atexit"] = True


def uninstall():
    if _state["previous_hook"] is not None:
        sys.excepthook = _state["previous_hook"]
    if _state["exit_comm"] is not None:
        _state["exit_comm"].Free()
    _state.update(previous_hook=None, abort=None, rank=None, size=None, exit_comm=None)


def _exit_together():
    """A rank leaving without destroy_process_group(): its script ended, or called sys.exit.
    If the others are ending too they reach this barrier and all exit normally; if they do
    not within the timeout, they are waiting for this rank in a collective (a rank that left
    a training loop early), and the job is ended rather than left hanging."""
    comm = _state["exit_comm"]
    if comm is None or _state["size"] == 1:
        return
    request = comm.Ibarrier()
    deadline = time.monotonic() + _state["exit_timeout"]
    while not request.Test():
        if time.monotonic() > deadline:
            sys.stderr.write(
                f"gpucnn.distributed: {describe(_state['rank'], _state['size'])} is exiting, "
                f"but after {_state['exit_timeout']:g} s other ranks have not reached their end "
                f"(they wait for this rank in a collective); ending the job. Call "
                f"destroy_process_group() at the end of a script whose ranks finish at "
                f"different times\n")
            abort_job(1)
        time.sleep(POLL_SECONDS)


def _abort_on_uncaught(kind, value, tb):
    rank, size = _state["rank"], _state["size"]
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(f"gpucnn.distributed: {describe(rank, size)} failed; ending the job\n"
                     f"{text}")
    abort_job(1 if not isinstance(value, KeyboardInterrupt) else 130)


def abort_job(code: int = 1):
    """Flush what was written, then end every rank of the job with status `code`."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed stream must not stop the abort
            pass
    abort = _state["abort"]
    if abort is None:
        raise SystemExit(code)
    # The launcher forwards each rank's output through pipes and stops reading them when it
    # ends the job: give it a moment to pass the message on first.
    time.sleep(FORWARD_SECONDS)
    abort(code)
