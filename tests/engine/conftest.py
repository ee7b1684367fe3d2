"""Fixtures of the engine tests."""
import pytest


@pytest.fixture
def no_kernels(monkeypatch):
    """Any kernel call fails the test: the error must come before dispatch."""
    from gpucnn import backend

    class Refuse:
        def __getattr__(self, name):
            raise AssertionError(f"kernel {name} ran despite bad input")

    monkeypatch.setattr(backend.Backend, "kernels", property(lambda self: Refuse()))
    backend._BACKENDS.clear()
    yield
    backend._BACKENDS.clear()
