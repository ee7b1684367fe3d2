"""Launch geometry made small for the simulator, which runs one OS thread per CUDA thread, so
that tiny shapes span several blocks, end in a partial one, and reach the grid-stride loops.

    shrink_engine_blocks(monkeypatch)
                             in the simulator only: blocks of 32 threads for the elementwise,
                             index and random kernels, and the small reduce blocks below
    shrink_reduce_blocks(monkeypatch)
                             in the simulator only: reduce blocks of 16 threads (4 lanes of 4
                             outputs for the columns kernel); on a GPU they are compiled in
    grid_stride(module, name, value)
                             a fixture `stride`, "one-pass" and "grid-stride": the second sets
                             module.name = value, a grid cap that makes every launch stride
"""
import pytest
from numba.cuda import config

from gpucnn.kernels import elementwise, index, random, reduce


def shrink_reduce_blocks(monkeypatch):
    if config.ENABLE_CUDASIM:
        monkeypatch.setattr(reduce, "THREADS", 16)
        monkeypatch.setattr(reduce, "COLUMN_OUTPUTS", 4)
        monkeypatch.setattr(reduce, "COLUMN_LANES", 4)


def shrink_engine_blocks(monkeypatch):
    if config.ENABLE_CUDASIM:
        for module in (elementwise, index, random):
            monkeypatch.setattr(module, "THREADS", 32)
        shrink_reduce_blocks(monkeypatch)


def grid_stride(module, name, value):
    @pytest.fixture(name="stride", params=[False, True], ids=["one-pass", "grid-stride"])
    def stride(request, monkeypatch):
        if request.param:
            monkeypatch.setattr(module, name, value)
        return request.param
    return stride
