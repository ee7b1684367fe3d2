"""python -m gpucnn.distributed SCRIPT [ARGS] (or -m MODULE [ARGS]): run a script as one rank
of an MPI job, supervised, so that a rank killed by a signal is reported by its rank rather
than by a process id (supervisor.py). `mpiexec -n 4 python -m gpucnn.distributed train.py`
is `mpiexec -n 4 python train.py` with that report."""
import os
import runpy
import sys

from .supervisor import supervise_this_rank

USAGE = "usage: python -m gpucnn.distributed SCRIPT [ARGS...] | -m MODULE [ARGS...]"


def main(argv: list[str]) -> None:
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return
    if not argv or argv == ["-m"]:
        raise SystemExit(USAGE)
    if argv[0] != "-m" and not os.path.isfile(argv[0]):
        raise SystemExit(f"Error: no script {argv[0]!r}\n{USAGE}")
    supervise_this_rank()
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(argv)
        sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))   # as `python SCRIPT` sets it
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
