"""Making tensors: from data (tensor copies; from_numpy, as_tensor, from_dlpack share), filled
(zeros, ones, full, empty and their *_like forms), random (rand, randn, randint, from the
Philox generator that gpucnn.manual_seed seeds, the same numbers on "cpu" and "cuda"), and
ranges (arange, linspace, eye). Each takes PyTorch's dtype=, device= and requires_grad=.
"""
import math
import numbers
import operator

import numpy as np

from . import dtypes, interop, random
from .backend import backend
from .devices import resolve as resolve_device
from .errors import InputError, InputTypeError
from .ops import _arrays, arithmetic
from .tensor import Tensor, _dims


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of data: float data becomes float32, integers int64."""
    return Tensor(data, device=device, requires_grad=requires_grad, dtype=dtype)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """data itself when it is already a tensor of that dtype and device; a tensor sharing a
    NumPy array's memory when it can (float32, int64, int32 or bool on "cpu"); else a copy."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device or dtype) else data
    if isinstance(data, np.ndarray) and resolve_device(device) == "cpu" and \
            (dtype is None or dtypes.resolve(dtype, "as_tensor").numpy == data.dtype) and \
            data.dtype in (np.float32, np.int64, np.int32, np.bool_) and data.flags.c_contiguous:
        return from_numpy(data)
    return Tensor(data, device=device, dtype=dtype)


def from_dlpack(obj) -> Tensor:
    """A Tensor sharing memory with `obj` (no copy): a PyTorch tensor, a CuPy or NumPy array,
    anything with __cuda_array_interface__ or __dlpack__ (float32, int64, int32 or bool,
    C-contiguous)."""
    array, device = interop.shared_array(obj)
    return Tensor._from_array(array, resolve_device(device))


def from_numpy(array: np.ndarray) -> Tensor:
    """A "cpu" Tensor sharing `array`'s memory (float32, int64, int32 or bool): each sees the
    other's changes, as torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    if array.dtype not in (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.int32),
                           np.dtype(np.bool_)):
        raise TypeError(f"from_numpy: gpucnn shares float32, int64, int32 or bool arrays, got "
                        f"{array.dtype} (shape {array.shape}); gpucnn.tensor(array) converts "
                        f"a copy")
    if any(s < 0 for s in array.strides) or any(s % array.itemsize for s in array.strides):
        raise ValueError(f"from_numpy: needs non-negative strides that are whole elements, got "
                         f"shape {array.shape} with strides {array.strides}; "
                         f"gpucnn.tensor(array) makes a copy")
    return Tensor._from_array(array, resolve_device("cpu"))


# ================================================================ filled

def _size(size, name, kwargs=None):
    """The shape from f(2, 3), f((2, 3)) or f(size=(2, 3)); other keywords are refused."""
    kwargs = dict(kwargs or {})
    if "size" in kwargs:
        if size:
            raise TypeError(f"{name}(): size given twice")
        given = kwargs.pop("size")
        size = (tuple(given),) if isinstance(given, (tuple, list)) else (given,)
    if kwargs.get("out", False) is None:
        kwargs.pop("out")   # out=None is the default; a real out= is not supported
    if kwargs:
        raise TypeError(f"{name}() got unexpected keyword arguments {sorted(kwargs)}")
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = _dims(size, name)
    if any(n < 0 for n in shape):
        raise InputError(f"{name}: negative dimension in size {list(shape)}")
    return shape


def _new(name, shape, dtype, device, default=dtypes.float32):
    device = resolve_device(device)
    dtype = dtypes.resolve(dtype, name) if dtype is not None else default
    return Tensor._from_array(backend(device).empty(shape, dtype.numpy), device)


def _finish(out, requires_grad):
    return out.requires_grad_(True) if requires_grad else out


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    if dtype is None:   # PyTorch infers the dtype from the fill value
        dtype = dtypes.result_type(fill_value)
    made = _new("full", _dims(tuple(size) if isinstance(size, (tuple, list)) else (size,),
                              "full"), dtype, device)
    return _finish(arithmetic.fill(made, fill_value), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    made = _new("zeros", _size(size, "zeros", kwargs), dtype, device)
    return _finish(arithmetic.fill(made, 0), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    made = _new("ones", _size(size, "ones", kwargs), dtype, device)
    return _finish(arithmetic.fill(made, 1), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    shape = _size(size, "empty", kwargs)
    return _finish(_new("empty", shape, dtype, device), requires_grad)


def _like(name, factory, other, dtype, device, requires_grad, *args):
    """What each *_like is: factory(other's shape, *args) with other's dtype and device unless
    given."""
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(other).__name__}")
    return factory(tuple(other.shape), *args,
                   dtype=dtype if dtype is not None else other.dtype,
                   device=device if device is not None else other.device,
                   requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like("zeros_like", zeros, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like("ones_like", ones, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like("empty_like", empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None,  # noqa: A002
              requires_grad=False) -> Tensor:
    return _like("full_like", full, input, dtype, device, requires_grad, fill_value)


# ================================================================ random

def _random_float(name, size, dtype, device, kwargs):
    made = _new(name, _size(size, name, kwargs), dtype, device)
    if made.dtype is not dtypes.float32:
        raise TypeError(f"{name}: only float32 is supported for random floats, got "
                        f"{made.dtype.name}")
    return made


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None,
         **kwargs) -> Tensor:
    """Uniform on [0, 1)."""
    _no_generator("rand", generator)
    made = _random_float("rand", size, dtype, device, kwargs)
    return _finish(arithmetic.random_fill(made, "uniform", 0.0, 1.0), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None,
          **kwargs) -> Tensor:
    """Standard normal."""
    _no_generator("randn", generator)
    made = _random_float("randn", size, dtype, device, kwargs)
    return _finish(arithmetic.random_fill(made, "normal", 0.0, 1.0), requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like("rand_like", rand, input, dtype, device, requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like("randn_like", randn, input, dtype, device, requires_grad)


def randint(*args, low=None, high=None, size=None, dtype=None, device=None,
            requires_grad=False, generator=None, layout=None, pin_memory=False,
            out=None) -> Tensor:
    """Integers uniform on [low, high), with torch.randint's overloads: randint(high, size),
    randint(low, high, size), size= and high= / low= as keywords (low defaults to 0)."""
    _no_generator("randint", generator)
    if out is not None:
        raise NotImplementedError("randint(out=...) is not supported; use the returned tensor")
    low, high, size = _randint_arguments(args, low, high, size)
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (numbers.Integral, Tensor)):
            raise TypeError(f"randint(): argument '{name}' must be int, not "
                            f"{type(value).__name__}")
    low, high = operator.index(low), operator.index(high)
    if high <= low:
        raise InputError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    made = _new("randint", _size((size,), "randint"), dtype, device, default=dtypes.int64)
    if made.dtype in _RANDINT_BOUNDS:
        smallest, largest = _RANDINT_BOUNDS[made.dtype]
        for name, value in (("from", low), ("to - 1", high - 1)):
            if not smallest <= value <= largest:
                raise InputError(f"randint: {name} is out of bounds for {made.dtype.name} "
                                 f"(low={low}, high={high})")
    if requires_grad and not made.dtype.is_floating_point:
        raise InputTypeError(f"randint: only float tensors can require gradients, got "
                             f"{made.dtype.name}")
    seed, offset = random.philox_counters(made.numel())
    if made.dtype is dtypes.int64:
        made._kernels.randint(made._array, seed, offset, int(low), int(high))
        return made
    wide = made._kernels.randint(backend(made.device).empty(made.shape, np.int64), seed, offset,
                                 int(low), int(high))
    made._kernels.cast(wide, made._array)
    return _finish(made, requires_grad)


# The values an int32 or bool result can hold: torch refuses low and high - 1 outside them.
_RANDINT_BOUNDS = {dtypes.int32: (-2 ** 31, 2 ** 31 - 1), dtypes.bool: (0, 1)}


def _randint_arguments(args, low, high, size):
    """(low, high, size) from randint's positional and keyword forms; a trailing positional
    sequence is the size, one positional number is high (low keyword or 0), two are low, high."""
    positional = list(args)
    if len(positional) > 3:
        raise TypeError(f"randint() takes at most 3 positional arguments ({len(positional)} "
                        f"given)")
    if positional and isinstance(positional[-1], (tuple, list)):
        if size is not None:
            raise TypeError("randint(): argument 'size' given by position and by keyword")
        size = positional.pop()
    if len(positional) == 3:
        raise TypeError(f"randint(): argument 'size' (position 3) must be tuple of ints, not "
                        f"{type(positional[2]).__name__}")
    if len(positional) == 2:
        if low is not None or high is not None:
            raise TypeError("randint(): low and high given by position and by keyword")
        if size is None:
            raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, "
                            f"not {type(positional[1]).__name__}")
        low, high = positional
    elif len(positional) == 1:
        if high is None:
            high = positional[0]
        elif low is None:
            low = positional[0]
        else:
            raise TypeError("randint(): low and high given by position and by keyword")
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    return (0 if low is None else low), high, size


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0 .. n-1: the stable argsort of n uniform draws from the
    generator (`generator`, a gpucnn.Generator, or the global one), drawn and sorted on the
    host (gpucnn has no sort kernel; Philox draws are the same on both devices), then moved
    to `device`."""
    from .generator import host_uniform
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise InputError(f"randperm: n must be a non-negative int, got {n!r}")
    keys = host_uniform(generator, int(n), "randperm")
    order = np.argsort(keys, kind="stable")
    return _finish(Tensor(order, device=device, dtype=dtype or dtypes.int64), requires_grad)


def _no_generator(name, generator):
    if generator is not None:
        raise NotImplementedError(f"{name}(generator=...) is not supported: gpucnn has one "
                                  f"generator, seeded by gpucnn.manual_seed")


# ================================================================ ranges

def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """start, start + step, ... below end (arange(end) starts at 0)."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if step == 0:
        raise InputError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise InputError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start {start}, end {end}, step {step})")
    if dtype is None:
        dtype = dtypes.result_type(start, end, step)
    count = max(0, math.ceil((end - start) / step))
    made = _new("arange", (count,), dtype, device)
    _ramp(made, start, step, None)
    return _finish(made, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """steps values from start to end inclusive, filled from both ends as PyTorch does."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise InputError(f"linspace: number of steps must be non-negative, got {steps!r}")
    made = _new("linspace", (int(steps),), dtype, device)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    _ramp(made, start, step, end, half=steps // 2)
    return _finish(made, requires_grad)


def _ramp(made, start, step, end, half=None):
    """made[i] = start + i*step (from end backwards past `half`), in made's dtype."""
    kernels = made._kernels
    compute = np.float32 if made.dtype.is_floating_point else np.int64
    target = made._array if made.dtype.numpy == np.dtype(compute) else \
        backend(made.device).empty(made.shape, compute)
    kernels.ramp(target, start, step, start if end is None else end, half)
    if target is not made._array:
        kernels.cast(target, made._array)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    m = n if m is None else m
    made = zeros(n, m, dtype=dtype, device=device)
    diagonal = _arrays.view(made._array, (min(n, m),), (m + 1,))
    arithmetic.fill(Tensor._from_array(diagonal, made.device), 1)
    return _finish(made, requires_grad)
