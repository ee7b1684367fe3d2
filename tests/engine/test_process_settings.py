"""gpucnn.process_settings: each setting made when it is needed, never over the user's own,
all of them off with GPUCNN_PROCESS_SETTINGS=0, and nothing at all for a script that only
loads and saves weights."""
import ctypes
import os
import subprocess
import sys

import pytest

from gpucnn import process_settings


def _is_glibc():
    try:
        ctypes.CDLL("libc.so.6").mallopt  # noqa: B018
        return sys.platform.startswith("linux")
    except (OSError, AttributeError):
        return False


@pytest.mark.skipif(not _is_glibc(), reason="tunes glibc only")
def test_tunes_glibc(monkeypatch):
    for name in process_settings.MALLOC_USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(process_settings.OPT_OUT, raising=False)
    assert process_settings.keep_freed_memory() is True


@pytest.mark.parametrize("name", process_settings.MALLOC_USER_SETTINGS)
def test_leaves_a_users_malloc_settings_alone(monkeypatch, name):
    monkeypatch.setenv(name, "1")
    calls = []
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: calls.append(a))
    assert process_settings.keep_freed_memory() is False
    assert calls == []


def test_opt_out_turns_every_setting_off(monkeypatch):
    monkeypatch.setenv(process_settings.OPT_OUT, "0")
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    calls = []
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: calls.append(a))
    assert process_settings.keep_freed_memory() is False
    assert process_settings.short_openmp_spin() is False
    assert process_settings.prefer_avx512_blas() is False
    assert "GOMP_SPINCOUNT" not in os.environ and calls == []


def test_a_users_spin_count_wins(monkeypatch):
    monkeypatch.setenv("GOMP_SPINCOUNT", "7")
    assert process_settings.short_openmp_spin() is False
    assert os.environ["GOMP_SPINCOUNT"] == "7"


PROBE = """
import os, sys, numpy as np
import gpucnn as gc
gc.save({"w": np.ones(3, np.float32)}, sys.argv[1])
gc.load(sys.argv[1])
t = gc.tensor(np.ones(3))
print("after load/save:", os.environ.get("GOMP_SPINCOUNT"))
(t * 2.0).numpy()
print("after a CPU op:", os.environ.get("GOMP_SPINCOUNT"))
"""


def test_loading_and_saving_weights_changes_nothing_until_a_kernel_runs(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("GOMP_SPINCOUNT", process_settings.OPT_OUT)}
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "w.safetensors")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "after load/save: None" in done.stdout
    assert "after a CPU op: 20000" in done.stdout
