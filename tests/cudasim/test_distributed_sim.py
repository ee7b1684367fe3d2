"""gpucnn.distributed on "cuda" tensors (MPI through host memory) under the simulator (or on
the real GPU in a GPU session): every collective, and DistributedDataParallel with
SyncBatchNorm equal to one process on the same global batches. Each rank is a process of its
own."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.distributed import ddp_worker

REPO_ROOT = Path(__file__).resolve().parents[2]
MPIEXEC = Path(sys.executable).with_name("mpiexec")
# The ranks inherit this process's choice: the simulator here, the real GPU (both ranks on
# device 0, MPI through host memory) in a GPU session.
ENV = {**os.environ, "NUMBA_NUM_THREADS": "1"}


def _mpiexec(*args):
    assert MPIEXEC.exists(), f"{MPIEXEC} not found: pip install -e '.[test]' brings MPI"
    done = subprocess.run([str(MPIEXEC), "-n", "2", sys.executable, "-m", *map(str, args)],
                          cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_every_collective_on_cuda_tensors():
    out = _mpiexec("tests.distributed.collectives_worker", "--cuda")
    assert "ok rank 0 of 2" in out and "ok rank 1 of 2" in out, out


def test_ddp_with_sync_batchnorm_on_cuda_equals_one_process(tmp_path):
    ddp_worker.run("adam-syncbn", tmp_path, single=True, device="cuda", steps=2)
    _mpiexec("tests.distributed.ddp_worker", "adam-syncbn", tmp_path, "--cuda")
    single = dict(np.load(tmp_path / "single.npz"))
    ranks = [dict(np.load(tmp_path / f"rank{r}.npz")) for r in range(2)]
    for key, expected in single.items():
        np.testing.assert_array_equal(ranks[1][key], ranks[0][key], err_msg=key)
        np.testing.assert_allclose(ranks[0][key], expected, rtol=1e-5, atol=2e-6, err_msg=key)
