"""The device's two ceilings: FP32 FLOP/s and memory bandwidth.

GPU: read from a table of known devices (`source: "table"`; FP32 without tensor cores, the
datasheet's bandwidth), with a quick measurement beside it (a device-to-device copy through
numba, counting bytes read + written; an FP32 matmul through torch or CuPy with TF32 off).
An unknown GPU uses the measurement (`source: "measured"`).

CPU: measured (`source: "measured"`): the best of a few float32 matmuls through NumPy's BLAS
(all cores) and the best of a few large copies (np.copyto, bytes read + bytes written). These
are what well-tuned code reaches on this machine, not datasheet numbers, so a fraction near 1
means "as fast as BLAS / memcpy here".
"""
import os
import time

import numpy as np
from numba import cuda

from .. import kernels
from ..kernels import map_ops

# name substring -> (FP32 GFLOP/s without tensor cores, bandwidth GB/s, what the entry is)
KNOWN_GPUS = [
    ("H100 80GB HBM3", 66_900, 3_350, "H100 SXM5: 67 TFLOP/s FP32, 3.35 TB/s HBM3 (about 3.0 "
                                      "measured by a device-to-device copy)"),
    ("H100 NVL", 60_000, 3_900, "H100 NVL: 60 TFLOP/s FP32, 3.9 TB/s"),
    ("H100 PCIe", 51_200, 2_000, "H100 PCIe: 51 TFLOP/s FP32, 2.0 TB/s"),
    ("H200", 66_900, 4_800, "H200: 67 TFLOP/s FP32, 4.8 TB/s HBM3e"),
    ("A100-SXM4-80GB", 19_500, 2_039, "A100 SXM 80GB: 19.5 TFLOP/s FP32, 2.04 TB/s"),
    ("A100-SXM4-40GB", 19_500, 1_555, "A100 SXM 40GB: 19.5 TFLOP/s FP32, 1.56 TB/s"),
    ("A100-PCIE-40GB", 19_500, 1_555, "A100 PCIe 40GB: 19.5 TFLOP/s FP32, 1.56 TB/s"),
    ("A100 80GB PCIe", 19_500, 1_935, "A100 PCIe 80GB: 19.5 TFLOP/s FP32, 1.94 TB/s"),
    ("L40S", 91_600, 864, "L40S: 91.6 TFLOP/s FP32, 864 GB/s"),
    ("A10", 31_200, 600, "A10: 31.2 TFLOP/s FP32, 600 GB/s"),
    ("T4", 8_100, 320, "T4: 8.1 TFLOP/s FP32, 320 GB/s"),
]


def cpu_last_level_cache_bytes() -> int | None:
    """The largest cache of CPU 0 (L3 on a server), from sysfs; None where it is not there."""
    sizes = []
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        entries = os.listdir(base)
    except OSError:
        return None
    for entry in entries:
        try:
            with open(os.path.join(base, entry, "size")) as f:
                text = f.read().strip().upper()
        except OSError:
            continue
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            sizes.append(int(digits) * scale)
    return max(sizes) if sizes else None


def gpu_l2_cache_bytes() -> int | None:
    try:
        return int(cuda.get_current_device().L2_CACHE_SIZE)
    except Exception:  # the simulator's device has no attributes; an old driver may not say
        return None


def table_entry(name: str):
    for key, gflops, gbs, note in KNOWN_GPUS:
        if key.lower() in name.lower():
            return gflops, gbs, note
    return None


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_cpu(quick: bool) -> dict:
    n = 1024 if quick else 2048
    a = np.random.default_rng(1).uniform(-1, 1, (n, n)).astype(np.float32)
    b = np.random.default_rng(2).uniform(-1, 1, (n, n)).astype(np.float32)
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)  # warm-up: thread pool start, page faults
    t = _best(lambda: np.matmul(a, b, out=out), 8 if quick else 5)  # best of: load elsewhere
    gflops = 2 * n ** 3 / t / 1e9  # (n x n) . (n x n): n^2 dot products of length n
    words = (32 << 20) if quick else (64 << 20)  # 128 or 256 MiB, far beyond any L3
    src = np.random.default_rng(3).uniform(-1, 1, words).astype(np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    # One thread (np.copyto) rarely saturates memory; the threaded copy of the elementwise
    # twin (every numba thread) usually does: the roof is the better of the two.
    threaded_copy = kernels.CPU["unary"]
    threaded_copy(map_ops.U_COPY, src, dst)
    t = min(_best(lambda: np.copyto(dst, src), 5),
            _best(lambda: threaded_copy(map_ops.U_COPY, src, dst), 5))
    gbs = 2 * src.nbytes / t / 1e9  # read src + write dst
    return {"fp32_gflops": gflops, "bandwidth_gbs": gbs, "source": "measured",
            "method": f"best of NumPy BLAS sgemm {n}^3, and of np.copyto and a threaded copy "
                      f"of {src.nbytes >> 20} MiB (read + write counted)",
            "cache_bytes": cpu_last_level_cache_bytes()}


def measure_gpu_bandwidth(env, words=None) -> float | None:
    """GB/s of a 1 GiB device-to-device copy (numba), read + write counted, timed by events."""
    from numba import cuda
    words = words or ((256 << 20) if not env.simulator else 1024)
    src = cuda.to_device(np.random.default_rng(4).uniform(-1, 1, words).astype(np.float32))
    dst = cuda.device_array_like(src)
    dst.copy_to_device(src)
    best = float("inf")
    for _ in range(5):
        t = env.clock.block(lambda _i: dst.copy_to_device(src), 0, 1)
        best = min(best, t)
    del src, dst
    return 2 * words * 4 / best / 1e9 if best > 0 else None


def measure_gpu_flops(env) -> float | None:
    """GFLOP/s of an 8192^3 FP32 matmul (TF32 off) through torch or CuPy, when installed."""
    n = 8192
    if env.torch is not None:
        torch = env.torch
        a = torch.rand(n, n, device="cuda") - 0.5
        b = torch.rand(n, n, device="cuda") - 0.5
        fn = (lambda _i: torch.mm(a, b))
    elif env.cupy is not None:
        cp = env.cupy
        a = cp.random.random((n, n), dtype=cp.float32) - 0.5
        b = cp.random.random((n, n), dtype=cp.float32) - 0.5
        fn = (lambda _i: cp.matmul(a, b))
    else:
        return None
    fn(0)
    env.clock.sync()
    best = min(env.clock.block(fn, 0, 1) for _ in range(5))
    return 2 * n ** 3 / best / 1e9


def peaks(env, measure_gpu=True) -> dict:
    """The device's peaks; measure_gpu=False keeps to the table on a known GPU (tests)."""
    if not env.on_gpu:
        return measure_cpu(env.quick)
    entry = table_entry(env.name)
    measured = {"cache_bytes": gpu_l2_cache_bytes()}
    if not env.simulator and (measure_gpu or entry is None):
        try:
            measured["measured_bandwidth_gbs"] = measure_gpu_bandwidth(env)
            measured["measured_fp32_gflops"] = measure_gpu_flops(env)
        except Exception as error:  # a measurement is a bonus beside the table
            measured["measure_error"] = f"{type(error).__name__}: {error}"
    if entry is not None:
        gflops, gbs, note = entry
        return {"fp32_gflops": gflops, "bandwidth_gbs": gbs, "source": "table", "table": note,
                **measured}
    gflops = measured.get("measured_fp32_gflops")
    gbs = measured.get("measured_bandwidth_gbs")
    if gflops and gbs:
        return {"fp32_gflops": gflops, "bandwidth_gbs": gbs, "source": "measured", **measured}
    # Unknown device and nothing measured (the simulator): no fractions of peak.
    return {"fp32_gflops": gflops, "bandwidth_gbs": gbs, "source": "unknown", **measured}
