"""Elementwise ops and the sums the engine needs.

    relu_forward(x)                 out = max(x, 0)  (NaN passes through, as in torch.relu)
    relu_backward(dy, x)            dx = dy where x > 0, else 0
    axpby(a, b, alpha, beta)        out = alpha*a + beta*b   (add, subtract, accumulate with out=a)
    mul(a, b)                       out = a*b
    affine(a, alpha, beta)          out = alpha*a + beta     (scale, add a scalar, negate)
    fill(out, value)                out[:] = value
    broadcast_scalar(src, size)     out[i] = src[0]: the backward of a full sum, the scalar read
                                    on the device, so it never travels to the host
    sum_axes02(x)                   x (A, B, C) -> (B,), summed over axes 0 and 2

Elementwise ops work on flat views: they accept any rank (inputs and `out` of one shape) and
hand the kernels 1-D arrays. `out` may alias an input (each element is read before it is
written, by the same thread). The CUDA kernels use grid-stride loops over a grid capped at
MAX_BLOCKS blocks, so any size runs with a bounded launch.

sum_axes02 is the one bias-gradient reduction: the linear layer's over (N, K, 1), the
convolution's over (N, K, P*Q); full sums view x as (1, 1, size). It is deterministic on both
devices and on any thread count: no atomics, every output reduced in a fixed order (on the GPU
by one block, a shared-memory tree; on the CPU each row in float64, the rows added in order).
"""
import numpy as np
from numba import cuda, float32, njit, prange

from ._checks import ceil_div, check_array, output
from ._device_functions import block_tree_sum
from ._registry import Twins, cuda_kernel

VERSIONS = (1,)
DEFAULT_VERSION = 1

THREADS = 256
# Enough blocks to fill an H100 (132 SMs x 8 blocks of 256) several times over; larger arrays
# are covered by the grid-stride loops. Tests lower it to exercise the stride.
MAX_BLOCKS = 4096


def grid_1d(n: int) -> int:
    return max(1, min(ceil_div(n, THREADS), MAX_BLOCKS))


def _flat(a):
    # Contiguous (checked before), so this is a view for NumPy and device arrays alike.
    return a.reshape(a.size)


def _prepare(op, on_device, out, **arrays):
    """Same-shaped float32 contiguous inputs on the right device; `out` checked or allocated."""
    (first_name, first), *rest = arrays.items()
    for name, a in arrays.items():
        check_array(op, name, a)
        if tuple(a.shape) != tuple(first.shape):
            raise ValueError(f"{op}: {name} has shape {tuple(a.shape)}, {first_name} has "
                             f"{tuple(first.shape)}; they must match")
    return output(op, on_device, out, tuple(first.shape), **arrays)


# ---------------------------------------------------------------- CUDA kernels

@cuda_kernel("void(float32[::1], float32[::1])")
def _relu_forward_kernel(x, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = x[i]
        out[i] = float32(0.0) if v < float32(0.0) else v


@cuda_kernel("void(float32[::1], float32[::1], float32[::1])")
def _relu_backward_kernel(dy, x, dx):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        dx[i] = dy[i] if x[i] > float32(0.0) else float32(0.0)


@cuda_kernel("void(float32[::1], float32[::1], float32, float32, float32[::1])")
def _axpby_kernel(a, b, alpha, beta, out):
    for i in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        out[i] = alpha * a[i] + beta * b[i]


@cuda_kernel("void(float32[::1], float32[::1], float32[::1])")
def _mul_kernel(a, b, out):
    for i in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        out[i] = a[i] * b[i]


@cuda_kernel("void(float32[::1], float32, float32, float32[::1])")
def _affine_kernel(a, alpha, beta, out):
    for i in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        out[i] = alpha * a[i] + beta


@cuda_kernel("void(float32[::1], float32)")
def _fill_kernel(out, value):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = value


@cuda_kernel("void(float32[::1], float32[::1])")
def _broadcast_scalar_kernel(out, src):
    value = src[0]
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = value


# sum_axes02 has two layouts to keep reads coalesced: when C is long, a block walks the (a, c)
# plane of one b with consecutive threads on consecutive c; when C is short (the linear bias
# gradient has C = 1), consecutive threads take consecutive b instead and loop over a.
SUM_WIDE_MIN_C = 32
SUM_NARROW_B = 32      # b values per block (one warp wide)
SUM_NARROW_ROWS = 8    # threads per b, striding over a


@cuda_kernel("void(float32[:, :, ::1], float32[::1])")
def _sum_axes02_wide_kernel(x, out):
    n_a, n_b, n_c = x.shape
    b = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    partial = cuda.shared.array(THREADS, float32)
    acc = float32(0.0)
    for idx in range(tid, n_a * n_c, THREADS):
        acc += x[idx // n_c, b, idx % n_c]
    partial[tid] = acc
    block_tree_sum(partial, tid, THREADS)
    if tid == 0:
        out[b] = partial[0]


@cuda_kernel("void(float32[:, :, ::1], float32[::1])")
def _sum_axes02_narrow_kernel(x, out):
    n_a, n_b, n_c = x.shape
    col = cuda.threadIdx.x
    row = cuda.threadIdx.y
    b = cuda.blockIdx.x * SUM_NARROW_B + col
    partial = cuda.shared.array((SUM_NARROW_ROWS, SUM_NARROW_B), float32)
    acc = float32(0.0)
    if b < n_b:
        for a in range(row, n_a, SUM_NARROW_ROWS):
            for c in range(n_c):
                acc += x[a, b, c]
    partial[row, col] = acc
    cuda.syncthreads()
    step = SUM_NARROW_ROWS // 2
    while step > 0:
        if row < step:
            partial[row, col] += partial[row + step, col]
        cuda.syncthreads()
        step //= 2
    if row == 0 and b < n_b:
        out[b] = partial[0, col]


# ---------------------------------------------------------------- CPU twins

@njit(parallel=True, cache=True)
def _relu_forward_njit(x, out):
    for i in prange(x.size):
        v = x[i]
        out[i] = np.float32(0.0) if v < 0 else v


@njit(parallel=True, cache=True)
def _relu_backward_njit(dy, x, dx):
    for i in prange(x.size):
        dx[i] = dy[i] if x[i] > 0 else np.float32(0.0)


@njit(parallel=True, cache=True)
def _axpby_njit(a, b, alpha, beta, out):
    for i in prange(a.size):
        out[i] = alpha * a[i] + beta * b[i]


@njit(parallel=True, cache=True)
def _mul_njit(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] * b[i]


@njit(parallel=True, cache=True)
def _affine_njit(a, alpha, beta, out):
    for i in prange(a.size):
        out[i] = alpha * a[i] + beta


@njit(parallel=True, cache=True)
def _fill_njit(out, value):
    for i in prange(out.size):
        out[i] = value


@njit(parallel=True, cache=True)
def _broadcast_scalar_njit(out, src):
    value = src[0]
    for i in prange(out.size):
        out[i] = value


@njit(parallel=True, cache=True)
def _sum_axes02_njit(x, out):
    # Rows of x (one per (a, b)) are summed in parallel into float64 partials, read
    # contiguously with eight interleaved sums (so the loop vectorises) combined in a fixed
    # order; the partials are then added in a fixed order: no dependence on the thread count.
    n_a, n_b, n_c = x.shape
    xf = x.reshape(x.size)
    partial = np.empty((n_a, n_b), dtype=np.float64)
    for row in prange(n_a * n_b):
        start = np.uint64(row * n_c)
        end = start + np.uint64(n_c)
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        i = start
        while i + np.uint64(8) <= end:
            a0 += xf[i]
            a1 += xf[i + np.uint64(1)]
            a2 += xf[i + np.uint64(2)]
            a3 += xf[i + np.uint64(3)]
            a4 += xf[i + np.uint64(4)]
            a5 += xf[i + np.uint64(5)]
            a6 += xf[i + np.uint64(6)]
            a7 += xf[i + np.uint64(7)]
            i += np.uint64(8)
        while i < end:
            a0 += xf[i]
            i += np.uint64(1)
        partial[row // n_b, row % n_b] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    for b in range(n_b):
        acc = 0.0
        for a in range(n_a):
            acc += partial[a, b]
        out[b] = acc


# ---------------------------------------------------------------- public API

def _run(on_device, kernel, twin, *args):
    """The CUDA kernel on a grid covering args[0] (flat), or the CPU twin."""
    if not on_device:
        twin(*args)
    elif args[0].size:
        kernel[grid_1d(args[0].size), THREADS](*args)


def _relu_forward(op, on_device, x, out):
    out = _prepare(op, on_device, out, x=x)
    _run(on_device, _relu_forward_kernel, _relu_forward_njit, _flat(x), _flat(out))
    return out


def _relu_backward(op, on_device, dy, x, out):
    out = _prepare(op, on_device, out, dy=dy, x=x)
    _run(on_device, _relu_backward_kernel, _relu_backward_njit, _flat(dy), _flat(x), _flat(out))
    return out


def _axpby(op, on_device, a, b, alpha, beta, out):
    out = _prepare(op, on_device, out, a=a, b=b)
    _run(on_device, _axpby_kernel, _axpby_njit, _flat(a), _flat(b), np.float32(alpha),
         np.float32(beta), _flat(out))
    return out


def _mul(op, on_device, a, b, out):
    out = _prepare(op, on_device, out, a=a, b=b)
    _run(on_device, _mul_kernel, _mul_njit, _flat(a), _flat(b), _flat(out))
    return out


def _affine(op, on_device, a, alpha, beta, out):
    out = _prepare(op, on_device, out, a=a)
    _run(on_device, _affine_kernel, _affine_njit, _flat(a), np.float32(alpha), np.float32(beta),
         _flat(out))
    return out


def relu_forward_cpu(x, out=None):
    return _relu_forward("relu_forward_cpu", False, x, out)


def relu_forward_cuda(x, out=None):
    return _relu_forward("relu_forward_cuda", True, x, out)


def relu_backward_cpu(dy, x, out=None):
    return _relu_backward("relu_backward_cpu", False, dy, x, out)


def relu_backward_cuda(dy, x, out=None):
    return _relu_backward("relu_backward_cuda", True, dy, x, out)


def axpby_cpu(a, b, alpha, beta, out=None):
    return _axpby("axpby_cpu", False, a, b, alpha, beta, out)


def axpby_cuda(a, b, alpha, beta, out=None):
    return _axpby("axpby_cuda", True, a, b, alpha, beta, out)


def mul_cpu(a, b, out=None):
    return _mul("mul_cpu", False, a, b, out)


def mul_cuda(a, b, out=None):
    return _mul("mul_cuda", True, a, b, out)


def affine_cpu(a, alpha, beta, out=None):
    return _affine("affine_cpu", False, a, alpha, beta, out)


def affine_cuda(a, alpha, beta, out=None):
    return _affine("affine_cuda", True, a, alpha, beta, out)


def _fill(op, on_device, out, value):
    output(op, on_device, out, tuple(out.shape))
    _run(on_device, _fill_kernel, _fill_njit, _flat(out), np.float32(value))
    return out


def fill_cpu(out, value):
    return _fill("fill_cpu", False, out, value)


def fill_cuda(out, value):
    return _fill("fill_cuda", True, out, value)


def _check_broadcast_scalar(op, src, size, out, on_device):
    check_array(op, "src", src, 1)
    if src.shape[0] != 1:
        raise ValueError(f"{op}: src must hold one element, got shape {tuple(src.shape)}")
    return output(op, on_device, out, (int(size),), src=src)


def broadcast_scalar_cpu(src, size, out=None):
    """out[i] = src[0] for i < size; out is 1-D float32."""
    out = _check_broadcast_scalar("broadcast_scalar_cpu", src, size, out, False)
    _run(False, None, _broadcast_scalar_njit, out, src)
    return out


def broadcast_scalar_cuda(src, size, out=None):
    out = _check_broadcast_scalar("broadcast_scalar_cuda", src, size, out, True)
    _run(True, _broadcast_scalar_kernel, None, out, src)  # grid over out
    return out


def _check_sum_axes02(op, x, out, on_device):
    check_array(op, "x", x, 3)
    if min(x.shape) < 1:
        raise ValueError(f"{op}: x must not be empty, got shape {tuple(x.shape)}")
    return output(op, on_device, out, (x.shape[1],), x=x)


def sum_axes02_cpu(x, out=None):
    """x (A, B, C) -> (B,): the sum over axes 0 and 2."""
    out = _check_sum_axes02("sum_axes02_cpu", x, out, False)
    _sum_axes02_njit(x, out)
    return out


def sum_axes02_cuda(x, out=None):
    """x (A, B, C) -> (B,): the sum over axes 0 and 2, deterministic (no atomics)."""
    out = _check_sum_axes02("sum_axes02_cuda", x, out, True)
    n_b, n_c = x.shape[1], x.shape[2]
    if n_c >= SUM_WIDE_MIN_C:
        _sum_axes02_wide_kernel[n_b, THREADS](x, out)
    else:
        _sum_axes02_narrow_kernel[ceil_div(n_b, SUM_NARROW_B),
                                  (SUM_NARROW_B, SUM_NARROW_ROWS)](x, out)
    return out


OPS = {
    "relu_forward": Twins(relu_forward_cpu, relu_forward_cuda),
    "relu_backward": Twins(relu_backward_cpu, relu_backward_cuda),
    "axpby": Twins(axpby_cpu, axpby_cuda),
    "mul": Twins(mul_cpu, mul_cuda),
    "affine": Twins(affine_cpu, affine_cuda),
    "fill": Twins(fill_cpu, fill_cuda),
    "broadcast_scalar": Twins(broadcast_scalar_cpu, broadcast_scalar_cuda),
    "sum_axes02": Twins(sum_axes02_cpu, sum_axes02_cuda),
}
