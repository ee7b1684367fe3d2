"""What every launcher and CPU twin does before any kernel runs: check, then allocate.

Bad input becomes a ValueError/TypeError naming the op and the shapes instead of an
out-of-bounds access on a device. The pieces:

    check_array(op, name, a, ndim, dtype)    rank, dtype and C-contiguity of one argument
    output(op, device, out, shape, dtype, **inputs)
                                             `out` checked (or allocated after every check),
                                             every input on the launcher's side of the bus;
                                             outputs(...) for several outputs
    pair(op, name, value)                    an int or a pair of ints, nothing else
    padding4(op, value)                      (top, bottom, left, right) from an int, a pair,
                                             or a 4-tuple
    conv_output_size(...)                    the one output-size formula of a sliding window
    conv_output_hw(op, x_shape, w_shape, ...) a convolution's geometry checked, (P, Q) out
"""
import numbers

import numba
import numpy as np
from numba import cuda


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
    """The CUDA launchers take device arrays; a NumPy array would be copied in and out
    silently, and a device array handed to a CPU twin would fail inside numba."""
    if isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a device array (numba.cuda.to_device), "
                        f"got a NumPy array of shape {a.shape}")


def check_host(op: str, name: str, a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a NumPy array, got {type(a).__name__} of shape "
                        f"{tuple(getattr(a, 'shape', ()))}")


def check_out(op: str, out, shape, dtype=np.float32):
    """A caller-supplied output must have exactly the shape and dtype the op writes."""
    check_array(op, "out", out, len(shape), dtype)
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{op}: out has shape {tuple(out.shape)}, expected {tuple(shape)}")


def allocate(shape, dtype=np.float32, on_device=False):
    return cuda.device_array(shape, dtype) if on_device else np.empty(shape, dtype)


def outputs(op: str, on_device: bool, *specs, **inputs):
    """Check, then allocate: every given output against its (shape, dtype), then every array
    in `inputs` (and every given output) on the launcher's side of the bus, and only then
    allocate the outputs not given. specs: (out or None, shape, dtype, name) each."""
    for out, shape, dtype, name in specs:
        if out is not None:
            check_array(op, name, out, len(shape), dtype)
            if tuple(out.shape) != tuple(shape):
                raise ValueError(f"{op}: {name} has shape {tuple(out.shape)}, expected "
                                 f"{tuple(shape)}")
    side = check_device if on_device else check_host
    for name, a in [*inputs.items(), *((spec[3], spec[0]) for spec in specs)]:
        if a is not None:
            side(op, name, a)
    return [allocate(shape, dtype, on_device) if out is None else out
            for out, shape, dtype, _ in specs]


def output(op: str, on_device: bool, out, shape, dtype=np.float32, name="out", **inputs):
    """outputs() for one output."""
    return outputs(op, on_device, (out, shape, dtype, name), **inputs)[0]


def _int(op: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got {value!r}")
    return int(value)


def pair(op: str, name: str, value) -> tuple[int, int]:
    """(a, b) from an int or a pair of ints. Floats are refused, not truncated."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
        return _int(op, name, value[0]), _int(op, name, value[1])
    value = _int(op, name, value)
    return value, value


def padding4(op: str, value) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, a pair (rows, columns) or a 4-tuple."""
    if isinstance(value, (tuple, list)) and len(value) == 4:
        return tuple(_int(op, "padding", v) for v in value)
    rows, columns = pair(op, "padding", value)
    return rows, rows, columns, columns


def conv_output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int,
                     dilation: int = 1) -> int:
    """Outputs of a window of `kernel` taps `dilation` apart sliding by `stride` over `size`
    inputs padded by pad_before + pad_after: floor((padded - span) / stride) + 1."""
    span = dilation * (kernel - 1) + 1
    return (size + pad_before + pad_after - span) // stride + 1


def conv_output_hw(op, x_shape, w_shape, stride, padding, dilation, groups):
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
    p = conv_output_size(h, r, sh, pt, pb, dh)
    q = conv_output_size(w, s, sw, pl, pr, dw)
    if p < 1 or q < 1:
        raise ValueError(f"{op}: kernel {r}x{s} (dilated {dh * (r - 1) + 1}x{dw * (s - 1) + 1}) "
                         f"is larger than the padded input {h + pt + pb}x{w + pl + pr} "
                         f"(input {tuple(x_shape)}, padding {padding})")
    return p, q


# Below this many elements a CPU twin's parallel loop runs on the calling thread alone: waking
# the other threads costs 10-100 µs (more on a busy machine), the work itself a few µs.
SERIAL_BELOW = 32768


def run_cpu(kernel, size, *args):
    """kernel(*args), a parallel @njit loop over `size` elements: on one thread when small."""
    threads = numba.get_num_threads()
    if size >= SERIAL_BELOW or threads == 1:
        return kernel(*args)
    numba.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(threads)
