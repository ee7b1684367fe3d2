"""Argument checks shared by every launcher and CPU twin.

They run before any kernel, so bad input becomes a ValueError/TypeError naming the op and the
shapes instead of an out-of-bounds access on the device.
"""
import numpy as np


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def check_array(op: str, name: str, a, ndim: int | None = None, dtype=np.float32,
                contiguous: bool = True):
    """Rank, dtype and C-contiguity of one argument (NumPy or numba device array)."""
    if not hasattr(a, "shape") or not hasattr(a, "dtype"):
        raise TypeError(f"{op}: {name} must be an array, got {type(a).__name__}")
    if ndim is not None and len(a.shape) != ndim:
        raise ValueError(f"{op}: {name} must be {ndim}-D, got shape {tuple(a.shape)}")
    if dtype is not None and np.dtype(a.dtype) != np.dtype(dtype):
        raise TypeError(f"{op}: {name} must be {np.dtype(dtype).name}, got {np.dtype(a.dtype).name} "
                        f"(shape {tuple(a.shape)})")
    if contiguous and not is_c_contiguous(a):
        raise ValueError(f"{op}: {name} must be C-contiguous (shape {tuple(a.shape)}, "
                         f"strides {tuple(a.strides)})")


def is_c_contiguous(a) -> bool:
    if isinstance(a, np.ndarray):
        return a.flags.c_contiguous
    # numba device arrays (and the simulator's fake ones) answer is_c_contiguous().
    return bool(a.is_c_contiguous())


def check_device(op: str, name: str, a):
    """The _cuda launchers take device arrays; a NumPy array would be copied in and out silently."""
    if isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a device array (numba.cuda.to_device), "
                        f"got a NumPy array of shape {a.shape}")


def check_out(op: str, out, shape, dtype=np.float32):
    """A caller-supplied output must have exactly the shape and dtype the op writes."""
    check_array(op, "out", out, len(shape), dtype)
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{op}: out has shape {tuple(out.shape)}, expected {tuple(shape)}")


def pair(op: str, name: str, value) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair, got {value}")
    return value


def conv_output_hw(op: str, x_shape, w_shape, stride, padding, dilation, groups):
    """Validate a convolution's geometry and return its output (P, Q).

    x_shape (N, C, H, W); w_shape (K, C // groups, R, S); stride (sh, sw);
    padding (top, bottom, left, right), asymmetric allowed; dilation (dh, dw).
    """
    if len(x_shape) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ValueError(f"{op}: weight must be 4-D (K, C/groups, R, S), got shape {tuple(w_shape)}")
    n, c, h, w = x_shape
    k, cg, r, s = w_shape
    sh, sw = stride
    pt, pb, pl, pr = padding
    dh, dw = dilation
    if groups < 1 or c % groups or k % groups:
        raise ValueError(f"{op}: groups={groups} must divide input channels {c} and output "
                         f"channels {k} (input {tuple(x_shape)}, weight {tuple(w_shape)})")
    if cg * groups != c:
        raise ValueError(f"{op}: weight {tuple(w_shape)} expects {cg * groups} input channels "
                         f"with groups={groups}, input {tuple(x_shape)} has {c}")
    if min(sh, sw, dh, dw) < 1 or min(pt, pb, pl, pr) < 0:
        raise ValueError(f"{op}: stride {stride} and dilation {dilation} must be >= 1, "
                         f"padding {padding} >= 0")
    if min(n, c, h, w, k, r, s) < 1:
        raise ValueError(f"{op}: empty input {tuple(x_shape)} or weight {tuple(w_shape)}")
    eff_r, eff_s = dh * (r - 1) + 1, dw * (s - 1) + 1
    hp, wp = h + pt + pb, w + pl + pr
    if eff_r > hp or eff_s > wp:
        raise ValueError(f"{op}: kernel {r}x{s} (dilated {eff_r}x{eff_s}) is larger than the padded "
                         f"input {hp}x{wp} (input {tuple(x_shape)}, padding {padding})")
    return (hp - eff_r) // sh + 1, (wp - eff_s) // sw + 1
