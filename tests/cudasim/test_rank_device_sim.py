"""A data-parallel rank picks its GPU (its local rank) before anything resolves "cuda"; from
then on "cuda" means that GPU, and another index is refused (one GPU per process)."""
import pytest

from gpucnn import cuda, devices


def test_cuda_means_the_gpu_this_process_chose(monkeypatch):
    monkeypatch.setattr(cuda, "_device_index", 1)   # as cuda.set_device(local rank 1) leaves it
    assert devices.resolve("cuda") == devices.device("cuda", 1)
    assert devices.resolve("cuda").index == 1
    with pytest.raises(ValueError, match="already uses cuda:1"):
        devices.resolve("cuda:0")
