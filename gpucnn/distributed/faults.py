"""A rank that fails ends the whole job, in bounded time, saying which rank it was.

In a data-parallel job every rank waits for every other at each gradient reduction: a rank
that raised and exited would leave the others waiting forever. So, while a process group
exists, an uncaught exception on any rank prints its traceback under a line naming the rank,
then calls MPI_Abort, and the launcher (mpiexec, srun) ends every process of the job with a
non-zero status. A rank killed outright (a signal, the OOM killer) cannot speak for itself:
the launcher notices its death and ends the others, naming its process id; `rank_table()`
(which `gpucnn train --distributed` prints at the start) maps those ids to ranks.
"""
from __future__ import annotations

import sys
import traceback

_state = {"previous_hook": None, "abort": None, "rank": None, "size": None}


def describe(rank: int, size: int) -> str:
    return f"rank {rank} of {size}"


def install(rank: int, size: int, abort):
    _state.update(rank=rank, size=size, abort=abort)
    if _state["previous_hook"] is None:
        _state["previous_hook"] = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def uninstall():
    if _state["previous_hook"] is not None:
        sys.excepthook = _state["previous_hook"]
    _state.update(previous_hook=None, abort=None, rank=None, size=None)


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
    abort(code)
