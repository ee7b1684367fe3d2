"""`mpiexec -n N gpucnn train --distributed`: the run one process would make, printed and saved
once, resumable at any number of ranks, and ended cleanly when a rank fails."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import numpy as np

import gpucnn as gc

from .conftest import ENV, MPIEXEC, REPO_ROOT, gpucnn_command, mpiexec, output

DIGITS = ("--device", "cpu", "--batch-size", 16, "--seed", 3)


def _weights(path):
    return {k: v for k, v in gc.load(path).items() if k.startswith("model.")}


def _close(a, b, atol):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=0, atol=atol,
                                   err_msg=key)


def _same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_two_ranks_take_the_steps_of_one_process(tmp_path):
    run = ("train", *DIGITS, "--train-size", 80, "--epochs", 1, "--quiet")
    one = subprocess.run(gpucnn_command(*run, "--save", tmp_path / "one.st"), cwd=REPO_ROOT,
                         env=ENV, capture_output=True, text=True, timeout=120)
    assert one.returncode == 0, output(one)
    two, _ = mpiexec(2, *gpucnn_command(*run, "--distributed", "--save", tmp_path / "two.st",
                                        "--json", tmp_path / "two.json"))
    assert two.returncode == 0, output(two)
    # 5 steps of 16 images, 8 per rank: the same weights up to float32 summation order.
    _close(_weights(tmp_path / "one.st"), _weights(tmp_path / "two.st"), atol=1e-6)
    assert not np.allclose(_weights(tmp_path / "one.st")["model.0.weight"], 0)
    assert two.stdout.count("test accuracy") == 1, output(two)   # rank 0 alone prints
    assert "x 2 ranks (mpi)" in two.stdout and "rank 1: pid" in two.stdout
    metrics = json.loads((tmp_path / "two.json").read_text())
    assert metrics["world_size"] == 2 and metrics["train_images"] == 80
    assert metrics["test_images"] == 1797 - 80 or metrics["test_correct"] <= metrics["test_images"]


def _start(tmp_path, *args):
    log = open(tmp_path / "job.log", "w")
    job = subprocess.Popen([str(MPIEXEC), "-n", "2", *gpucnn_command(*args)], cwd=REPO_ROOT,
                           env=ENV, stdout=log, stderr=subprocess.STDOUT)
    return job, log


def _wait_for(path, job, seconds=120):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert job.poll() is None, "the job ended before writing its first checkpoint"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def _finish(job, log, seconds=60):
    start = time.monotonic()
    try:
        code = job.wait(timeout=seconds)
    finally:
        if job.poll() is None:
            job.kill()
        log.close()
    return code, time.monotonic() - start


def test_a_killed_rank_ends_the_job_and_the_checkpoint_resumes_at_any_world_size(tmp_path):
    epochs = ("--epochs", 3)
    full, _ = mpiexec(2, *gpucnn_command("train", *DIGITS, *epochs, "--distributed", "--quiet",
                                         "--save", tmp_path / "full.st"))
    assert full.returncode == 0, output(full)

    checkpoint = tmp_path / "ck.st"
    job, log = _start(tmp_path, "train", *DIGITS, *epochs, "--distributed", "--quiet",
                      "--save", checkpoint)
    _wait_for(checkpoint, job)
    text = (tmp_path / "job.log").read_text()
    os.kill(int(re.search(r"rank 1: pid (\d+)", text).group(1)), signal.SIGKILL)
    code, seconds = _finish(job, log)
    assert code != 0 and seconds < 60, (code, seconds)
    assert "Error: rank 1 of 2 was killed by SIGKILL" in (tmp_path / "job.log").read_text()
    done = gc.load(checkpoint)   # intact: it loads, and it is a checkpoint of a whole epoch
    assert any(k.startswith("optimizer.") for k in done)

    resumed = {}
    for ranks in (1, 2):
        target = tmp_path / f"resumed{ranks}.st"
        shutil.copy(checkpoint, target)
        command = gpucnn_command("train", "--resume", target, "--save", target, "--quiet",
                                 "--device", "cpu")
        if ranks == 1:
            result = subprocess.run(command, cwd=REPO_ROOT, env=ENV, capture_output=True,
                                    text=True, timeout=120)
        else:
            result, _ = mpiexec(2, *command, "--distributed")
        assert result.returncode == 0, output(result)
        resumed[ranks] = _weights(target)
    _same(resumed[2], _weights(tmp_path / "full.st"))   # exactly the uninterrupted run
    _close(resumed[1], resumed[2], atol=1e-4)           # the same steps, other sum order


def test_a_rank_whose_checkpoint_cannot_be_written_ends_the_job_naming_it(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    job, log = _start(tmp_path, "train", *DIGITS, "--epochs", 4, "--distributed", "--quiet",
                      "--save", folder / "ck.st")
    _wait_for(folder / "ck.st", job)
    os.remove(folder / "ck.st")
    os.mkdir(folder / "ck.st")   # the next save cannot replace a folder
    code, seconds = _finish(job, log)
    text = (tmp_path / "job.log").read_text()
    assert code != 0 and seconds < 60, (code, seconds, text)
    assert "rank 0 of 2: cannot write checkpoint" in text, (code, text)
    assert "Traceback" not in text, text


def test_a_bad_option_is_reported_once_before_any_step(tmp_path):
    done, _ = mpiexec(2, *gpucnn_command("train", "--distributed", "--device", "cpu",
                                         "--epochs", 0, "--json", tmp_path / "m.json"))
    assert done.returncode == 1, output(done)
    errors = [line for line in output(done).splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "--epochs" in errors[0], output(done)
    assert "Traceback" not in output(done) and not (tmp_path / "m.json").exists()


def test_ctrl_c_stops_every_rank_after_the_same_batch_and_rank_0_saves(tmp_path):
    checkpoint = tmp_path / "ck.st"
    job, log = _start(tmp_path, "train", *DIGITS, "--epochs", 4, "--distributed", "--quiet",
                      "--save", checkpoint)
    _wait_for(checkpoint, job)
    job.send_signal(signal.SIGINT)   # mpiexec passes Ctrl-C on to every rank
    code, seconds = _finish(job, log)
    text = (tmp_path / "job.log").read_text()
    assert code == 130 and seconds < 60, (code, text)
    assert text.count("interrupted in epoch") == 1 and "Traceback" not in text, text
    stopped = re.search(r"after batch (\d+)/90", text)
    assert stopped, text
    resumed, _ = mpiexec(2, *gpucnn_command("train", "--resume", checkpoint, "--save",
                                            checkpoint, "--distributed", "--quiet",
                                            "--device", "cpu"))
    assert resumed.returncode == 0, output(resumed)
    assert "after 4 epochs" in resumed.stdout, output(resumed)
