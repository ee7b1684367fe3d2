"""The process-wide settings gpucnn makes for its CPU kernels, all here, each with a reason.

    OPENBLAS_CORETYPE=SkylakeX   OpenBLAS's run-time detection picks its AVX2 ("Haswell")
                                 kernels on some AVX-512 CPUs (AMD Zen 4 under a hypervisor,
                                 measured here), halving the CPU convolutions' speed. OpenBLAS
                                 reads it when NumPy loads it, so this one is set when gpucnn is
                                 imported, and only if NumPy is not loaded yet (always so for the
                                 `gpucnn` command) and the CPU has AVX-512.
    GOMP_SPINCOUNT=20000         The CPU twins alternate numba parallel loops with BLAS
                                 products; two thread pools that spin while idle starve each
                                 other on a small machine (a LeNet-5 step took 1.2 s instead of
                                 4 ms on 2 cores). numba's OpenMP workers then spin briefly and
                                 sleep. numba's "workqueue" layer never spins but costs about
                                 100 us per parallel loop, more than most of a small step's loops.
    glibc malloc thresholds      Every training step allocates and frees the same activations
                                 (8 MB for a CIFAR layer at batch 64); glibc hands blocks that
                                 large back to the kernel on free, so the next step page-faults
                                 them in again: 6-10 ms of a 31 ms convnet step on 2 cores.
                                 Raising M_MMAP_THRESHOLD and M_TRIM_THRESHOLD keeps them in the
                                 process, the trade PyTorch users make by preloading jemalloc.
                                 Blocks above glibc's 32 MB threshold cap are mapped and unmapped
                                 on every allocation whatever the threshold, so M_MMAP_MAX=0
                                 serves them from the heap too (a 51 MB activation of a ResNet's
                                 first stage at batch 64: x + b took 17.5 ms, now 11).

The last two are made when the first CPU kernel is about to run (gpucnn.backend), not at
import: a script that only loads or saves weights changes nothing in its process. A setting
the user made wins (an environment variable set, any MALLOC_* or GLIBC_TUNABLES), and
GPUCNN_PROCESS_SETTINGS=0 turns all three off.
"""
import ctypes
import os
import sys

OPT_OUT = "GPUCNN_PROCESS_SETTINGS"

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
MMAP_THRESHOLD = 32 << 20     # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 256 << 20
MALLOC_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                        "MALLOC_MMAP_MAX_", "GLIBC_TUNABLES")

_cpu_settings_made = False


def enabled() -> bool:
    return os.environ.get(OPT_OUT, "1") != "0"


def prefer_avx512_blas() -> bool:
    """Set OPENBLAS_CORETYPE=SkylakeX on an AVX-512 CPU before NumPy loads OpenBLAS."""
    if not enabled() or "numpy" in sys.modules or "OPENBLAS_CORETYPE" in os.environ:
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return False
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= set(flags):
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
        return True
    return False


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds and stop it mapping large blocks; True if it
    was done."""
    if (not enabled() or not sys.platform.startswith("linux")
            or any(v in os.environ for v in MALLOC_USER_SETTINGS)):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(mallopt(M_MMAP_MAX, 0))


def short_openmp_spin() -> bool:
    """GOMP_SPINCOUNT for numba's OpenMP workers, read when they first start."""
    if not enabled() or "GOMP_SPINCOUNT" in os.environ:
        return False
    os.environ["GOMP_SPINCOUNT"] = "20000"
    return True


def before_cpu_kernels():
    """The settings the CPU kernels want, made once, before the first of them runs."""
    global _cpu_settings_made
    if not _cpu_settings_made:
        _cpu_settings_made = True
        short_openmp_spin()
        keep_freed_memory()
