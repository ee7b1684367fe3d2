"""Batch augmentation: pad + crop + horizontal flip of every image of a batch in one pass.

    pad_crop_flip_*(x, params, size, padding=0, mode="constant", fill=0.0, out=None) -> out

x (N, C, H, W) float32; params (N, 3) int32, one row (top, left, flip) per image; size (th, tw);
out (N, C, th, tw) float32. With P the image x[n] padded by `padding` = (top, bottom, left, right)
(an int, a pair (rows, columns) or a 4-tuple, as _checks.padding4) in `mode`,

    out[n, c, y, j] = P[c, top_n + y, left_n + j'],   j' = tw - 1 - j if flip_n else j

that is, the crop of P whose corner is (top_n, left_n), mirrored left-right where flip_n != 0:
torchvision's RandomCrop followed by RandomHorizontalFlip, with each image's own offsets and
flip decision (drawn by the engine, gpucnn/transforms). Padding modes, as torchvision's and
np.pad's (a padded row p < 0 or p >= H, before it is read):

    constant   the value `fill`
    edge       the nearest edge pixel (row 0 or H - 1)
    reflect    mirrored about the edge pixel, not repeating it: -p, 2(H - 1) - p
               (padding must be smaller than the image: at most H - 1 rows)
    symmetric  mirrored about the edge, repeating it: -p - 1, 2H - 1 - p (padding at most H)

and the same for columns. The geometry (shapes, padding against the mode, th <= H + top +
bottom, tw likewise) is checked before any kernel runs. params are per-image data, on the
launcher's side of the bus: they are not checked (the CUDA launcher cannot read them without a
copy), and both twins read them the same way: a row or column outside the padded image reads
`fill` in constant mode, the nearest edge pixel in edge mode, and in the mirrored modes the
mirror position clamped into the image: never outside x.
The op is a pure copy, so the two twins agree bit for bit.

The CUDA kernel runs a 3-D grid: x over output columns (32 threads of a block: a warp writes
one contiguous run of a row, and reads one, reversed when flipped), y over output rows (8),
z over images; each thread maps its (row, column) through the padding once and then copies
that pixel of every channel, so the index arithmetic (and the per-image params) is paid once
per pixel, not per element, and no thread divides. Each dimension is a grid-stride loop over a
grid capped at MAX_GRID blocks. The CPU twin runs a parallel loop over images; for each it
maps the tw columns once, then copies rows as gathers through that map.
"""
import numbers

import numpy as np
from numba import cuda, njit, prange

from ._checks import ceil_div, check_array, outputs, pair, padding4
from ._registry import Twins, cuda_kernel

VERSIONS = (1,)
DEFAULT_VERSION = 1

THREADS_X = 32      # output columns per block: one warp along a row
THREADS_Y = 8       # output rows per block
MAX_GRID = 65535    # blocks per grid dimension (CUDA's limit for y and z); loops cover the rest

CONSTANT, EDGE, REFLECT, SYMMETRIC = 0, 1, 2, 3
PADDING_MODES = {"constant": CONSTANT, "edge": EDGE, "reflect": REFLECT, "symmetric": SYMMETRIC}

_INT32_MAX = 2 ** 31 - 1


@njit(inline="always")
def source_position(p, size, mode):
    """The source row (or column) that padded position p reads, p counted from the image's
    first row (p < 0 in the leading padding); -1 where constant mode reads the fill value.
    Clamped into [0, size) so that any p is safe to read."""
    if p >= 0 and p < size:
        return p
    if mode == CONSTANT:
        return -1
    if mode == EDGE:
        q = 0 if p < 0 else size - 1
    elif mode == REFLECT:
        q = -p if p < 0 else 2 * size - 2 - p
    else:
        q = -p - 1 if p < 0 else 2 * size - 1 - p
    return min(max(q, 0), size - 1)


# ================================================================ CUDA kernel

@cuda_kernel("void(float32[:, :, :, ::1], int32[:, ::1], float32[:, :, :, ::1], int64, int64, "
             "int32, float32)")
def _pad_crop_flip_kernel(x, params, out, pad_top, pad_left, mode, fill):
    channels = x.shape[1]
    height = x.shape[2]
    width = x.shape[3]
    out_h = out.shape[2]
    out_w = out.shape[3]
    column0 = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    row0 = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
    column_step = cuda.gridDim.x * cuda.blockDim.x
    row_step = cuda.gridDim.y * cuda.blockDim.y
    # while loops, not range(): range computes its trip count with a 64-bit division at
    # every entry, once per row for the column loop.
    n = cuda.blockIdx.z
    while n < out.shape[0]:
        top = params[n, 0] - pad_top
        left = params[n, 1] - pad_left
        flip = params[n, 2]
        y = row0
        while y < out_h:
            r = source_position(top + y, height, mode)
            j = column0
            while j < out_w:
                s = source_position(left + (out_w - 1 - j if flip != 0 else j), width, mode)
                if r < 0 or s < 0:
                    for c in range(channels):
                        out[n, c, y, j] = fill
                else:
                    for c in range(channels):
                        out[n, c, y, j] = x[n, c, r, s]
                j += column_step
            y += row_step
        n += cuda.gridDim.z


# ================================================================ CPU twin

@njit(parallel=True, cache=True)
def _pad_crop_flip_cpu_kernel(x, params, out, pad_top, pad_left, mode, fill):
    n_img, channels, height, width = x.shape
    out_h, out_w = out.shape[2], out.shape[3]
    for n in prange(n_img):
        top = params[n, 0] - pad_top
        left = params[n, 1] - pad_left
        flip = params[n, 2]
        # Each output column's source column (clamped, always readable) and whether it reads
        # the image (False: the fill value): rows are then gathers through this map, with a
        # select instead of a branch, which vectorises.
        columns = np.empty(out_w, np.int64)
        inside = np.empty(out_w, np.bool_)
        for j in range(out_w):
            s = source_position(left + (out_w - 1 - j if flip != 0 else j), width, mode)
            inside[j] = s >= 0
            columns[j] = max(s, 0)
        for y in range(out_h):
            r = source_position(top + y, height, mode)
            for c in range(channels):
                dst = out[n, c, y]
                if r < 0:
                    dst[:] = fill
                else:
                    src = x[n, c, r]
                    for j in range(out_w):
                        v = src[columns[j]]
                        dst[j] = v if inside[j] else fill


# ================================================================ checks and launchers

def _check(op, x, params, size, padding, mode, fill, out, on_device):
    """Every argument checked; returns (out, pad_top, pad_left, mode code, fill as float32)."""
    check_array(op, "x", x, 4)
    check_array(op, "params", params, 2, np.int32)
    n, c, h, w = (int(v) for v in x.shape)
    if tuple(params.shape) != (n, 3):
        raise ValueError(f"{op}: params must be (N, 3) = ({n}, 3), one (top, left, flip) row per "
                         f"image, got shape {tuple(params.shape)} (x {tuple(x.shape)})")
    th, tw = pair(op, "size", size)
    pt, pb, pl, pr = padding4(op, padding)
    if not isinstance(mode, str) or mode not in PADDING_MODES:
        raise ValueError(f"{op}: mode must be one of {sorted(PADDING_MODES)}, got {mode!r}")
    if isinstance(fill, (bool, np.bool_)) or not isinstance(fill, numbers.Real):
        raise TypeError(f"{op}: fill must be a real number, got {fill!r}")
    if min(h, w) < 1 or min(th, tw) < 1 or min(pt, pb, pl, pr) < 0:
        raise ValueError(f"{op}: needs images of at least 1x1 (x {tuple(x.shape)}), a crop size "
                         f">= 1 (size {(th, tw)}) and padding >= 0 (padding {(pt, pb, pl, pr)})")
    if mode == "reflect" and (max(pt, pb) >= h or max(pl, pr) >= w):
        raise ValueError(f"{op}: reflect padding {(pt, pb, pl, pr)} (top, bottom, left, right) "
                         f"must be smaller than the image {h}x{w} in each direction "
                         f"(x {tuple(x.shape)}); use mode 'symmetric' or 'edge' for more")
    if mode == "symmetric" and (max(pt, pb) > h or max(pl, pr) > w):
        raise ValueError(f"{op}: symmetric padding {(pt, pb, pl, pr)} (top, bottom, left, "
                         f"right) must be at most the image {h}x{w} in each direction "
                         f"(x {tuple(x.shape)})")
    if th > h + pt + pb or tw > w + pl + pr:
        raise ValueError(f"{op}: crop size {(th, tw)} is larger than the padded image "
                         f"{h + pt + pb}x{w + pl + pr} (x {tuple(x.shape)}, padding "
                         f"{(pt, pb, pl, pr)})")
    if th * tw > _INT32_MAX:
        raise ValueError(f"{op}: a crop of {th}x{tw} pixels is too large for one launch")
    (y,) = outputs(op, on_device, (out, (n, c, th, tw), np.float32, "out"), x=x, params=params)
    return y, pt, pl, PADDING_MODES[mode], np.float32(fill)


def pad_crop_flip_cpu(x, params, size, padding=0, mode="constant", fill=0.0, out=None):
    """out[n, c, y, j] = (x[n] padded)[c, top_n + y, left_n + (tw-1-j if flip_n else j)]."""
    y, pad_top, pad_left, code, fill32 = _check("pad_crop_flip_cpu", x, params, size, padding,
                                                mode, fill, out, False)
    if y.size:
        _pad_crop_flip_cpu_kernel(x, params, y, pad_top, pad_left, code, fill32)
    return y


def pad_crop_flip_cuda(x, params, size, padding=0, mode="constant", fill=0.0, out=None):
    y, pad_top, pad_left, code, fill32 = _check("pad_crop_flip_cuda", x, params, size, padding,
                                                mode, fill, out, True)
    if y.size:
        n, _, th, tw = y.shape
        grid = (min(ceil_div(tw, THREADS_X), MAX_GRID), min(ceil_div(th, THREADS_Y), MAX_GRID),
                min(n, MAX_GRID))
        _pad_crop_flip_kernel[grid, (THREADS_X, THREADS_Y)](
            x, params, y, np.int64(pad_top), np.int64(pad_left), np.int32(code), fill32)
    return y


OPS = {
    "pad_crop_flip": Twins(pad_crop_flip_cpu, pad_crop_flip_cuda),
}
