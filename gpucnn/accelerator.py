"""`gpucnn.accelerator`: PyTorch's device-agnostic questions (torch.accelerator)."""
from . import cuda
from .devices import device


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """device("cuda") when a GPU is there, else None (gpucnn's only accelerator is CUDA)."""
    return device("cuda", cuda.current_device()) if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()


def synchronize(device=None):
    cuda.synchronize()
