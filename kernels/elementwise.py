"""Elementwise ops over arrays of any layout, and the copy every layout change goes through.

    unary(op, x, out=None, p=0, q=0)      out = f(x)        map_ops.unary_float/int/bool by dtype
    binary(op, a, b, out=None, p=0, q=0)  out = f(a, b)     map_ops.binary_float/int/bool
    compare(op, a, b, out=None)           out (bool) = a OP b
    compare_scalar(op, x, p, out=None)    out (bool) = x OP p
    test(op, x, out=None)                 out (bool) = isnan / isinf / isfinite(x), float32 x
    where(cond, a, b, out=None)           out = a where cond else b
    cast(x, out)                          out = x in out's dtype (a plain copy when they agree)
    ramp(out, start, step, end, half)     out[i] = start + i*step for i < half, else
                                          end - (n-1-i)*step: arange (half = n) and linspace

The formulas live in map_ops.py, written once for both twins; an op is a map_ops code. Inputs
and out have one shape: broadcasting is done by the engine with zero-stride views
(kernels/_views.py), so one kernel per family serves every op and every broadcast pattern. Any
non-negative strides work; out may alias an input exactly (each element is read, then written,
by one thread), but must not overlap it otherwise, and must not repeat an element (no zero
strides in out). Each op returns `out`.

dtypes: float32, int64 and bool compute (both inputs of a binary op, and out unless the op
makes bools, share one of them; the engine promotes first); `cast` also reads and writes int32.

Layouts. When every array is C-contiguous the loops are flat (1-D). Otherwise the arrays' dims
are coalesced (dims every array walks contiguously become one) and padded to 4; arrays with
more than 4 dims left after that are cut into 4-D pieces by their leading dims, one launch per
piece. The CUDA kernels run grid-stride loops over a grid capped at MAX_BLOCKS blocks, finding
a strided element from the flat index; the CPU twins run numba parallel loops, over pieces of
rows in the strided layout.

Each output element depends on its inputs alone: results do not depend on the thread count or
the device (up to the last bit of the math library's exp, log, tanh, erf).
"""
import numpy as np
from numba import cuda, float32, njit, prange

from . import _views
from ._checks import ceil_div, check_device, check_host, is_c_contiguous, run_cpu
from ._device_functions import unravel4
from ._registry import Twins, cuda_kernel
from .map_ops import (B_ADD, B_MUL, B_RELU_GRAD, B_SUB, U_ADD, U_AFFINE, U_COPY, U_MUL, U_RELU,
                      binary_bool_cpu, binary_bool_gpu, binary_float_cpu, binary_float_gpu,
                      binary_int_cpu, binary_int_gpu, compare_cpu as compare_formula_cpu,
                      compare_gpu, compare_scalar_cpu as compare_scalar_formula_cpu,
                      compare_scalar_gpu, convert_cpu, convert_gpu, test_float_cpu,
                      test_float_gpu, unary_bool_cpu, unary_bool_gpu, unary_float_cpu,
                      unary_float_gpu, unary_int_cpu, unary_int_gpu)

VERSIONS = (1,)
DEFAULT_VERSION = 1

THREADS = 256
# Enough blocks to fill an H100 (132 SMs x 8 blocks of 256) several times over; larger arrays
# are covered by the grid-stride loops. Tests lower it to exercise the stride.
MAX_BLOCKS = 4096
MAX_DIMS = 4
CPU_CHUNK = 4096   # at most this many elements of a row per task of the CPU strided loops

FLOAT32, INT64, INT32, BOOL = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.int32),
                               np.dtype(np.bool_))
COMPUTE_DTYPES = (FLOAT32, INT64, BOOL)
CAST_DTYPES = (FLOAT32, INT64, INT32, BOOL)
_TYPE_NAMES = {FLOAT32: "float32", INT64: "int64", INT32: "int32", BOOL: "b1"}
_COMPUTE_TYPES = ("float32", "int64", "b1")


def grid_1d(n: int) -> int:
    return max(1, min(ceil_div(n, THREADS), MAX_BLOCKS))


# ================================================================ layouts

def _plan(out, *inputs):
    """The launches that cover `out`: a list of (layout, arrays) with arrays = inputs + [out]
    as flat 1-D arrays ("flat") or 4-D strided views ("strided")."""
    arrays = [*inputs, out]
    if out.size == 0:
        return []
    if all(is_c_contiguous(a) for a in arrays):
        return [("flat", [a.reshape(a.size) for a in arrays])]
    shape, strides = _views.coalesce(out.shape, *(_views.element_strides(a) for a in arrays))
    if len(shape) <= MAX_DIMS:
        pad = MAX_DIMS - len(shape)
        return [("strided", [_views.as_strided(a, (1,) * pad + shape, (0,) * pad + s)
                             for a, s in zip(arrays, strides)])]
    lead = shape[:-MAX_DIMS]
    pieces = []
    for index in np.ndindex(*lead):
        pieces.append(("strided", [
            _views.as_strided(a, shape[-MAX_DIMS:], s[-MAX_DIMS:],
                              sum(i * st for i, st in zip(index, s[:-MAX_DIMS])))
            for a, s in zip(arrays, strides)]))
    return pieces


def _check(op_name, on_device, out, out_dtypes, *named):
    """Every array of `named` ((name, array, allowed dtypes), ...) of out's shape and of an
    allowed dtype, on the launcher's side of the bus; out of an allowed dtype, with no
    repeated element."""
    side = check_device if on_device else check_host
    for name, a, allowed in (*named, ("out", out, out_dtypes)):
        if not hasattr(a, "shape") or not hasattr(a, "dtype"):
            raise TypeError(f"{op_name}: {name} must be an array, got {type(a).__name__}")
        side(op_name, name, a)
        if np.dtype(a.dtype) not in allowed:
            raise TypeError(f"{op_name}: {name} is {np.dtype(a.dtype).name} (shape "
                            f"{tuple(a.shape)}); expected {', '.join(d.name for d in allowed)}")
        if tuple(a.shape) != tuple(out.shape):
            raise ValueError(f"{op_name}: {name} has shape {tuple(a.shape)}, out has "
                             f"{tuple(out.shape)}; broadcast with a view first")
        if min(a.strides, default=0) < 0:
            raise ValueError(f"{op_name}: {name} has negative strides {tuple(a.strides)}")
    if out.size and any(s == 0 and n > 1 for s, n in zip(out.strides, out.shape)):
        raise ValueError(f"{op_name}: out (shape {tuple(out.shape)}, strides "
                         f"{tuple(out.strides)}) repeats elements; write into a real array")


def _arrays(op_name, on_device, **named):
    """Each argument an array on the launcher's side of the bus (checked before out is
    allocated from their shapes)."""
    side = check_device if on_device else check_host
    for name, a in named.items():
        if isinstance(a, type) or not hasattr(a, "shape") or not hasattr(a, "dtype"):
            raise TypeError(f"{op_name}: {name} must be an array, got {type(a).__name__}")
        side(op_name, name, a)


def _allocate(on_device, shape, dtype):
    return cuda.device_array(shape, dtype) if on_device else np.empty(shape, dtype)


def _scalar(dtype, value):
    return {FLOAT32: np.float32, INT64: np.int64, INT32: np.int32,
            BOOL: np.bool_}[np.dtype(dtype)](value)


def _run(on_device, kernels, plan, op, *scalars):
    """Each piece of `plan` through kernels["flat"] or kernels["strided"] (CUDA kernels on a
    grid covering the piece's out, or CPU twins), with the op code first."""
    for layout, arrays in plan:
        args = (np.int32(op), *arrays, *scalars)
        if on_device:
            kernels[layout][grid_1d(arrays[-1].size), THREADS](*args)
        else:
            run_cpu(kernels[layout], arrays[-1].size, *args)


# ================================================================ CUDA kernels
# Each family has a "flat" kernel (C-contiguous 1-D arrays) and a "strided" one (4-D arrays of
# any strides; a thread finds its element from its flat index), made by one of two factories
# from the family's formula: map1 for out = f(op, x, p, q), map2 for out = f(op, a, b, p, q).
# A kernel is compiled once per dtype it serves (its signatures). These closures capture an
# @njit formula, which numba cannot key a disk cache by (cache=False); each compiles in well
# under a second at its first launch.

def _sig(*types, scalars=(), strided=False):
    """'void(int32, float32[::1], ..., float32, float32)': an op code, arrays, scalars."""
    layout = "[:, :, :, :]" if strided else "[::1]"
    arrays = [f"{t}{layout}" for t in types]
    return f"void({', '.join(['int32', *arrays, *scalars])})"


def _sigs(types_list, strided):
    """One signature per (array types, scalar types) pair."""
    return [_sig(*arrays, scalars=scalars, strided=strided) for arrays, scalars in types_list]


def _kernels(name, flat, strided, types, layouts):
    made = {}
    for layout, fn in (("flat", flat), ("strided", strided)):
        if layout in layouts:
            made[layout] = cuda_kernel(*_sigs(types, layout == "strided"),
                                       name=f"{name}_{layout}", cache=False)(fn)
    return made


def _map1(name, formula, types, layouts=("flat", "strided")):
    """out = formula(op, x, p, q): types [((x, out), (p, q)), ...]."""
    def flat(op, x, out, p, q):
        for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
            out[i] = formula(op, x[i], p, q)

    def strided(op, x, out, p, q):
        for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
            i0, i1, i2, i3 = unravel4(i, out.shape)
            out[i0, i1, i2, i3] = formula(op, x[i0, i1, i2, i3], p, q)
    return _kernels(name, flat, strided, types, layouts)


def _map2(name, formula, types):
    """out = formula(op, a, b, p, q): types [((a, b, out), (p, q)), ...]."""
    def flat(op, a, b, out, p, q):
        for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
            out[i] = formula(op, a[i], b[i], p, q)

    def strided(op, a, b, out, p, q):
        for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
            i0, i1, i2, i3 = unravel4(i, out.shape)
            out[i0, i1, i2, i3] = formula(op, a[i0, i1, i2, i3], b[i0, i1, i2, i3], p, q)
    return _kernels(name, flat, strided, types, ("flat", "strided"))


def _same(t, arrays):
    """((t, ..., t), (t, t)): `arrays` arrays and the two scalars, all of type t."""
    return ((t,) * arrays, (t, t))


def _to_bool(t, arrays):
    return ((t,) * (arrays - 1) + ("b1",), (t, t))


_WHERE_TYPES = [(("b1", t, t, t), ()) for t in _COMPUTE_TYPES]


@cuda_kernel(*_sigs(_WHERE_TYPES, False))
def _where_flat_kernel(op, cond, a, b, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = a[i] if cond[i] else b[i]


@cuda_kernel(*_sigs(_WHERE_TYPES, True))
def _where_strided_kernel(op, cond, a, b, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        i0, i1, i2, i3 = unravel4(i, out.shape)
        out[i0, i1, i2, i3] = (a[i0, i1, i2, i3] if cond[i0, i1, i2, i3]
                               else b[i0, i1, i2, i3])


# Every pair of different dtypes, and int32 to int32 (the other same-dtype copies are U_COPY).
# numba converts on the store as NumPy's astype does (float to int truncates toward zero).
_CAST_TYPES = [((s, d), (s, s)) for s in ("float32", "int64", "int32", "b1")
               for d in ("float32", "int64", "int32", "b1") if s != d or s == "int32"]


@cuda_kernel("void(float32[::1], float32, float32, float32, int64)")
def _ramp_float_kernel(out, start, step, end, half):
    last = out.size - 1
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = start + step * float32(i) if i < half else end - step * float32(last - i)


@cuda_kernel("void(int64[::1], int64, int64, int64, int64)")
def _ramp_int_kernel(out, start, step, end, half):
    last = out.size - 1
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = start + step * i if i < half else end - step * (last - i)


_CUDA = {
    "unary": {FLOAT32: _map1("unary_float", unary_float_gpu, [_same("float32", 2)]),
              INT64: _map1("unary_int", unary_int_gpu, [_same("int64", 2)]),
              BOOL: _map1("unary_bool", unary_bool_gpu, [_same("b1", 2)])},
    "binary": {FLOAT32: _map2("binary_float", binary_float_gpu, [_same("float32", 3)]),
               INT64: _map2("binary_int", binary_int_gpu, [_same("int64", 3)]),
               BOOL: _map2("binary_bool", binary_bool_gpu, [_same("b1", 3)])},
    "compare": _map2("compare", compare_gpu, [_to_bool(t, 3) for t in _COMPUTE_TYPES]),
    "compare_scalar": _map1("compare_scalar", compare_scalar_gpu,
                            [_to_bool(t, 2) for t in _COMPUTE_TYPES]),
    "test": _map1("test", test_float_gpu, [_to_bool("float32", 2)]),
    "where": {"flat": _where_flat_kernel, "strided": _where_strided_kernel},
    # 13 dtype pairs: one strided kernel serves contiguous arrays too, as (1, 1, 1, n) views.
    "cast": _map1("cast", convert_gpu, _CAST_TYPES, layouts=("strided",)),
    "ramp": {FLOAT32: _ramp_float_kernel, INT64: _ramp_int_kernel},
}


def cuda_kernel_of(family, layout, dtype=None):
    """The CUDA kernel of a family ("unary", "binary", ...) and layout ("flat", "strided"),
    for a dtype where the family has one per dtype: what the bench launches directly."""
    table = _CUDA[family]
    return (table if dtype is None else table[np.dtype(dtype)])[layout]


# ================================================================ CPU twins
# As on the GPU, each family has a "flat" and a "strided" loop, made by _map1_cpu / _map2_cpu
# from the family's formula (cached on disk: see map_ops' compiled forms). float32 unary and
# binary put loops of their own in front for the hot ops (copy, ReLU, add, multiply, ...),
# which vectorise; every other op goes to the formula's loops. Strided loops run one task per
# row piece (_tasks, _task) and walk 1-D slices of the row: an index from range(n) needs no
# negative-index check, so LLVM can vectorise where the row's strides turn out to be 1.

_JIT = dict(parallel=True, cache=True, error_model="numpy")


@njit(inline="always")
def _tasks(shape):
    """The CPU strided loops' tasks: every row (a, b, c) of the 4-D shape, cut into pieces of
    at most CPU_CHUNK elements along d (so a few long rows still spread over the threads)."""
    return shape[0] * shape[1] * shape[2] * ((shape[3] + CPU_CHUNK - 1) // CPU_CHUNK)


@njit(inline="always")
def _task(k, shape):
    """(a, b, c, d_start, d_stop) of task k."""
    pieces = (shape[3] + CPU_CHUNK - 1) // CPU_CHUNK
    row, piece = k // pieces, k % pieces
    c = row % shape[2]
    rest = row // shape[2]
    start = piece * CPU_CHUNK
    return rest // shape[1], rest % shape[1], c, start, min(shape[3], start + CPU_CHUNK)


def _map1_cpu(formula):
    """CPU twins of out = formula(op, x, p, q), {"flat": ..., "strided": ...}: the CPU side
    of _map1. `formula` is a map_ops *_cpu form (register_jitable), so that numba can cache
    the closures on disk."""
    @njit(**_JIT)
    def flat(op, x, out, p, q):
        for i in prange(out.size):
            out[i] = formula(op, x[i], p, q)

    @njit(**_JIT)
    def strided(op, x, out, p, q):
        for k in prange(_tasks(out.shape)):
            a, b, c, start, stop = _task(k, out.shape)
            o, xr = out[a, b, c, start:stop], x[a, b, c, start:stop]
            for j in range(o.size):
                o[j] = formula(op, xr[j], p, q)
    return {"flat": flat, "strided": strided}


def _map2_cpu(formula):
    """CPU twins of out = formula(op, x, y, p, q): the CPU side of _map2."""
    @njit(**_JIT)
    def flat(op, x, y, out, p, q):
        for i in prange(out.size):
            out[i] = formula(op, x[i], y[i], p, q)

    @njit(**_JIT)
    def strided(op, x, y, out, p, q):
        for k in prange(_tasks(out.shape)):
            a, b, c, start, stop = _task(k, out.shape)
            o, xr, yr = out[a, b, c, start:stop], x[a, b, c, start:stop], y[a, b, c, start:stop]
            for j in range(o.size):
                o[j] = formula(op, xr[j], yr[j], p, q)
    return {"flat": flat, "strided": strided}


# The loops the float32 twins hand their other ops to, under names of their own: numba calls a
# dispatcher it finds as a global, not as a dict entry.
_cast_loops = _map1_cpu(convert_cpu)
_unary_float_loops = _map1_cpu(unary_float_cpu)
_binary_float_loops = _map2_cpu(binary_float_cpu)
_cast_strided = _cast_loops["strided"]
_unary_float_flat_formula = _unary_float_loops["flat"]
_unary_float_strided_formula = _unary_float_loops["strided"]
_binary_float_flat_formula = _binary_float_loops["flat"]


@njit(**_JIT)
def _unary_float_flat_cpu(op, x, out, p, q):
    n = out.size
    if op == U_COPY:
        for i in prange(n):
            out[i] = x[i]
    elif op == U_RELU:
        for i in prange(n):
            v = x[i]
            out[i] = np.float32(0.0) if v < np.float32(0.0) else v
    elif op == U_MUL:
        for i in prange(n):
            out[i] = x[i] * p
    elif op == U_ADD:
        for i in prange(n):
            out[i] = x[i] + p
    elif op == U_AFFINE:
        for i in prange(n):
            out[i] = x[i] * p + q
    else:
        _unary_float_flat_formula(op, x, out, p, q)


@njit(cache=True)
def _unary_float_strided_cpu(op, x, out, p, q):
    # A copy is cast's loop: LLVM inlines convert, so it vectorises as a loop of its own would.
    if op == U_COPY:
        _cast_strided(op, x, out, p, q)
    else:
        _unary_float_strided_formula(op, x, out, p, q)


@njit(**_JIT)
def _binary_float_flat_cpu(op, x, y, out, p, q):
    n = out.size
    if op == B_ADD:
        for i in prange(n):
            out[i] = x[i] + y[i]
    elif op == B_MUL:
        for i in prange(n):
            out[i] = x[i] * y[i]
    elif op == B_SUB:
        for i in prange(n):
            out[i] = x[i] - y[i]
    elif op == B_RELU_GRAD:
        for i in prange(n):
            out[i] = x[i] if y[i] > np.float32(0.0) else np.float32(0.0)
    else:
        _binary_float_flat_formula(op, x, y, out, p, q)


@njit(**_JIT)
def _binary_float_strided_cpu(op, x, y, out, p, q):
    for k in prange(_tasks(out.shape)):
        a, b, c, start, stop = _task(k, out.shape)
        o, xr, yr = out[a, b, c, start:stop], x[a, b, c, start:stop], y[a, b, c, start:stop]
        if op == B_ADD:
            for j in range(o.size):
                o[j] = xr[j] + yr[j]
        elif op == B_MUL:
            for j in range(o.size):
                o[j] = xr[j] * yr[j]
        elif op == B_SUB:
            for j in range(o.size):
                o[j] = xr[j] - yr[j]
        else:
            for j in range(o.size):
                o[j] = binary_float_cpu(op, xr[j], yr[j], p, q)


@njit(**_JIT)
def _where_flat_cpu(op, cond, x, y, out):
    for i in prange(out.size):
        out[i] = x[i] if cond[i] else y[i]


@njit(**_JIT)
def _where_strided_cpu(op, cond, x, y, out):
    for k in prange(_tasks(out.shape)):
        a, b, c, start, stop = _task(k, out.shape)
        o, cr = out[a, b, c, start:stop], cond[a, b, c, start:stop]
        xr, yr = x[a, b, c, start:stop], y[a, b, c, start:stop]
        for j in range(o.size):
            o[j] = xr[j] if cr[j] else yr[j]


@njit(**_JIT)
def _ramp_float_cpu(out, start, step, end, half):
    last = out.size - 1
    for i in prange(out.size):
        out[i] = start + step * np.float32(i) if i < half else end - step * np.float32(last - i)


@njit(**_JIT)
def _ramp_int_cpu(out, start, step, end, half):
    last = out.size - 1
    for i in prange(out.size):
        out[i] = start + step * i if i < half else end - step * (last - i)


_CPU = {
    "unary": {FLOAT32: {"flat": _unary_float_flat_cpu, "strided": _unary_float_strided_cpu},
              INT64: _map1_cpu(unary_int_cpu),
              BOOL: _map1_cpu(unary_bool_cpu)},
    "binary": {FLOAT32: {"flat": _binary_float_flat_cpu, "strided": _binary_float_strided_cpu},
               INT64: _map2_cpu(binary_int_cpu),
               BOOL: _map2_cpu(binary_bool_cpu)},
    "compare": _map2_cpu(compare_formula_cpu),
    "compare_scalar": _map1_cpu(compare_scalar_formula_cpu),
    "test": _map1_cpu(test_float_cpu),
    "where": {"flat": _where_flat_cpu, "strided": _where_strided_cpu},
    # numba converts on the store as NumPy's astype does.
    "cast": _cast_loops,
    "ramp": {FLOAT32: _ramp_float_cpu, INT64: _ramp_int_cpu},
}


# ================================================================ launchers

def _table(on_device, family, dtype=None):
    """The CUDA kernels or CPU twins of one family (of one dtype where they differ by it)."""
    table = (_CUDA if on_device else _CPU)[family]
    return table if dtype is None else table[np.dtype(dtype)]


def _unary(name, on_device, op, x, out, p, q):
    _arrays(name, on_device, x=x)
    out = _allocate(on_device, x.shape, x.dtype) if out is None else out
    _check(name, on_device, out, (np.dtype(x.dtype),), ("x", x, COMPUTE_DTYPES))
    _run(on_device, _table(on_device, "unary", x.dtype), _plan(out, x), op,
         _scalar(x.dtype, p), _scalar(x.dtype, q))
    return out


def _binary(name, on_device, op, a, b, out, p, q):
    _arrays(name, on_device, a=a, b=b)
    out = _allocate(on_device, a.shape, a.dtype) if out is None else out
    dtype = np.dtype(a.dtype)
    _check(name, on_device, out, (dtype,), ("a", a, COMPUTE_DTYPES), ("b", b, (dtype,)))
    _run(on_device, _table(on_device, "binary", dtype), _plan(out, a, b), op,
         _scalar(dtype, p), _scalar(dtype, q))
    return out


def _compare(name, on_device, op, a, b, out):
    _arrays(name, on_device, a=a, b=b)
    out = _allocate(on_device, a.shape, BOOL) if out is None else out
    _check(name, on_device, out, (BOOL,), ("a", a, COMPUTE_DTYPES),
           ("b", b, (np.dtype(a.dtype),)))
    zero = _scalar(a.dtype, 0)   # the formulas' unused scalars
    _run(on_device, _table(on_device, "compare"), _plan(out, a, b), op, zero, zero)
    return out


def _compare_scalar(name, on_device, op, x, p, out):
    _arrays(name, on_device, x=x)
    out = _allocate(on_device, x.shape, BOOL) if out is None else out
    _check(name, on_device, out, (BOOL,), ("x", x, COMPUTE_DTYPES))
    p = _scalar(x.dtype, p)
    _run(on_device, _table(on_device, "compare_scalar"), _plan(out, x), op, p, p)
    return out


def _test(name, on_device, op, x, out):
    _arrays(name, on_device, x=x)
    out = _allocate(on_device, x.shape, BOOL) if out is None else out
    _check(name, on_device, out, (BOOL,), ("x", x, (FLOAT32,)))
    zero = np.float32(0)
    _run(on_device, _table(on_device, "test"), _plan(out, x), op, zero, zero)
    return out


def _where(name, on_device, cond, a, b, out):
    _arrays(name, on_device, cond=cond, a=a, b=b)
    out = _allocate(on_device, a.shape, a.dtype) if out is None else out
    dtype = np.dtype(a.dtype)
    _check(name, on_device, out, (dtype,), ("cond", cond, (BOOL,)), ("a", a, COMPUTE_DTYPES),
           ("b", b, (dtype,)))
    _run(on_device, _table(on_device, "where"), _plan(out, cond, a, b), 0)
    return out


def _cast(name, on_device, x, out):
    if isinstance(out, type) or not hasattr(out, "dtype") or not hasattr(out, "shape"):
        raise TypeError(f"{name}: out must be an array (its dtype is the one cast to), got "
                        f"{type(out).__name__}")
    _arrays(name, on_device, x=x)
    _check(name, on_device, out, CAST_DTYPES, ("x", x, CAST_DTYPES))
    if np.dtype(x.dtype) == np.dtype(out.dtype) and np.dtype(x.dtype) in COMPUTE_DTYPES:
        return _unary(name, on_device, U_COPY, x, out, 0, 0)
    zero = _scalar(x.dtype, 0)
    plan = _plan(out, x)
    if on_device:
        plan = [("strided", [a.reshape(1, 1, 1, a.size) for a in arrays]) if layout == "flat"
                else (layout, arrays) for layout, arrays in plan]
    _run(on_device, _table(on_device, "cast"), plan, 0, zero, zero)
    return out


def _ramp(name, on_device, out, start, step, end, half):
    if not hasattr(out, "dtype") or np.dtype(out.dtype) not in (FLOAT32, INT64) \
            or len(out.shape) != 1 or not is_c_contiguous(out):
        raise TypeError(f"{name}: out must be a contiguous 1-D float32 or int64 array, got "
                        f"{getattr(out, 'dtype', type(out).__name__)} of shape "
                        f"{tuple(getattr(out, 'shape', ()))}")
    (check_device if on_device else check_host)(name, "out", out)
    dtype = np.dtype(out.dtype)
    args = (out, _scalar(dtype, start), _scalar(dtype, step), _scalar(dtype, end), np.int64(half))
    kernel = _table(on_device, "ramp")[dtype]
    if out.size and on_device:
        kernel[grid_1d(out.size), THREADS](*args)
    elif out.size:
        kernel(*args)
    return out


def unary_cpu(op, x, out=None, p=0, q=0):
    """out = map_ops.unary_<dtype>(op, x, p, q); x float32, int64 or bool, out its dtype."""
    return _unary("unary_cpu", False, op, x, out, p, q)


def unary_cuda(op, x, out=None, p=0, q=0):
    return _unary("unary_cuda", True, op, x, out, p, q)


def binary_cpu(op, a, b, out=None, p=0, q=0):
    """out = map_ops.binary_<dtype>(op, a, b, p, q); a, b and out of one dtype and shape."""
    return _binary("binary_cpu", False, op, a, b, out, p, q)


def binary_cuda(op, a, b, out=None, p=0, q=0):
    return _binary("binary_cuda", True, op, a, b, out, p, q)


def compare_cpu(op, a, b, out=None):
    """out (bool) = a OP b (map_ops.C_EQ ... C_GE); a and b of one dtype."""
    return _compare("compare_cpu", False, op, a, b, out)


def compare_cuda(op, a, b, out=None):
    return _compare("compare_cuda", True, op, a, b, out)


def compare_scalar_cpu(op, x, p, out=None):
    """out (bool) = x OP p, p converted to x's dtype."""
    return _compare_scalar("compare_scalar_cpu", False, op, x, p, out)


def compare_scalar_cuda(op, x, p, out=None):
    return _compare_scalar("compare_scalar_cuda", True, op, x, p, out)


def test_cpu(op, x, out=None):
    """out (bool) = isnan / isinf / isfinite (map_ops.T_*) of float32 x."""
    return _test("test_cpu", False, op, x, out)


def test_cuda(op, x, out=None):
    return _test("test_cuda", True, op, x, out)


def where_cpu(cond, a, b, out=None):
    """out = a where cond else b; cond bool, a, b, out of one dtype."""
    return _where("where_cpu", False, cond, a, b, out)


def where_cuda(cond, a, b, out=None):
    return _where("where_cuda", True, cond, a, b, out)


def cast_cpu(x, out):
    """out = x converted to out's dtype (float32, int64, int32, bool; float to int truncates)."""
    return _cast("cast_cpu", False, x, out)


def cast_cuda(x, out):
    return _cast("cast_cuda", True, x, out)


def ramp_cpu(out, start, step, end=0, half=None):
    """out[i] = start + i*step for i < half, end - (n-1-i)*step from there (PyTorch's
    linspace fills from both ends); half=None: the whole array from start (arange)."""
    return _ramp("ramp_cpu", False, out, start, step, end, out.size if half is None else half)


def ramp_cuda(out, start, step, end=0, half=None):
    return _ramp("ramp_cuda", True, out, start, step, end, out.size if half is None else half)


OPS = {
    "unary": Twins(unary_cpu, unary_cuda),
    "binary": Twins(binary_cpu, binary_cuda),
    "compare": Twins(compare_cpu, compare_cuda),
    "compare_scalar": Twins(compare_scalar_cpu, compare_scalar_cuda),
    "test": Twins(test_cpu, test_cuda),
    "where": Twins(where_cpu, where_cuda),
    "cast": Twins(cast_cpu, cast_cuda),
    "ramp": Twins(ramp_cpu, ramp_cuda),
}
