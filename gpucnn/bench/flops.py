"""FLOP and byte counts behind every rate the bench prints.

FLOPs: a multiply-add counts 2. Convolutions count every tap of every window, padding taps
included (the convention of cuDNN's and PyTorch's profilers), and leave out the bias adds
(one per output, under 1% of a layer's work here). Max-pooling does comparisons, not
floating-point arithmetic: 0 FLOPs, so its rate is GB/s only. Models are counted layer by
layer with gpucnn.nn.summary's definition, the one Module.summary prints.

Bytes: the fewest an op must move through memory, float32 = 4 bytes, int32 = 4 bytes: every
input read once, every output written once. Re-reads that a real kernel makes (tiles loaded
by several blocks, im2col buffers) are not counted, so GB/s is a lower bound on the traffic
and a fraction of the bandwidth peak says how close the op is to being purely memory-bound.
"""
from dataclasses import dataclass
from math import prod

from ..kernels._checks import conv_output_size
from ..nn import summary

F32 = 4
I32 = 4


@dataclass(frozen=True)
class ConvShape:
    n: int
    c: int
    h: int
    w: int
    k: int
    r: int
    s: int
    stride: int = 1
    pad: int = 0
    groups: int = 1
    dilation: int = 1

    @property
    def p(self) -> int:
        return conv_output_size(self.h, self.r, self.stride, self.pad, self.pad, self.dilation)

    @property
    def q(self) -> int:
        return conv_output_size(self.w, self.s, self.stride, self.pad, self.pad, self.dilation)

    @property
    def x_shape(self):
        return (self.n, self.c, self.h, self.w)

    @property
    def w_shape(self):
        return (self.k, self.c // self.groups, self.r, self.s)

    @property
    def y_shape(self):
        return (self.n, self.k, self.p, self.q)

    def describe(self) -> str:
        return (f"x {'x'.join(map(str, self.x_shape))}, w {'x'.join(map(str, self.w_shape))}, "
                f"pad {self.pad}, stride {self.stride} -> y {'x'.join(map(str, self.y_shape))}")


def conv2d_flops(cs: ConvShape) -> int:
    # Each of the N*K*P*Q outputs is a dot product of (C/groups)*R*S taps: 2 FLOPs per tap.
    # Backward-data and backward-weight are the same multiply-adds arranged differently.
    return 2 * cs.n * cs.k * cs.p * cs.q * (cs.c // cs.groups) * cs.r * cs.s


def conv2d_bytes(cs: ConvShape, op: str) -> int:
    x, w, y = prod(cs.x_shape), prod(cs.w_shape), prod(cs.y_shape)
    if op == "conv2d_forward":
        return F32 * (x + w + cs.k + y)     # read x, w, bias; write y
    if op == "conv2d_backward_data":
        return F32 * (y + w + x)            # read dy, w; write dx
    if op == "conv2d_backward_weight":
        return F32 * (x + y + w)            # read x, dy; write dw
    raise ValueError(f"unknown conv op {op!r}")


def matmul_flops(m: int, n: int, k: int) -> int:
    # (M, K) x (K, N): M*N dot products of length K.
    return 2 * m * n * k


def matmul_bytes(m: int, n: int, k: int, bias: bool = False) -> int:
    # read op(a) (M*K) and op(b) (K*N) once, the bias (N) if any, write out (M*N).
    return F32 * (m * k + k * n + m * n + (n if bias else 0))


def pool_out_hw(h: int, w: int, kernel: int, stride: int, pad: int = 0):
    return (conv_output_size(h, kernel, stride, pad, pad),
            conv_output_size(w, kernel, stride, pad, pad))


def max_pool2d_bytes(x_shape, kernel: int, stride: int, op: str, pad: int = 0) -> int:
    n, c, h, w = x_shape
    oh, ow = pool_out_hw(h, w, kernel, stride, pad)
    x, y = n * c * h * w, n * c * oh * ow
    if op == "max_pool2d_forward":
        return F32 * x + F32 * y + I32 * y    # read x; write y and int32 indices
    if op == "max_pool2d_backward":
        return F32 * y + I32 * y + F32 * x    # read dy and indices; write dx
    raise ValueError(f"unknown pool op {op!r}")


def rates(flops, nbytes, seconds):
    """(GFLOP/s, GB/s) for one call of `seconds`; None where a count is None."""
    if not seconds or seconds <= 0:
        return None, None
    gflops = flops / seconds / 1e9 if flops is not None else None
    gbs = nbytes / seconds / 1e9 if nbytes is not None else None
    return gflops, gbs


def peak_fraction(gflops, gbs, flops, nbytes, peaks) -> float | None:
    """Achieved rate over the roofline's attainable rate at this arithmetic intensity.

    attainable = min(peak FLOP/s, intensity * peak bandwidth) with intensity = FLOPs / bytes,
    so 1.0 means the kernel sits on the roof, whichever of the two limits it. A kernel with no
    FLOPs (pooling) is measured against bandwidth alone.
    """
    if peaks is None or gbs is None and gflops is None:
        return None
    peak_flops, peak_bw = peaks["fp32_gflops"], peaks["bandwidth_gbs"]
    if not flops:
        return gbs / peak_bw if gbs is not None and peak_bw else None
    if not nbytes:
        return gflops / peak_flops if peak_flops else None
    if not peak_flops or not peak_bw:
        return None
    attainable = min(peak_flops, flops / nbytes * peak_bw)
    return gflops / attainable


def cache_resident(nbytes, n_sets, peaks) -> str | None:
    """Why the roofline fraction does not apply, when the input sets a case cycles through fit
    in the device's last-level cache together (the roof is memory bandwidth), else None."""
    cache = (peaks or {}).get("cache_bytes")
    if not nbytes or not cache or nbytes * n_sets > cache:
        return None
    return (f"n/a: the {n_sets} input sets ({nbytes * n_sets / 2**20:.1f} MiB) fit in the "
            f"{cache / 2**20:.0f} MiB cache")


def bound(flops, nbytes, peaks) -> str | None:
    """'memory' or 'compute': which roof limits an op of this intensity on this device."""
    if not flops:
        return "memory" if nbytes else None
    if not nbytes or not peaks or not peaks.get("fp32_gflops") or not peaks.get("bandwidth_gbs"):
        return None
    ridge = peaks["fp32_gflops"] / peaks["bandwidth_gbs"]  # FLOPs per byte where the roofs meet
    return "compute" if flops / nbytes >= ridge else "memory"


def model_flops(model, input_chw) -> tuple[int, int]:
    """(forward, training-step) FLOPs per image: gpucnn.nn.summary's definition, the one
    Module.summary prints."""
    return summary.model_flops(model, input_chw)
