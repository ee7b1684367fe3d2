"""gpucnn.allocator: glibc's thresholds are raised, unless the user tuned malloc themselves."""
import ctypes
import sys

import pytest

from gpucnn import allocator


def _is_glibc():
    try:
        ctypes.CDLL("libc.so.6").mallopt  # noqa: B018
        return sys.platform.startswith("linux")
    except (OSError, AttributeError):
        return False


@pytest.mark.skipif(not _is_glibc(), reason="tunes glibc only")
def test_tunes_glibc(monkeypatch):
    for name in allocator._USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert allocator.keep_freed_memory() is True


@pytest.mark.parametrize("name", allocator._USER_SETTINGS)
def test_leaves_a_users_malloc_settings_alone(monkeypatch, name):
    monkeypatch.setenv(name, "1")
    calls = []
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: calls.append(a))
    assert allocator.keep_freed_memory() is False
    assert calls == []
