"""Dense matrix product: out = op(a) · op(b), plus bias[j] on every row when a bias is given.

op(a) is (M, K): `a` itself, or `a.T` when trans_a (a is then stored (K, M)).
op(b) is (K, N): `b` itself, or `b.T` when trans_b (b is then stored (N, K)).
A linear layer with weight W (out_features, in_features) needs three of these:

    forward   y  = x · Wᵀ + bias     matmul(x, W, trans_b=True, bias=bias)
    backward  dx = dy · W            matmul(dy, W)
              dW = dyᵀ · x           matmul(dy, x, trans_a=True)
              db = column sums of dy matmul_bias_grad(dy)

The CUDA side keeps a ladder of versions (as llm.c keeps kernel1, kernel2, ...), each validated
against the CPU twin, chosen with `version=`:

    1  naive: one thread per output, the K loop straight from global memory.
    2  shared-memory tiling: 16x16 tiles of op(a) and op(b) staged in shared memory.
    3  shared-memory tiles + 2-D register tiling (default): a 64x64 output tile per block of
       256 threads, each thread accumulating a 4x4 block of outputs in registers, K walked
       8 at a time; every shared-memory access is free of bank conflicts.

Transposes are handled inside the tile loads (which element each thread fetches), never by
copying. Partial tiles at every edge are zero-filled on load and skipped on store, so any
M, N, K >= 1 works. Accumulation is float32 throughout. `out` must not alias `a` or `b`.

The CPU twin hands the product itself to NumPy's BLAS (`np.matmul` on one BLAS thread, see
_blas.py: much faster than any njit loop nest) and adds the bias in an njit loop.
"""
import numpy as np
from numba import cuda, float32, njit, prange

from . import _blas as blas
from ._checks import ceil_div, check_array, check_device, check_out
from ._registry import cuda_kernel
from .elementwise import sum_axes02_cpu, sum_axes02_cuda

VERSIONS = (1, 2, 3)
BEST_VERSION = 3

_SIGNATURE = "void(float32[:, ::1], float32[:, ::1], float32[::1], float32[:, ::1], int32, int32, int32)"

# ---------------------------------------------------------------- version 1: naive

V1_BLOCK = 16


@cuda_kernel(_SIGNATURE)
def _matmul_v1(a, b, bias, out, trans_a, trans_b, has_bias):
    m_size, n_size = out.shape
    k_size = a.shape[0] if trans_a else a.shape[1]
    # x runs along a row of out, so neighbouring threads read neighbouring b (untransposed)
    # and write neighbouring out.
    col = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    row = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
    if row >= m_size or col >= n_size:
        return
    acc = float32(0.0)
    for k in range(k_size):
        a_val = a[k, row] if trans_a else a[row, k]
        b_val = b[col, k] if trans_b else b[k, col]
        acc += a_val * b_val
    if has_bias:
        acc += bias[col]
    out[row, col] = acc


# ---------------------------------------------------------------- version 2: shared-memory tiles

V2_TILE = 16
V2_PITCH = V2_TILE + 1  # the transposed fills below write columns; an odd pitch spreads them over banks


@cuda_kernel(_SIGNATURE)
def _matmul_v2(a, b, bias, out, trans_a, trans_b, has_bias):
    m_size, n_size = out.shape
    k_size = a.shape[0] if trans_a else a.shape[1]
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row0 = cuda.blockIdx.y * V2_TILE
    col0 = cuda.blockIdx.x * V2_TILE
    a_tile = cuda.shared.array((V2_TILE, V2_PITCH), float32)  # a_tile[m][k]
    b_tile = cuda.shared.array((V2_TILE, V2_PITCH), float32)  # b_tile[k][n]
    acc = float32(0.0)
    for k0 in range(0, k_size, V2_TILE):
        # Each thread fetches one element of each tile, chosen so that tx (consecutive threads)
        # walks the contiguous axis of the array in memory: coalesced whatever the layout.
        if trans_a:
            m = row0 + tx
            k = k0 + ty
            a_tile[tx, ty] = a[k, m] if m < m_size and k < k_size else float32(0.0)
        else:
            m = row0 + ty
            k = k0 + tx
            a_tile[ty, tx] = a[m, k] if m < m_size and k < k_size else float32(0.0)
        if trans_b:
            k = k0 + tx
            n = col0 + ty
            b_tile[tx, ty] = b[n, k] if n < n_size and k < k_size else float32(0.0)
        else:
            k = k0 + ty
            n = col0 + tx
            b_tile[ty, tx] = b[k, n] if n < n_size and k < k_size else float32(0.0)
        cuda.syncthreads()
        for kk in range(V2_TILE):
            acc += a_tile[ty, kk] * b_tile[kk, tx]
        cuda.syncthreads()
    row = row0 + ty
    col = col0 + tx
    if row < m_size and col < n_size:
        if has_bias:
            acc += bias[col]
        out[row, col] = acc


# ---------------------------------------------------------------- version 3: 2-D register tiles

V3_BM = 64          # output rows per block
V3_BN = 64          # output columns per block
V3_BK = 8           # K per shared-memory stage
V3_TM = 4           # output rows per thread
V3_TN = 4           # output columns per thread
V3_THREADS_M = V3_BM // V3_TM                 # 16 threads down a block's rows
V3_THREADS_N = V3_BN // V3_TN                 # 16 threads across its columns
V3_THREADS = V3_THREADS_M * V3_THREADS_N      # 256
V3_A_LOADS = V3_BM * V3_BK // V3_THREADS      # tile elements each thread loads: 2
V3_B_LOADS = V3_BN * V3_BK // V3_THREADS      # 2
# Tiles are stored k-major (tile[k][m]) so the inner loop reads along rows. An untransposed
# operand is filled with k fastest: a warp writes 8 k x 4 m, and a pitch of 64 + 4 words puts
# those 32 writes in 32 different banks (4k + m mod 32). The other layout writes along a row.
V3_PITCH_M = V3_BM + 4
V3_PITCH_N = V3_BN + 4


@cuda_kernel(_SIGNATURE)
def _matmul_v3(a, b, bias, out, trans_a, trans_b, has_bias):
    m_size, n_size = out.shape
    k_size = a.shape[0] if trans_a else a.shape[1]
    tid = cuda.threadIdx.x
    # A thread owns rows ty + 16*i and columns tx + 16*j of the block's tile (strided, not a
    # contiguous 4x4 patch): a warp then reads 16 consecutive words of b_tile (no bank
    # conflict), 2 words of a_tile (broadcast), and writes out in 64-byte runs.
    tx = tid % V3_THREADS_N
    ty = tid // V3_THREADS_N
    row0 = cuda.blockIdx.y * V3_BM
    col0 = cuda.blockIdx.x * V3_BN
    a_tile = cuda.shared.array((V3_BK, V3_PITCH_M), float32)
    b_tile = cuda.shared.array((V3_BK, V3_PITCH_N), float32)
    acc = cuda.local.array((V3_TM, V3_TN), float32)
    a_frag = cuda.local.array(V3_TM, float32)
    b_frag = cuda.local.array(V3_TN, float32)
    for i in range(V3_TM):
        for j in range(V3_TN):
            acc[i, j] = float32(0.0)

    for k0 in range(0, k_size, V3_BK):
        # Coalesced fills: consecutive threads take consecutive addresses of the stored array.
        for r in range(V3_A_LOADS):
            idx = tid + r * V3_THREADS
            if trans_a:   # a is (K, M): m is contiguous
                kk = idx // V3_BM
                mm = idx % V3_BM
            else:         # a is (M, K): k is contiguous (8 floats per row and stage)
                kk = idx % V3_BK
                mm = idx // V3_BK
            m = row0 + mm
            k = k0 + kk
            value = float32(0.0)
            if m < m_size and k < k_size:
                value = a[k, m] if trans_a else a[m, k]
            a_tile[kk, mm] = value
        for r in range(V3_B_LOADS):
            idx = tid + r * V3_THREADS
            if trans_b:   # b is (N, K): k is contiguous
                kk = idx % V3_BK
                nn = idx // V3_BK
            else:         # b is (K, N): n is contiguous
                kk = idx // V3_BN
                nn = idx % V3_BN
            n = col0 + nn
            k = k0 + kk
            value = float32(0.0)
            if n < n_size and k < k_size:
                value = b[n, k] if trans_b else b[k, n]
            b_tile[kk, nn] = value
        cuda.syncthreads()

        for kk in range(V3_BK):
            for i in range(V3_TM):
                a_frag[i] = a_tile[kk, ty + i * V3_THREADS_M]
            for j in range(V3_TN):
                b_frag[j] = b_tile[kk, tx + j * V3_THREADS_N]
            for i in range(V3_TM):
                for j in range(V3_TN):
                    acc[i, j] += a_frag[i] * b_frag[j]
        cuda.syncthreads()

    for i in range(V3_TM):
        row = row0 + ty + i * V3_THREADS_M
        if row < m_size:
            for j in range(V3_TN):
                col = col0 + tx + j * V3_THREADS_N
                if col < n_size:
                    value = acc[i, j]
                    if has_bias:
                        value += bias[col]
                    out[row, col] = value


# ---------------------------------------------------------------- CPU twin

@njit(parallel=True, cache=True)
def _add_bias_njit(out, bias):
    m, n = out.shape
    for i in prange(m):
        for j in range(n):
            out[i, j] += bias[j]


# ---------------------------------------------------------------- public API

def _check_matmul(op, a, b, trans_a, trans_b, bias, out, device):
    check_array(op, "a", a, 2)
    check_array(op, "b", b, 2)
    m, k = (a.shape[1], a.shape[0]) if trans_a else tuple(a.shape)
    k_b, n = (b.shape[1], b.shape[0]) if trans_b else tuple(b.shape)
    if k != k_b:
        raise ValueError(f"{op}: inner dimensions differ: op(a) is ({m}, {k}) (a {tuple(a.shape)}, "
                         f"trans_a={trans_a}), op(b) is ({k_b}, {n}) (b {tuple(b.shape)}, "
                         f"trans_b={trans_b})")
    if min(m, n, k) < 1:
        raise ValueError(f"{op}: empty product, a {tuple(a.shape)}, b {tuple(b.shape)}")
    if bias is not None:
        check_array(op, "bias", bias, 1)
        if bias.shape[0] != n:
            raise ValueError(f"{op}: bias has shape {tuple(bias.shape)}, expected ({n},) for an "
                             f"output of shape ({m}, {n})")
    if out is not None:
        check_out(op, out, (m, n))
    if device:
        for name, x in (("a", a), ("b", b), ("bias", bias), ("out", out)):
            if x is not None:
                check_device(op, name, x)
    return m, n


def matmul_cpu(a, b, trans_a=False, trans_b=False, bias=None, out=None, version=BEST_VERSION):
    """op(a) · op(b) (+ bias on every row). `version` selects a CUDA kernel; the CPU has one."""
    if version not in VERSIONS:
        raise ValueError(f"matmul_cpu: version must be one of {VERSIONS}, got {version}")
    m, n = _check_matmul("matmul_cpu", a, b, trans_a, trans_b, bias, out, False)
    if out is None:
        out = np.empty((m, n), np.float32)
    # Transposed views go to BLAS as a transpose flag, not as a copy.
    blas.matmul(a.T if trans_a else a, b.T if trans_b else b, out=out)
    if bias is not None:
        _add_bias_njit(out, bias)
    return out


def matmul_cuda(a, b, trans_a=False, trans_b=False, bias=None, out=None, version=BEST_VERSION):
    """op(a) · op(b) (+ bias on every row) with CUDA kernel `version` (1, 2 or 3)."""
    if version not in VERSIONS:
        raise ValueError(f"matmul_cuda: version must be one of {VERSIONS}, got {version}")
    m, n = _check_matmul("matmul_cuda", a, b, trans_a, trans_b, bias, out, True)
    if out is None:
        out = cuda.device_array((m, n), np.float32)
    # The kernels skip `bias` when has_bias is 0, but the signature still wants a float32
    # vector: a row of out is one, at no allocation.
    args = (a, b, out[0] if bias is None else bias, out,
            np.int32(bool(trans_a)), np.int32(bool(trans_b)), np.int32(bias is not None))
    if version == 1:
        _matmul_v1[(ceil_div(n, V1_BLOCK), ceil_div(m, V1_BLOCK)), (V1_BLOCK, V1_BLOCK)](*args)
    elif version == 2:
        _matmul_v2[(ceil_div(n, V2_TILE), ceil_div(m, V2_TILE)), (V2_TILE, V2_TILE)](*args)
    else:
        _matmul_v3[(ceil_div(n, V3_BN), ceil_div(m, V3_BM)), V3_THREADS](*args)
    return out


def matmul_bias_grad_cpu(dy, out=None):
    """Bias gradient of a linear layer: dy (M, N) -> (N,), the sum over rows."""
    check_array("matmul_bias_grad_cpu", "dy", dy, 2)
    return sum_axes02_cpu(dy.reshape(dy.shape[0], dy.shape[1], 1), out)


def matmul_bias_grad_cuda(dy, out=None):
    """Bias gradient of a linear layer: dy (M, N) -> (N,), the sum over rows (deterministic)."""
    check_array("matmul_bias_grad_cuda", "dy", dy, 2)
    return sum_axes02_cuda(dy.reshape(dy.shape[0], dy.shape[1], 1), out)
