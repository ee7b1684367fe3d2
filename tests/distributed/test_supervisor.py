"""The supervisor a rank runs under (gpucnn/distributed/supervisor.py), without MPI: the
launcher's variables are set by hand, and the script plays the rank."""
import os
import signal
import subprocess
import sys
import time

import pytest

RANK_SCRIPT = """
import os, signal, sys, time
from gpucnn.distributed import supervisor
supervisor.supervise_this_rank()
print("worker", os.getpid(), "supervisor", supervisor.supervisor_pid(), flush=True)
action = sys.argv[1]
if action == "exit":
    sys.exit(5)
if action == "signal":
    os.kill(os.getpid(), signal.Signals[sys.argv[2]])
if action == "count-sigint":
    got = []
    signal.signal(signal.SIGINT, lambda *_: got.append(1))
    print("ready", flush=True)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not got:
        time.sleep(0.01)
    time.sleep(0.5)   # a second delivery would arrive in this time
    sys.exit(len(got))
if action == "sleep":
    print("ready", flush=True)
    time.sleep(60)
"""

LAUNCHERS = {"mpich": {"PMI_RANK": "1", "PMI_SIZE": "3"},
             "openmpi": {"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "3"},
             "slurm": {"SLURM_PROCID": "1", "SLURM_NTASKS": "3"}}


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not any(k in launcher for launcher in LAUNCHERS.values()) and k != "PMIX_RANK"}
    return {**env, **extra}


def _start(*args, env):
    """The launched process in a process group of its own, as launchers start ranks."""
    return subprocess.Popen([sys.executable, "-c", RANK_SCRIPT, *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _pids(job):
    words = job.stdout.readline().split()
    assert words[:1] == ["worker"], words
    return int(words[1]), (None if words[3] == "None" else int(words[3]))


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
@pytest.mark.parametrize("name", ["SIGKILL", "SIGSEGV", "SIGTERM"])
def test_a_rank_killed_by_a_signal_is_named_and_exits_as_the_shell_would(launcher, name):
    job = _start("signal", name, env=_clean_env(**LAUNCHERS[launcher]))
    worker, supervisor = _pids(job)
    assert supervisor == job.pid and worker != job.pid
    _, err = job.communicate(timeout=30)
    number = signal.Signals[name].value
    assert job.returncode == 128 + number, err
    assert err.strip() == (f"Error: rank 1 of 3 was killed by {name} (signal {number}), "
                           f"pid {worker} on {os.uname().nodename}; ending the job"), err


def test_exit_status_passes_through_and_no_launcher_means_no_supervisor():
    job = _start("exit", env=_clean_env(**LAUNCHERS["mpich"]))
    _pids(job)
    job.communicate(timeout=30)
    assert job.returncode == 5
    alone = _start("exit", env=_clean_env())
    worker, supervisor = _pids(alone)
    alone.communicate(timeout=30)
    assert alone.returncode == 5 and supervisor is None and worker == alone.pid


def test_a_signal_to_the_launched_process_group_reaches_the_rank_once():
    job = _start("count-sigint", env=_clean_env(**LAUNCHERS["mpich"]))
    _pids(job)
    assert job.stdout.readline().strip() == "ready"
    os.killpg(job.pid, signal.SIGINT)   # as MPICH's mpiexec passes on a Ctrl-C
    job.communicate(timeout=30)
    assert job.returncode == 1   # the count of SIGINTs the rank saw


def test_the_rank_ends_when_its_supervisor_is_killed():
    job = _start("sleep", env=_clean_env(**LAUNCHERS["mpich"]))
    worker, _ = _pids(job)
    assert job.stdout.readline().strip() == "ready"
    os.kill(job.pid, signal.SIGKILL)
    job.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(worker, signal.SIGKILL)
    pytest.fail("the rank's work outlived its supervisor")
