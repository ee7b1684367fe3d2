"""The CUDA convolution kernels, as a ladder chosen by `version=` (launchers: conv2d.py):

    version 1  direct: one thread per output element, loops over the reduction. The baseline
               every faster version is checked against.
    version 2  tiled implicit GEMM (the default): the im2col matrix is never built; each block
               gathers the slice of it that its tile needs into shared memory.
    version 3  version 2 compiled with launch bounds (256 threads, at least 2 blocks per SM):
               ptxas must then fit a thread in 128 registers, where version 2 takes 126-140
               and so runs one 256-thread block per SM at most. Whether the extra occupancy
               pays for any spilling is for the GPU bench to say.

Implicit GEMM, per group g (blockIdx.z picks the group, so a block never straddles two):

    forward          Y[Kg, N*P*Q]  = W[Kg, Cg*R*S]   . im2col(X)[Cg*R*S, N*P*Q]
    backward data    dX[Cg, N*H*W] = W^T[Cg, Kg*R*S] . gather(dY)[Kg*R*S, N*H*W]
    backward weight  dW[Kg, Cg*R*S] = dY[Kg, N*P*Q]  . im2col(X)^T[N*P*Q, Cg*R*S]

Tiles: a block of 256 threads owns a BM x BN = 64 x 64 output tile and walks the reduction
BK = 16 at a time; each thread accumulates a 4 x 4 register tile (_device_functions.py, the
inner product matmul v3 uses too).
64 x 64 x 16 keeps both staged tiles at 8 KB (several blocks per SM) while giving each thread
16 FMAs per 8 shared loads; the out-channel counts of small CNNs (6 to 128) fill one or two
tiles. Partial tiles at every edge are zero-filled in shared memory and masked on store.

Backward data is a gather: dX[n, c, h, w] sums dY[n, k, p, q] W[k, c, r, s] over the (k, r, s)
for which h + pt - r*dh is a non-negative multiple of sh with p < P (and likewise for w), so
each dx element is written once by one thread; no atomics.

Backward weight reduces over N*P*Q, which is large while Kg x Cg*R*S is small, so it splits
that reduction into `splits` contiguous chunks (split-K): each chunk's partial product lands in
its own slice of a partial buffer, and a second kernel sums the slices in a fixed order. No
atomics anywhere, and the split count depends only on the shapes, so the weight gradient is
bit-reproducible from run to run. (The bias gradient is a per-channel sum: reduce.py's, shared with
every reduction.)

All accumulation is float32. Scalars reach the kernels as int32, exactly as declared.
"""
from numba import cuda, float32

from ._checks import ceil_div
from ._device_functions import (TILE, TILE_REGS, TILE_SIDE, TILE_THREADS, multiply_tiles,
                                store_tile, thread_element, tile_thread, zero_tile)
from ._registry import cuda_kernel

THREADS = 256          # direct kernels and the split-K reduction: one element per thread

BM = BN = TILE         # 64 x 64 output tile per block of TILE_THREADS (_device_functions.py)
BK = 16                # reduction slice staged per step
A_ROWS = TILE_THREADS // BK   # BM x BK tile rows loaded per pass when a thread owns one k
B_ROWS = TILE_THREADS // BN   # BK x BN tile rows loaded per pass when a thread owns a column
# Shared tiles are stored k-major, [BK][BM] and [BK][BN], so the inner product reads rows. The
# loads that transpose (16 consecutive threads, 16 consecutive k, one column) would hit one bank
# 16 times with rows of 64 words; one word of padding spreads them over 16 banks. Shared array
# shapes must be literal constants in numba, hence these names rather than BM + 1 inline.
BM_PAD = BM + 1
BN_PAD = BN + 1

# Split-K aims at this many blocks for the weight gradient: two per SM of an H100 (132 SMs).
# A constant, not the current device's SM count, so results depend on shapes alone.
SPLIT_TARGET_BLOCKS = 264
SPLIT_MIN_STEPS = 16   # at least this many BK steps per split, so partials stay a small cost

# Version 3's launch bounds: (threads per block, minimum resident blocks per SM).
BOUNDED = (TILE_THREADS, 2)


def gemm_grid(rows, cols, depth):
    """Blocks of an implicit GEMM with `rows` x `cols` outputs per group, `depth` groups."""
    return (ceil_div(cols, BN), ceil_div(rows, BM), depth)


def split_k_count(geo) -> int:
    """How many chunks the weight gradient's N*P*Q reduction is cut into (shapes only)."""
    blocks = ceil_div(geo.k // geo.groups, BM) * ceil_div(geo.cg * geo.r * geo.s, BN) * geo.groups
    steps = ceil_div(geo.n * geo.p * geo.q, BK)
    return max(1, min(ceil_div(SPLIT_TARGET_BLOCKS, blocks), steps // SPLIT_MIN_STEPS))


# ---------------------------------------------------------------- shared by the kernels

@cuda.jit(device=True, inline="always")
def _unravel3(index, middle, inner):
    """(a, b, c) of a flat index into an (A, middle, inner) C-ordered block."""
    outer = index // inner
    return outer // middle, outer % middle, index % inner



@cuda.jit(device=True, inline="always")
def _gemm_block():
    """Where this thread works in an implicit GEMM: the block's tile origin (m0 rows, j0
    columns), the thread's register tile (tx, ty), and how it helps stage the tiles:
    reduction index ka for rows ma + A_ROWS*i of the BM x BK tile (a warp reads along a row),
    column jb for rows kb + B_ROWS*i of the BK x BN tile (a warp reads consecutive columns);
    then the block's two shared tiles, A [BK][BM_PAD] and B [BK][BN_PAD] (k-major)."""
    t, tx, ty = tile_thread()
    # One shared array per line: the simulator keys them by line.
    a_tile = cuda.shared.array((BK, BM_PAD), float32)
    b_tile = cuda.shared.array((BK, BN_PAD), float32)
    return (cuda.blockIdx.y * BM, cuda.blockIdx.x * BN, tx, ty, t % BK, t // BK, t % BN,
            t // BN, a_tile, b_tile)


@cuda.jit(device=True, inline="always")
def _image_column(col, images, height, width):
    """(in range, n, h, w) of GEMM column col = (n, h, w) over an (images, height, width)
    grid; out-of-range columns give (False, 0, ...) so that no index runs wild."""
    ok = col < images * height * width
    n, h, w = _unravel3(col if ok else 0, height, width)
    return ok, n, h, w


@cuda.jit(device=True, inline="always")
def _store_image_columns(out, acc, bias, has_bias, rows, row_first, m0, j0, tx, ty):
    """out[n, row_first + m, i] = acc (+ bias[row_first + m]) for the thread's register tile,
    where tile column j0 + ... is flat (n, i) over out's (N, rows, plane) layout."""
    plane = out.shape[2]
    for j in range(TILE_REGS):
        col = j0 + tx + TILE_SIDE * j
        if col < out.shape[0] * plane:
            n = col // plane
            within = col - n * plane
            for i in range(TILE_REGS):
                m = m0 + ty + TILE_SIDE * i
                if m < rows:
                    v = acc[i, j]
                    if has_bias:
                        v += bias[row_first + m]
                    out[n, row_first + m, within] = v


@cuda.jit(device=True, inline="always")
def _stage_rows(tile, a, row_first, rows, m0, col, col_ok, ka, ma):
    """Stages the thread's share of a BM x BK tile of a row-major A: for its rows m = ma +
    A_ROWS*i, tile[ka, m] = a[row_first + m0 + m, col], col being the column of a that its
    reduction index ka stands for; zero where m0 + m >= rows or not col_ok. Consecutive threads
    take consecutive ka and (in both callers) consecutive columns: a warp reads along a row."""
    for i in range(BM // A_ROWS):
        m = ma + A_ROWS * i
        v = float32(0.0)
        if col_ok and m0 + m < rows:
            v = a[row_first + m0 + m, col]
        tile[ka, m] = v


@cuda.jit(device=True, inline="always")
def _im2col_value(x, n, c_first, row, rows, col_ok, r_size, s_size, h0, w0, dil_h, dil_w):
    """im2col(X)[row, column] for row = (c, r, s) of the group whose channels start at c_first,
    and a column (n, p, q) whose window starts at (h0, w0) = (p*sh - pt, q*sw - pl): x[n,
    c_first + c, h0 + r*dh, w0 + s*dw]; zero in the padding, past the last row (row >= rows)
    and where not col_ok (a column past the edge)."""
    v = float32(0.0)
    if col_ok and row < rows:
        c, r, s = _unravel3(row, r_size, s_size)
        h = h0 + r * dil_h
        ww = w0 + s * dil_w
        if h >= 0 and h < x.shape[2] and ww >= 0 and ww < x.shape[3]:
            v = x[n, c_first + c, h, ww]
    return v


@cuda.jit(device=True, inline="always")
def _multiply_staged(a_tile, b_tile, acc, tx, ty):
    """acc += the staged BK-deep tiles' product, between the barriers that let every thread
    finish staging before any reads, and finish reading before any stages the next step."""
    cuda.syncthreads()
    multiply_tiles(a_tile, b_tile, acc, tx, ty, BK)
    cuda.syncthreads()


# ---------------------------------------------------------------- forward

@cuda_kernel("void(float32[:, :, :, ::1], float32[:, :, :, ::1], float32[::1], int32, "
             "float32[:, :, :, ::1], int32, int32, int32, int32, int32, int32, int32)")
def forward_v1_direct(x, w, b, has_bias, y, stride_h, stride_w, pad_t, pad_l, dil_h, dil_w,
                      groups):
    n, k, p, q, inside = thread_element(y)
    if not inside:
        return
    cg, r_size, s_size = w.shape[1], w.shape[2], w.shape[3]
    c0 = (k // (y.shape[1] // groups)) * cg
    acc = float32(0.0)
    for c in range(cg):
        for r in range(r_size):
            h = p * stride_h - pad_t + r * dil_h
            if h < 0 or h >= x.shape[2]:
                continue
            for s in range(s_size):
                ww = q * stride_w - pad_l + s * dil_w
                if ww >= 0 and ww < x.shape[3]:
                    acc += x[n, c0 + c, h, ww] * w[k, c, r, s]
    if has_bias:
        acc += b[k]
    y[n, k, p, q] = acc


FORWARD_GEMM_SIGNATURE = ("void(float32[:, :, :, ::1], float32[:, ::1], float32[::1], int32, "
                          "float32[:, :, ::1], " + ", ".join(["int32"] * 10) + ")")


@cuda_kernel(FORWARD_GEMM_SIGNATURE)
def forward_v2_implicit_gemm(x, w, b, has_bias, y, r_size, s_size, q_size, stride_h,
                             stride_w, pad_t, pad_l, dil_h, dil_w, groups):
    # Y[k, (n, p, q)] = W[k, (c, r, s)] . im2col(X)[(c, r, s), (n, p, q)], per group.
    # x (N, C, H, W); w (K, Cg*R*S); y (N, K, P*Q)
    crs = w.shape[1]
    pq = y.shape[2]
    kg = w.shape[0] // groups
    cg = x.shape[1] // groups
    g = cuda.blockIdx.z
    # Rows: output channels of the group; columns: (n, p, q).
    m0, j0, tx, ty, ka, ma, jb, kb, w_tile, x_tile = _gemm_block()
    acc = cuda.local.array((TILE_REGS, TILE_REGS), float32)
    zero_tile(acc)
    # The thread's input column (n, p, q) is fixed: its coordinates are found once.
    col_ok, n, p, q = _image_column(j0 + jb, y.shape[0], pq // q_size, q_size)
    h0 = p * stride_h - pad_t
    w0 = q * stride_w - pad_l

    for k0 in range(0, crs, BK):
        kk = k0 + ka
        _stage_rows(w_tile, w, g * kg, kg, m0, kk, kk < crs, ka, ma)
        for i in range(BK // B_ROWS):
            kr = kb + B_ROWS * i
            x_tile[kr, jb] = _im2col_value(x, n, g * cg, k0 + kr, crs, col_ok, r_size, s_size,
                                           h0, w0, dil_h, dil_w)
        _multiply_staged(w_tile, x_tile, acc, tx, ty)

    _store_image_columns(y, acc, b, has_bias, kg, g * kg, m0, j0, tx, ty)


# ---------------------------------------------------------------- backward data

# Both direct backward kernels: two 4-D inputs, the 4-D gradient they write, the geometry.
DIRECT_BACKWARD_SIGNATURE = ("void(float32[:, :, :, ::1], float32[:, :, :, ::1], "
                             "float32[:, :, :, ::1], " + ", ".join(["int32"] * 7) + ")")


@cuda_kernel(DIRECT_BACKWARD_SIGNATURE)
def backward_data_v1_direct(dy, w, dx, stride_h, stride_w, pad_t, pad_l, dil_h, dil_w,
                            groups):
    n, c, h, wi, inside = thread_element(dx)
    if not inside:
        return
    k_size, p_size, q_size = dy.shape[1], dy.shape[2], dy.shape[3]
    cg, r_size, s_size = w.shape[1], w.shape[2], w.shape[3]
    g = c // cg
    kg = k_size // groups
    acc = float32(0.0)
    for kk in range(kg):
        k = g * kg + kk
        for r in range(r_size):
            hn = h + pad_t - r * dil_h
            if hn < 0 or hn % stride_h != 0 or hn // stride_h >= p_size:
                continue
            p = hn // stride_h
            for s in range(s_size):
                wn = wi + pad_l - s * dil_w
                if wn >= 0 and wn % stride_w == 0 and wn // stride_w < q_size:
                    acc += dy[n, k, p, wn // stride_w] * w[k, c - g * cg, r, s]
    dx[n, c, h, wi] = acc


BACKWARD_DATA_GEMM_SIGNATURE = ("void(float32[:, :, :, ::1], float32[:, ::1], float32[:, :, ::1], "
                                + ", ".join(["int32"] * 10) + ")")


@cuda_kernel(BACKWARD_DATA_GEMM_SIGNATURE)
def backward_data_v2_implicit_gemm(dy, w, dx, r_size, s_size, w_size, stride_h, stride_w,
                                   pad_t, pad_l, dil_h, dil_w, groups):
    # dX[c, (n, h, w)] = W^T[c, (k, r, s)] . gather(dY)[(k, r, s), (n, h, w)], per group.
    # dy (N, K, P, Q); w (K, Cg*R*S); dx (N, C, H*W)
    hw = dx.shape[2]
    kg = dy.shape[1] // groups
    cg = dx.shape[1] // groups
    rs = r_size * s_size
    krs = kg * rs                       # reduction length: (k, r, s) within the group
    g = cuda.blockIdx.z
    # Rows: input channels of the group; columns: (n, h, w).
    m0, j0, tx, ty, ka, ma, jb, kb, w_tile, dy_tile = _gemm_block()
    acc = cuda.local.array((TILE_REGS, TILE_REGS), float32)
    zero_tile(acc)
    col_ok, n, h, wi = _image_column(j0 + jb, dx.shape[0], hw // w_size, w_size)
    h_pad = h + pad_t
    w_pad = wi + pad_l

    for k0 in range(0, krs, BK):
        kk = k0 + ka
        k = kk // rs
        rs_i = kk - k * rs
        for i in range(BM // A_ROWS):
            m = ma + A_ROWS * i
            v = float32(0.0)
            if m0 + m < cg and kk < krs:
                v = w[g * kg + k, (m0 + m) * rs + rs_i]
            w_tile[ka, m] = v
        for i in range(BK // B_ROWS):
            kr = kb + B_ROWS * i
            v = float32(0.0)
            if col_ok and k0 + kr < krs:
                k, r, s = _unravel3(k0 + kr, r_size, s_size)
                hn = h_pad - r * dil_h
                wn = w_pad - s * dil_w
                # dx[h] meets dy[p] through tap r where h + pt - r*dh = p * sh.
                if hn >= 0 and wn >= 0 and hn % stride_h == 0 and wn % stride_w == 0:
                    p = hn // stride_h
                    q = wn // stride_w
                    if p < dy.shape[2] and q < dy.shape[3]:
                        v = dy[n, g * kg + k, p, q]
            dy_tile[kr, jb] = v
        _multiply_staged(w_tile, dy_tile, acc, tx, ty)

    # No bias: `w` only satisfies the argument's type and is never read.
    _store_image_columns(dx, acc, w[0], 0, cg, g * cg, m0, j0, tx, ty)


# ---------------------------------------------------------------- backward weight

@cuda_kernel(DIRECT_BACKWARD_SIGNATURE)
def backward_weight_v1_direct(x, dy, dw, stride_h, stride_w, pad_t, pad_l, dil_h, dil_w,
                              groups):
    k, c, r, s, inside = thread_element(dw)
    if not inside:
        return
    ci = (k // (dw.shape[0] // groups)) * dw.shape[1] + c
    acc = float32(0.0)
    for n in range(x.shape[0]):
        for p in range(dy.shape[2]):
            h = p * stride_h - pad_t + r * dil_h
            if h < 0 or h >= x.shape[2]:
                continue
            for q in range(dy.shape[3]):
                ww = q * stride_w - pad_l + s * dil_w
                if ww >= 0 and ww < x.shape[3]:
                    acc += dy[n, k, p, q] * x[n, ci, h, ww]
    dw[k, c, r, s] = acc


BACKWARD_WEIGHT_GEMM_SIGNATURE = ("void(float32[:, :, :, ::1], float32[:, :, ::1], "
                                  "float32[:, :, ::1], " + ", ".join(["int32"] * 12) + ")")


@cuda_kernel(BACKWARD_WEIGHT_GEMM_SIGNATURE)
def backward_weight_v2_implicit_gemm(x, dy, partial, r_size, s_size, q_size, stride_h,
                                     stride_w, pad_t, pad_l, dil_h, dil_w, groups, splits,
                                     chunk):
    # dW[k, (c, r, s)] = dY[k, (n, p, q)] . im2col(X)^T[(n, p, q), (c, r, s)], per group, the
    # (n, p, q) reduction cut into `splits` chunks of `chunk`, each into its own slice.
    # x (N, C, H, W); dy (N, K, P*Q); partial (splits, K, Cg*R*S)
    pq = dy.shape[2]
    crs = partial.shape[2]
    kg = dy.shape[1] // groups
    cg = x.shape[1] // groups
    g = cuda.blockIdx.z // splits
    split = cuda.blockIdx.z - g * splits
    # Rows: output channels of the group; columns: (c, r, s).
    m0, j0, tx, ty, ka, ma, _, _, dy_tile, x_tile = _gemm_block()
    acc = cuda.local.array((TILE_REGS, TILE_REGS), float32)
    zero_tile(acc)

    # Both tiles are loaded with one reduction index (n, p, q) per thread and consecutive
    # threads on consecutive q, which is what makes the dy and x reads coalesced.
    red_end = min(split * chunk + chunk, dy.shape[0] * pq)

    for k0 in range(split * chunk, red_end, BK):
        red_ok = k0 + ka < red_end
        n, p, q = _unravel3(k0 + ka if red_ok else 0, pq // q_size, q_size)
        _stage_rows(dy_tile, dy[n], g * kg, kg, m0, p * q_size + q, red_ok, ka, ma)
        h0 = p * stride_h - pad_t
        w0 = q * stride_w - pad_l
        for i in range(BN // A_ROWS):
            cb = ma + A_ROWS * i
            x_tile[ka, cb] = _im2col_value(x, n, g * cg, j0 + cb, crs, red_ok, r_size, s_size,
                                           h0, w0, dil_h, dil_w)
        _multiply_staged(dy_tile, x_tile, acc, tx, ty)

    # No bias: the slice only satisfies the argument's type and is never read.
    rows = partial[split, g * kg:g * kg + kg]
    store_tile(rows, acc, rows[0], 0, m0, j0, tx, ty)


# ---------------------------------------------------------------- version 3: launch bounds

def _with_launch_bounds(kernel, signature, name):
    """Version 3 of an implicit GEMM: version 2's Python compiled with launch bounds BOUNDED."""
    return cuda_kernel(signature, name=name, launch_bounds=BOUNDED)(kernel.py_func)


forward_v3_implicit_gemm_bounded = _with_launch_bounds(
    forward_v2_implicit_gemm, FORWARD_GEMM_SIGNATURE, "forward_v3_implicit_gemm_bounded")
backward_data_v3_implicit_gemm_bounded = _with_launch_bounds(
    backward_data_v2_implicit_gemm, BACKWARD_DATA_GEMM_SIGNATURE,
    "backward_data_v3_implicit_gemm_bounded")
backward_weight_v3_implicit_gemm_bounded = _with_launch_bounds(
    backward_weight_v2_implicit_gemm, BACKWARD_WEIGHT_GEMM_SIGNATURE,
    "backward_weight_v3_implicit_gemm_bounded")


# ---------------------------------------------------------------- the split-K sum

@cuda_kernel("void(float32[:, :, ::1], float32[:, ::1])")
def sum_splits(partial, dw):
    # Sums the split-K slices in split order: the same shapes give the same bits every run.
    idx = cuda.grid(1)
    k_size, crs = dw.shape
    if idx >= k_size * crs:
        return
    k = idx // crs
    col = idx - k * crs
    acc = float32(0.0)
    for split in range(partial.shape[0]):
        acc += partial[split, k, col]
    dw[k, col] = acc
