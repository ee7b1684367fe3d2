"""Device functions the CUDA kernels share: the register-tiled inner product and a block sum.

Register tiles. The tiled kernels (matmul v3, the convolutions' implicit GEMMs) give a block of
256 threads a 64 x 64 output tile; thread t = (tx, ty) = (t % 16, t // 16) accumulates a 4 x 4
register tile, rows ty + 16*i and columns tx + 16*j (strided, not a contiguous patch: a warp
then reads 16 consecutive words of the B tile, broadcasts 2 words of the A tile, and stores its
outputs in 64-byte runs). The A and B tiles are staged in shared memory k-major, a[k][m] and
b[k][n], so the inner loop reads rows.

Block sum. After each thread of a block has written its partial sum to partial[tid],
`block_tree_sum` leaves the block's total in partial[0]. The pairing order is fixed, so the
result is the same run to run (no atomics). Every thread of the block must call it: it
synchronises.
"""
from numba import cuda, float32

TILE_THREADS = 256       # threads of a register-tiled block, launched 1-D
TILE_SIDE = 16           # 16 x 16 threads
TILE_REGS = 4            # 4 x 4 outputs per thread
TILE = TILE_SIDE * TILE_REGS   # 64 x 64 outputs per block


@cuda.jit(device=True, inline="always")
def tile_thread():
    """(t, tx, ty) of this thread in a 1-D block of TILE_THREADS."""
    t = cuda.threadIdx.x
    return t, t % TILE_SIDE, t // TILE_SIDE


@cuda.jit(device=True, inline="always")
def zero_tile(acc):
    for i in range(TILE_REGS):
        for j in range(TILE_REGS):
            acc[i, j] = float32(0.0)


@cuda.jit(device=True, inline="always")
def multiply_tiles(a_tile, b_tile, acc, tx, ty, depth):
    """acc[i, j] += sum over k < depth of a_tile[k, ty + 16*i] * b_tile[k, tx + 16*j]."""
    a_reg = cuda.local.array(TILE_REGS, float32)
    b_reg = cuda.local.array(TILE_REGS, float32)
    for kk in range(depth):
        for i in range(TILE_REGS):
            a_reg[i] = a_tile[kk, ty + TILE_SIDE * i]
        for j in range(TILE_REGS):
            b_reg[j] = b_tile[kk, tx + TILE_SIDE * j]
        for i in range(TILE_REGS):
            for j in range(TILE_REGS):
                acc[i, j] += a_reg[i] * b_reg[j]


@cuda.jit(device=True, inline="always")
def block_tree_sum(partial, tid, threads):
    cuda.syncthreads()
    step = threads // 2
    while step > 0:
        if tid < step:
            partial[tid] += partial[tid + step]
        cuda.syncthreads()
        step //= 2


@cuda.jit(device=True, inline="always")
def store_tile(out, acc, bias, has_bias, row0, col0, tx, ty):
    """out[row0 + ty + 16*i, col0 + tx + 16*j] = acc[i, j] (+ bias[column]) for the thread's
    register tile, skipping rows and columns past out's edges (a 2-D array)."""
    for i in range(TILE_REGS):
        row = row0 + ty + TILE_SIDE * i
        if row < out.shape[0]:
            for j in range(TILE_REGS):
                col = col0 + tx + TILE_SIDE * j
                if col < out.shape[1]:
                    value = acc[i, j]
                    if has_bias:
                        value += bias[col]
                    out[row, col] = value


@cuda.jit(device=True, inline="always")
def unravel4(index, shape):
    """(a, b, c, d) of a flat index into a C-ordered 4-D array of `shape`."""
    d = index % shape[3]
    rest = index // shape[3]
    c = rest % shape[2]
    rest = rest // shape[2]
    return rest // shape[1], rest % shape[1], c, d


@cuda.jit(device=True, inline="always")
def thread_element(a):
    """(n, c, h, w, inside): the element of the C-ordered 4-D array a that this thread of a
    flat 1-D grid owns (one thread per element); inside is False for the threads of the last
    block past a's end."""
    i = cuda.grid(1)
    n, c, h, w = unravel4(i, a.shape)
    return n, c, h, w, i < a.size
