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
    elif how == "kill":   # the launcher names the process id; the rank table maps it
        pid = re.search(r"rank 1: pid (\d+)", text).group(1)
        assert f"PID {pid}" in text, text
    else:
        assert "rank 1 of 2 is exiting" in text, text
