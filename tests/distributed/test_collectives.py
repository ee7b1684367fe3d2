"""torch.distributed's collectives over MPI, on 1, 2 and 3 ranks, and what they refuse."""
import subprocess
import sys

import pytest

import gpucnn as gc
import gpucnn.distributed as dist

from .conftest import ENV, REPO_ROOT, mpiexec, output, python_module


@pytest.mark.parametrize("ranks", [2, 3])
def test_every_collective(ranks):
    done, _ = mpiexec(ranks, *python_module("tests.distributed.collectives_worker"))
    assert done.returncode == 0, output(done)
    for r in range(ranks):
        assert f"ok rank {r} of {ranks}" in done.stdout, output(done)


def _alone(code: str, **env):
    """A script started without a launcher: a job of one process."""
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env={**ENV, **env},
                          capture_output=True, text=True, timeout=120)


def test_a_script_started_alone_is_a_job_of_one():
    done = _alone("import gpucnn as gc, gpucnn.distributed as d\n"
                  "d.init_process_group('mpi')\n"
                  "t = gc.tensor([1.5, -2.0]); d.all_reduce(t, d.ReduceOp.AVG)\n"
                  "print(d.get_rank(), d.get_world_size(), d.get_backend(), t.tolist())\n"
                  "d.destroy_process_group(); print(d.is_initialized())")
    assert done.returncode == 0, output(done)
    assert done.stdout.split("\n")[:2] == ["0 1 mpi [1.5, -2.0]", "False"]


def test_torchrun_environment_is_refused_rather_than_run_as_separate_jobs():
    done = _alone("import gpucnn.distributed as d; d.init_process_group('mpi')", WORLD_SIZE="4")
    assert done.returncode != 0
    assert "WORLD_SIZE=4" in done.stderr and "mpiexec -n 4" in done.stderr, done.stderr


@pytest.mark.parametrize("call, error, words", [
    (lambda: dist.get_rank(), ValueError, "init_process_group"),
    (lambda: dist.all_reduce(gc.ones(2)), ValueError, "init_process_group"),
    (lambda: dist.barrier(), ValueError, "init_process_group"),
    (lambda: gc.nn.parallel.DistributedDataParallel(gc.nn.Linear(2, 2)), ValueError,
     "init_process_group"),
    (lambda: dist.init_process_group("gloo"), ValueError, "'mpi'"),
    (lambda: dist.init_process_group("mpi", init_method="tcp://10.0.0.1:23456"), ValueError,
     "MPI launcher"),
    (lambda: dist.init_process_group("mpi", timeout=-1), ValueError, "timeout"),
])
def test_refused_before_any_communication(call, error, words):
    assert not dist.is_initialized()
    with pytest.raises(error, match=words):
        call()
    assert not dist.is_initialized()
