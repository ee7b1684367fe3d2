"""Keep freed activation memory in the process, so the next training step reuses it.

Every step allocates and frees the same activations and gradients (8 MB for the first CIFAR
conv's output at batch 64). glibc's malloc serves blocks that large with mmap and hands them
back to the kernel on free, or trims its heap once enough is free at the top, so the next step
touches brand-new pages and pays a page fault per 4 KB: measured 6-10 ms of a 31 ms convnet
step on 2 cores. Raising the two thresholds keeps those blocks in the heap for reuse. It is
the same trade PyTorch users make by preloading jemalloc or tcmalloc: the process holds on to
up to TRIM_THRESHOLD of freed memory.

Only glibc is tuned, once, at import, and not at all when the user set any MALLOC_* tuning
variable of their own.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20     # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 256 << 20

_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                  "MALLOC_MMAP_MAX_", "GLIBC_TUNABLES")


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; True if it was done."""
    if not sys.platform.startswith("linux") or any(v in os.environ for v in _USER_SETTINGS):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
