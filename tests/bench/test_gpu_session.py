"""The GPU session script proves itself on the CPU: `--dry-run` runs every stage under the
simulator and exits 0, and the real run's stage caps fit the 8 minutes a session may take."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_session.sh"
STAGES = ["preflight", "device", "bench", "memcheck", "racecheck"]


def caps(*mode):
    done = subprocess.run(["bash", str(SCRIPT), *mode, "--caps"], capture_output=True,
                          text=True, timeout=30, check=True)
    return {name: int(seconds) for name, seconds in
            (line.split() for line in done.stdout.splitlines())}


def test_real_session_caps_sum_to_at_most_eight_minutes():
    real = caps()
    assert list(real) == STAGES
    assert sum(real.values()) <= 8 * 60, real


def test_dry_run_runs_every_stage_and_passes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_ENABLE_CUDASIM",
                                                           "GPUCNN_TEST_GPU")}
    env["OUT"] = str(tmp_path)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True,
                          env=env, timeout=sum(caps("--dry-run").values()) + 60)
    assert done.returncode == 0, done.stdout + done.stderr
    log = (tmp_path / "session.log").read_text()
    for stage in STAGES:
        assert f"{stage}: exit 0" in log, log
    assert "CUDA simulator" in (tmp_path / "preflight.txt").read_text()
    names = {p.name for p in tmp_path.iterdir()}
    assert {"session.log", "preflight.txt", "tests.log", "bench.log", "memcheck.log",
            "racecheck.log"} <= names
    (json_file,) = [n for n in names if n.endswith(".json")]
    assert json_file.startswith("cuda-simulator-")
    assert len(names) <= 8, "a lent machine sends back at most 8 files"
    assert "passed" in (tmp_path / "tests.log").read_text()


@pytest.mark.parametrize("flag", ["--dry-run", None])
def test_every_stage_has_a_cap(flag):
    assert list(caps(*([flag] if flag else []))) == STAGES
