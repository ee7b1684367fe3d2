"""`gpucnn.cpu`: torch.cpu's device-agnostic answers for the host, beside gpucnn.cuda.

gpucnn's CPU kernels return when their work is done (their thread pool is joined before
a kernel returns), so there is nothing to wait for: synchronize() returns at once, as
torch.cpu.synchronize does. `gpucnn.cpu.amp` holds torch.cpu.amp's deprecated autocast and
GradScaler (gpucnn/amp/cpu_amp.py).
"""


def is_available() -> bool:
    """Always True: the host is always there."""
    return True


def is_initialized() -> bool:
    return True


def synchronize(device=None) -> None:
    """Returns at once (device is ignored: there is one CPU device)."""


def current_device() -> str:
    return "cpu"


def set_device(device) -> None:
    """Does nothing, as torch.cpu.set_device (there is one CPU device)."""


def device_count() -> int:
    return 1
