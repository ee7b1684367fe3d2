"""What 2-D max pooling (max_pool2d.py) and average pooling (avg_pool2d.py) share, in one place
so that the two cannot drift apart:

    window_params(op, x_shape, kernel_size, stride, padding)
                                        (kh, kw), (sh, sw), (ph, pw) parsed and checked as
                                        PyTorch does (padding at most half the kernel)
    pooled_output_hw(op, x_shape, kernel, stride, padding, ceil_mode)
                                        (OH, OW), refusing a window larger than the padded input
    pooled_size(size, kernel, stride, pad, ceil_mode)
                                        the output-size formula along one axis
    launch_blocks(op, total, threads)   blocks of a flat 1-D grid, one thread per element
    window_bounds(o, kernel, stride, pad, size)      (@njit, also called from CUDA kernels)
                                        [start, end) of window o clipped to the input
    windows_containing(i, kernel, stride, pad, n_out)   (@njit, likewise)
                                        [first, end) of the windows that contain input i
    flat_planes(a)                      (@njit) an (N, C, H, W) array as (N*C, H*W) planes

and what only the GPU kernels use:

    ARRAY4, WINDOW_ARGS                 what their signatures spell again and again
    launch_flat(op, kernel, total, threads, *args)
                                        a launch over a flat 1-D grid, ints passed as int32
    window_rect(oh, ow, kh, kw, sh, sw, ph, pw, x_shape)
    windows_containing_rect(h, w, kh, kw, sh, sw, ph, pw, y_shape)
                                        (device functions) window_bounds and windows_containing
                                        along both axes of a plane
"""
import numpy as np
from numba import cuda, njit

from ._checks import ceil_div, conv_output_size, pair

INT32_MAX = 2**31 - 1


# ---------------------------------------------------------------- geometry and argument checks

def window_params(op, x_shape, kernel_size, stride, padding):
    """(kh, kw), (sh, sw), (ph, pw) from ints or pairs, checked as PyTorch checks a pool's."""
    kh, kw = pair(op, "kernel_size", kernel_size)
    sh, sw = pair(op, "stride", stride)
    ph, pw = pair(op, "padding", padding)
    if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{op}: kernel_size {(kh, kw)} and stride {(sh, sw)} must be >= 1, "
                         f"padding {(ph, pw)} >= 0 (input {tuple(x_shape)})")
    if 2 * ph > kh or 2 * pw > kw:
        # PyTorch's rule: more padding could make a window of padding only, whose max is -inf.
        raise ValueError(f"{op}: padding {(ph, pw)} must be at most half the kernel size "
                         f"{(kh, kw)} (input {tuple(x_shape)})")
    return (kh, kw), (sh, sw), (ph, pw)


def pooled_output_hw(op, x_shape, kernel, stride, padding, ceil_mode):
    """(OH, OW) of windows kernel = (kh, kw) sliding by stride over x_shape's (H, W) padded by
    padding; a ValueError if the window does not fit even once."""
    h, w = int(x_shape[2]), int(x_shape[3])
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh = pooled_size(h, kh, sh, ph, bool(ceil_mode))
    ow = pooled_size(w, kw, sw, pw, bool(ceil_mode))
    if oh < 1 or ow < 1:
        raise ValueError(f"{op}: kernel {kh}x{kw} is larger than the padded input "
                         f"{h + 2 * ph}x{w + 2 * pw} (input {tuple(x_shape)}, padding {(ph, pw)})")
    return oh, ow


def pooled_size(size, kernel, stride, pad, ceil_mode):
    # ceil_mode rounds the window count up: as if stride - 1 more padding followed the input.
    out = conv_output_size(size, kernel, stride, pad, pad + (stride - 1 if ceil_mode else 0))
    # With ceil_mode the last window must still start inside the input or the left padding.
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def launch_blocks(op, total, threads):
    # Flat thread indices are computed in 64-bit, but a grid of more than 2**31 - 1 blocks
    # cannot be launched; this bound is far beyond any tensor that fits in GPU memory anyway.
    if total > INT32_MAX:
        raise ValueError(f"{op}: {total} elements is too many for one launch")
    return ceil_div(total, threads)


# ------------------------------------------------------------ index arithmetic both twins call

@njit(inline="always")
def window_bounds(o, kernel, stride, pad, size):
    """[start, end) of window o along one axis, [o*stride - pad, o*stride - pad + kernel),
    clipped to the input [0, size)."""
    start = o * stride - pad
    return max(start, 0), min(start + kernel, size)


@njit(inline="always")
def windows_containing(i, kernel, stride, pad, n_out):
    """[first, end) of the windows along one axis that contain input position i: window o
    covers [o*stride - pad, o*stride - pad + kernel), so ceil((i + pad - kernel + 1) / stride)
    <= o <= (i + pad) // stride. Operands are kept non-negative: no floor correction needed."""
    lo = i + pad - kernel + 1
    first = (lo + stride - 1) // stride if lo > 0 else 0
    return first, min((i + pad) // stride + 1, n_out)


@njit(inline="always")
def flat_planes(a):
    """A C-contiguous (N, C, H, W) array viewed as N*C flat planes of H*W elements: the CPU
    twins index a plane with one offset, which is also the h * W + w that pooling indices
    record."""
    return a.reshape(a.shape[0] * a.shape[1], a.shape[2] * a.shape[3])


# ------------------------------------------- the GPU kernels: a flat grid, a thread an element

# In the pooling kernels' signatures: a C-contiguous (N, C, H, W) float32 array, and the
# window geometry kh, kw, sh, sw, ph, pw.
ARRAY4 = "float32[:, :, :, ::1]"
WINDOW_ARGS = "int32, int32, int32, int32, int32, int32"


def launch_flat(op, kernel, total, threads, *args):
    """kernel(*args) over a flat 1-D grid of `threads`-thread blocks with a thread for each of
    `total` elements; nothing is launched for none (an empty batch or output). Integers
    (Python's or NumPy's) go as int32, the type of every pooling kernel's scalars: a launch
    then matches the declared signature and never compiles another."""
    if total:
        kernel[launch_blocks(op, total, threads), threads](
            *(np.int32(a) if isinstance(a, (int, np.integer)) else a for a in args))



@cuda.jit(device=True, inline="always")
def window_rect(oh, ow, kh, kw, sh, sw, ph, pw, x_shape):
    """(h_start, h_end, w_start, w_end): the rows and columns of window (oh, ow) clipped to an
    input of x_shape (N, C, H, W), by window_bounds."""
    h_start, h_end = window_bounds(oh, kh, sh, ph, x_shape[2])
    w_start, w_end = window_bounds(ow, kw, sw, pw, x_shape[3])
    return h_start, h_end, w_start, w_end


@cuda.jit(device=True, inline="always")
def windows_containing_rect(h, w, kh, kw, sh, sw, ph, pw, y_shape):
    """(oh_start, oh_end, ow_start, ow_end): the rows and columns of the windows that contain
    input (h, w), among the outputs of y_shape (N, C, OH, OW), by windows_containing."""
    oh_start, oh_end = windows_containing(h, kh, sh, ph, y_shape[2])
    ow_start, ow_end = windows_containing(w, kw, sw, pw, y_shape[3])
    return oh_start, oh_end, ow_start, ow_end
