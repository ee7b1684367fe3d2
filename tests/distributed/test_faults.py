"""A rank that raises, is killed, or leaves its training loop early ends the whole job within
a bounded time, non-zero, and what is printed names the rank."""
import re

import pytest

from .conftest import mpiexec, output, python_module


@pytest.mark.parametrize("how", ["raise", "kill", "exit"])
def test_a_failing_rank_ends_the_job(how):
    done, seconds = mpiexec(2, *python_module("tests.distributed.fault_worker", how, 1),
                            timeout=90)
    text = output(done)
    assert done.returncode != 0, text
    assert seconds < 60, f"the job took {seconds:.0f} s to end"
    if how == "raise":
        assert "rank 1 of 2 failed" in text and "step 3 failed on purpose" in text, text
    elif how == "kill":   # unsupervised: the launcher names the process id, the table maps it
        pid = re.search(r"rank 1: pid (\d+)", text).group(1)
        assert f"PID {pid}" in text, text
    else:
        assert "rank 1 of 2 is exiting" in text, text


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGSEGV"])
@pytest.mark.parametrize("rank", [0, 1])
def test_a_supervised_rank_killed_by_a_signal_is_named_by_its_rank(signal_name, rank):
    """python -m gpucnn.distributed: the process the launcher started waits for the rank's
    work, and names the rank and the signal that ended it."""
    done, seconds = mpiexec(2, *python_module("gpucnn.distributed", "-m",
                                              "tests.distributed.fault_worker",
                                              signal_name, rank), timeout=90)
    text = output(done)
    assert done.returncode != 0 and seconds < 60, (done.returncode, seconds, text)
    worker = re.search(rf"rank {rank}: pid (\d+) \(launched as (\d+)\)", text)
    assert worker, text
    assert (f"Error: rank {rank} of 2 was killed by {signal_name}" in text and
            f"pid {worker.group(1)} on" in text), text
    assert "Traceback" not in text, text


def test_a_supervised_job_that_succeeds_passes_its_arguments_and_status(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import pathlib, sys\nimport gpucnn.distributed as dist\n"
                      "dist.init_process_group('mpi')\n"
                      f"folder = pathlib.Path({str(tmp_path)!r})\n"
                      "(folder / f'rank{dist.get_rank()}.txt').write_text(repr(sys.argv[1:]))\n"
                      "dist.destroy_process_group()\nsys.exit(3 if '--fail' in sys.argv else 0)\n")
    done, _ = mpiexec(2, *python_module("gpucnn.distributed", script, "a", "b"))
    assert done.returncode == 0, output(done)
    for rank in (0, 1):
        assert (tmp_path / f"rank{rank}.txt").read_text() == "['a', 'b']"
    failed, _ = mpiexec(2, *python_module("gpucnn.distributed", script, "--fail"))
    assert failed.returncode == 3, output(failed)
    missing, _ = mpiexec(1, *python_module("gpucnn.distributed", tmp_path / "none.py"))
    assert missing.returncode != 0 and "no script" in missing.stderr, output(missing)
