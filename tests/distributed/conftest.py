"""Running jobs of several processes: mpiexec from the `distributed` extra (MPICH's wheel),
beside the interpreter running the tests. Tests fail, not skip, when it is missing: the test
command installs it."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MPIEXEC = Path(sys.executable).with_name("mpiexec")
# One thread per rank: the CI machine has two cores for two ranks.
ENV = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
       "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def mpiexec(n: int, *args, timeout: float = 120, cwd=REPO_ROOT):
    """Run `mpiexec -n N ARGS...`; (completed process, seconds it took)."""
    if not MPIEXEC.exists():
        pytest.fail(f"{MPIEXEC} not found: install the distributed extra "
                    f"(pip install -e '.[test]' brings mpi4py and mpich)")
    start = time.monotonic()
    done = subprocess.run([str(MPIEXEC), "-n", str(n), *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - start


def python_module(module: str, *args):
    return (sys.executable, "-m", module, *args)


def gpucnn_command(*args):
    return (str(Path(sys.executable).with_name("gpucnn")), *map(str, args))


def output(done) -> str:
    return done.stdout + done.stderr
