"""Elementwise ops and the one reduction the engine needs.

    relu_forward(x)                 out = max(x, 0)  (NaN passes through, as in torch.relu)
    relu_backward(dy, x)            dx = dy where x > 0, else 0
    axpby(a, b, alpha, beta)        out = alpha*a + beta*b   (add, subtract, accumulate with out=a)
    mul(a, b)                       out = a*b
    affine(a, alpha, beta)          out = alpha*a + beta     (scale, add a scalar, negate)
    fill(out, value)                out[:] = value
    sum_axes02(x)                   x (A, B, C) -> (B,), summed over axes 0 and 2

Elementwise ops work on flat views: they accept any rank (inputs and `out` of one shape) and
hand the kernels 1-D arrays. `out` may alias an input (each element is read before it is
written, by the same thread). The CUDA kernels use grid-stride loops over a grid capped at
MAX_BLOCKS blocks, so any size runs with a bounded launch.

sum_axes02 covers the linear bias gradient (N, K, 1), the convolution bias gradient
(N, K, P*Q) and full sums (1, 1, size). On the GPU it is deterministic: no atomics, every
output is reduced by one block in a fixed order (a shared-memory tree).
"""
import numpy as np
from numba import cuda, float32, njit, prange

from ._checks import ceil_div, check_array, check_device, check_out
from ._block_reduce import block_tree_sum
from ._registry import cuda_kernel

THREADS = 256
# Enough blocks to fill an H100 (132 SMs x 8 blocks of 256) several times over; larger arrays
# are covered by the grid-stride loops. Tests lower it to exercise the stride.
MAX_BLOCKS = 4096


def grid_1d(n: int) -> int:
    return max(1, min(ceil_div(n, THREADS), MAX_BLOCKS))


def _flat(a):
    # Contiguous (checked before), so this is a view for NumPy and device arrays alike.
    return a.reshape(a.size)


def _check_same_shape(op, names_arrays):
    (first_name, first), *rest = names_arrays
    for name, a in rest:
        if tuple(a.shape) != tuple(first.shape):
            raise ValueError(f"{op}: {name} has shape {tuple(a.shape)}, {first_name} has "
                             f"{tuple(first.shape)}; they must match")


def _prepare(op, device, out, **arrays):
    """Validate same-shaped float32 contiguous inputs; allocate or check `out`."""
    for name, a in arrays.items():
        check_array(op, name, a)
    _check_same_shape(op, list(arrays.items()))
    shape = tuple(next(iter(arrays.values())).shape)
    if out is not None:
        check_out(op, out, shape)
    if device:
        for name, a in [*arrays.items(), ("out", out)]:
            if a is not None:
                check_device(op, name, a)
    if out is None:
        out = cuda.device_array(shape, np.float32) if device else np.empty(shape, np.float32)
    return out


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
def _sum_axes02_njit(x, out):
    # Rows of x (one per a) are summed in parallel into float64 partials, read contiguously;
    # the partials are then added in a fixed order, so the result does not depend on threads.
    n_a, n_b, n_c = x.shape
    partial = np.zeros((n_a, n_b), dtype=np.float64)
    for a in prange(n_a):
        for b in range(n_b):
            acc = 0.0
            for c in range(n_c):
                acc += x[a, b, c]
            partial[a, b] = acc
    for b in range(n_b):
        acc = 0.0
        for a in range(n_a):
            acc += partial[a, b]
        out[b] = acc


# ---------------------------------------------------------------- public API

def relu_forward_cpu(x, out=None):
    out = _prepare("relu_forward_cpu", False, out, x=x)
    _relu_forward_njit(_flat(x), _flat(out))
    return out


def relu_forward_cuda(x, out=None):
    out = _prepare("relu_forward_cuda", True, out, x=x)
    if x.size:
        _relu_forward_kernel[grid_1d(x.size), THREADS](_flat(x), _flat(out))
    return out


def relu_backward_cpu(dy, x, out=None):
    out = _prepare("relu_backward_cpu", False, out, dy=dy, x=x)
    _relu_backward_njit(_flat(dy), _flat(x), _flat(out))
    return out


def relu_backward_cuda(dy, x, out=None):
    out = _prepare("relu_backward_cuda", True, out, dy=dy, x=x)
    if x.size:
        _relu_backward_kernel[grid_1d(x.size), THREADS](_flat(dy), _flat(x), _flat(out))
    return out


def axpby_cpu(a, b, alpha, beta, out=None):
    out = _prepare("axpby_cpu", False, out, a=a, b=b)
    _axpby_njit(_flat(a), _flat(b), np.float32(alpha), np.float32(beta), _flat(out))
    return out


def axpby_cuda(a, b, alpha, beta, out=None):
    out = _prepare("axpby_cuda", True, out, a=a, b=b)
    if a.size:
        _axpby_kernel[grid_1d(a.size), THREADS](_flat(a), _flat(b), np.float32(alpha),
                                                np.float32(beta), _flat(out))
    return out


def mul_cpu(a, b, out=None):
    out = _prepare("mul_cpu", False, out, a=a, b=b)
    _mul_njit(_flat(a), _flat(b), _flat(out))
    return out


def mul_cuda(a, b, out=None):
    out = _prepare("mul_cuda", True, out, a=a, b=b)
    if a.size:
        _mul_kernel[grid_1d(a.size), THREADS](_flat(a), _flat(b), _flat(out))
    return out


def affine_cpu(a, alpha, beta, out=None):
    out = _prepare("affine_cpu", False, out, a=a)
    _affine_njit(_flat(a), np.float32(alpha), np.float32(beta), _flat(out))
    return out


def affine_cuda(a, alpha, beta, out=None):
    out = _prepare("affine_cuda", True, out, a=a)
    if a.size:
        _affine_kernel[grid_1d(a.size), THREADS](_flat(a), np.float32(alpha), np.float32(beta),
                                                 _flat(out))
    return out


def fill_cpu(out, value):
    check_array("fill_cpu", "out", out)
    _fill_njit(_flat(out), np.float32(value))
    return out


def fill_cuda(out, value):
    check_array("fill_cuda", "out", out)
    check_device("fill_cuda", "out", out)
    if out.size:
        _fill_kernel[grid_1d(out.size), THREADS](_flat(out), np.float32(value))
    return out


def _check_sum_axes02(op, x, out, device):
    check_array(op, "x", x, 3)
    if min(x.shape) < 1:
        raise ValueError(f"{op}: x must not be empty, got shape {tuple(x.shape)}")
    shape = (x.shape[1],)
    if out is not None:
        check_out(op, out, shape)
    if device:
        check_device(op, "x", x)
        if out is not None:
            check_device(op, "out", out)
    if out is None:
        out = cuda.device_array(shape, np.float32) if device else np.empty(shape, np.float32)
    return out


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
