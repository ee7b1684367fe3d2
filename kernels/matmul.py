"""Dense matrix product: out = op(a) · op(b), plus bias[j] on every row when a bias is given.

op(a) is (M, K): `a` itself, or `a.T` when trans_a (a is then stored (K, M)).
op(b) is (K, N): `b` itself, or `b.T` when trans_b (b is then stored (N, K)).
A linear layer with weight W (out_features, in_features) needs three of these:

    forward   y  = x · Wᵀ + bias     matmul(x, W, trans_b=True, bias=bias)
    backward  dx = dy · W            matmul(dy, W)
              dW = dyᵀ · x           matmul(dy, x, trans_a=True)
              db = column sums of dy (elementwise.py's sum_axes02, as the convolution's)

The CUDA side keeps a ladder of versions (as llm.c keeps kernel1, kernel2, ...), each validated
against the CPU twin, chosen with `version=`:

    1  _matmul_v1_naive: one thread per output, the K loop straight from global memory.
    2  _matmul_v2_shared_tiles: 16x16 tiles of op(a) and op(b) staged in shared memory.
    3  _matmul_v3_register_tiles (default): a 64x64 output tile per block of 256 threads, each
       thread accumulating a 4x4 block of outputs in registers (_device_functions.py, shared
       with the convolutions' implicit GEMM), K walked 8 at a time; every shared-memory access
       is free of bank conflicts.

Transposes are handled inside the tile loads (which element each thread fetches), never by
copying. Partial tiles at every edge are zero-filled on load and skipped on store, so any
M, N, K >= 1 works. Accumulation is float32 throughout. `out` must not alias `a` or `b`.

The CPU twin hands the product itself to NumPy's BLAS (`np.matmul` on one BLAS thread, see
_blas.py: much faster than any njit loop nest) and adds the bias in an njit loop.
"""
import numpy as np
from numba import cuda, float32, njit, prange

from . import _blas as blas
from ._checks import ceil_div, check_array, output
from ._device_functions import (TILE, TILE_REGS, TILE_THREADS, multiply_tiles, store_tile,
                                tile_thread, zero_tile)
from ._registry import Twins, cuda_kernel

VERSIONS = (1, 2, 3)
DEFAULT_VERSION = 3

_SIGNATURE = "void(float32[:, ::1], float32[:, ::1], float32[::1], float32[:, ::1], int32, int32, int32)"

@cuda.jit(device=True, inline="always")
def _element(x, transposed, i, j, rows, cols):
    """op(x)[i, j], with op(x) = x.T when transposed; 0 outside the rows x cols matrix (the
    zero fill of partial tiles)."""
    if i >= rows or j >= cols:
        return float32(0.0)
    return x[j, i] if transposed else x[i, j]


# ---------------------------------------------------------------- version 1: naive

V1_BLOCK = 16


@cuda_kernel(_SIGNATURE)
def _matmul_v1_naive(a, b, bias, out, trans_a, trans_b, has_bias):
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
        acc += (_element(a, trans_a, row, k, m_size, k_size)
                * _element(b, trans_b, k, col, k_size, n_size))
    if has_bias:
        acc += bias[col]
    out[row, col] = acc


# ---------------------------------------------------------------- version 2: shared-memory tiles

V2_TILE = 16
V2_PITCH = V2_TILE + 1  # the transposed fills below write columns; an odd pitch spreads them over banks


@cuda_kernel(_SIGNATURE)
def _matmul_v2_shared_tiles(a, b, bias, out, trans_a, trans_b, has_bias):
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
        mm, ka = (tx, ty) if trans_a else (ty, tx)
        a_tile[mm, ka] = _element(a, trans_a, row0 + mm, k0 + ka, m_size, k_size)
        kb, nn = (tx, ty) if trans_b else (ty, tx)
        b_tile[kb, nn] = _element(b, trans_b, k0 + kb, col0 + nn, k_size, n_size)
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

V3_BM = V3_BN = TILE     # 64 x 64 output tile per block of TILE_THREADS
V3_BK = 8               # K per shared-memory stage
V3_A_LOADS = V3_BM * V3_BK // TILE_THREADS      # tile elements each thread loads: 2
V3_B_LOADS = V3_BN * V3_BK // TILE_THREADS      # 2
# Tiles are stored k-major (tile[k][m]) so the inner loop reads along rows. An untransposed
# operand is filled with k fastest: a warp writes 8 k x 4 m, and a pitch of 64 + 4 words puts
# those 32 writes in 32 different banks (4k + m mod 32). The other layout writes along a row.
V3_PITCH_M = V3_BM + 4
V3_PITCH_N = V3_BN + 4


@cuda_kernel(_SIGNATURE)
def _matmul_v3_register_tiles(a, b, bias, out, trans_a, trans_b, has_bias):
    m_size, n_size = out.shape
    k_size = a.shape[0] if trans_a else a.shape[1]
    tid, tx, ty = tile_thread()
    row0 = cuda.blockIdx.y * V3_BM
    col0 = cuda.blockIdx.x * V3_BN
    a_tile = cuda.shared.array((V3_BK, V3_PITCH_M), float32)
    b_tile = cuda.shared.array((V3_BK, V3_PITCH_N), float32)
    acc = cuda.local.array((TILE_REGS, TILE_REGS), float32)
    zero_tile(acc)

    for k0 in range(0, k_size, V3_BK):
        # Coalesced fills: consecutive threads take consecutive addresses of the stored array
        # (k is contiguous in an untransposed a and a transposed b).
        for r in range(V3_A_LOADS):
            idx = tid + r * TILE_THREADS
            kk, mm = (idx // V3_BM, idx % V3_BM) if trans_a else (idx % V3_BK, idx // V3_BK)
            a_tile[kk, mm] = _element(a, trans_a, row0 + mm, k0 + kk, m_size, k_size)
        for r in range(V3_B_LOADS):
            idx = tid + r * TILE_THREADS
            kk, nn = (idx % V3_BK, idx // V3_BK) if trans_b else (idx // V3_BN, idx % V3_BN)
            b_tile[kk, nn] = _element(b, trans_b, k0 + kk, col0 + nn, k_size, n_size)
        cuda.syncthreads()
        multiply_tiles(a_tile, b_tile, acc, tx, ty, V3_BK)
        cuda.syncthreads()

    store_tile(out, acc, bias, has_bias, row0, col0, tx, ty)


# ---------------------------------------------------------------- CPU twin

@njit(parallel=True, cache=True)
def _add_bias_njit(out, bias):
    m, n = out.shape
    for i in prange(m):
        for j in range(n):
            out[i, j] += bias[j]


# ---------------------------------------------------------------- public API

def _check_matmul(op, a, b, trans_a, trans_b, bias, out, on_device):
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
    return m, n, output(op, on_device, out, (m, n), a=a, b=b, bias=bias)


def matmul_cpu(a, b, trans_a=False, trans_b=False, bias=None, out=None):
    """op(a) · op(b) (+ bias on every row)."""
    _, _, out = _check_matmul("matmul_cpu", a, b, trans_a, trans_b, bias, out, False)
    # Transposed views go to BLAS as a transpose flag, not as a copy.
    blas.matmul(a.T if trans_a else a, b.T if trans_b else b, out=out)
    if bias is not None:
        _add_bias_njit(out, bias)
    return out


def matmul_cuda(a, b, trans_a=False, trans_b=False, bias=None, out=None, *,
                version=DEFAULT_VERSION):
    """op(a) · op(b) (+ bias on every row) with CUDA kernel `version` (1, 2 or 3)."""
    if version not in VERSIONS:
        raise ValueError(f"matmul_cuda: version must be one of {VERSIONS}, got {version}")
    m, n, out = _check_matmul("matmul_cuda", a, b, trans_a, trans_b, bias, out, True)
    # The kernels skip `bias` when has_bias is 0, but the signature still wants a float32
    # vector: a row of out is one, at no allocation.
    args = (a, b, out[0] if bias is None else bias, out,
            np.int32(bool(trans_a)), np.int32(bool(trans_b)), np.int32(bias is not None))
    if version == 1:
        grid = (ceil_div(n, V1_BLOCK), ceil_div(m, V1_BLOCK))
        _matmul_v1_naive[grid, (V1_BLOCK, V1_BLOCK)](*args)
    elif version == 2:
        grid = (ceil_div(n, V2_TILE), ceil_div(m, V2_TILE))
        _matmul_v2_shared_tiles[grid, (V2_TILE, V2_TILE)](*args)
    else:
        _matmul_v3_register_tiles[(ceil_div(n, V3_BN), ceil_div(m, V3_BM)), TILE_THREADS](*args)
    return out


OPS = {"matmul": Twins(matmul_cpu, matmul_cuda)}
