"""Each gpucnn op as ONNX nodes: one translation per op class, found in TRANSLATIONS by the
exact class of the recorded op (a subclass is a different op and needs its own entry), and
one per composite function in COMPOSITES (gpucnn.autograd.composite), which may return
NotImplemented to have the ops recorded inside the call translated instead.

A translation is `translate(g, c)`: g is the Graph (graph.py), c the recorded call seen as
an OpCall: its ONNX input names `c.inputs`, their shapes and gpucnn dtypes `c.shapes`,
`c.dtypes`, the op's keyword options `c.options`, its outputs' `c.out_shapes`,
`c.out_dtypes`, and `c.array(option)` for an array option (a buffer's name, or a constant).
It returns the ONNX name of each output (one name for one output). Shapes and options hold
dynamic.Dim where they follow a dynamic axis: a translation that would need such a value as
a fixed number fails on use, with the op named (graph.py, dynamic.py).

To cover a new op: write its translation here and add `OpClass: translation` to the table
(and the layer to LAYERS in tests/engine/test_onnx_export.py). A function composed of ops
that has a better ONNX form (an interpolation as Resize) gets `@autograd.composite` where it
is defined and an entry in COMPOSITES; its recorded ops remain the fallback.
"""
import math

import numpy as np

from .. import dtypes
from ..kernels import map_ops as M
from ..nn.functional import padding as padding_functional
from ..ops import activation, arithmetic, compare, conv, dropout, index, linear, loss, norm
from ..ops import pool, reduce, reorder, shape
from .dynamic import Dim, Varying
from .errors import UnsupportedOperatorError
from .tracer import Assign, TensorArg

F32 = np.float32


def _static(value):
    """value itself, refusing a Varying (its error names why it changed)."""
    if isinstance(value, Varying):
        value._refuse()
    return value


def _host_array(option) -> np.ndarray:
    return _static(option).array


# ================================================================ elementwise, one tensor

def _input_as_output_type(g, c):
    """The first input, cast to the output's dtype (exp of an int tensor is a float)."""
    return g.cast(c.inputs[0], c.dtypes[0], c.out_dtypes[0])


def _unary(op_type, integer_identity=False):
    def translate(g, c):
        if integer_identity and not c.out_dtypes[0].is_floating_point:
            return c.inputs[0]   # floor, ceil, round of integers
        return g.op(op_type, _input_as_output_type(g, c))
    return translate


def _formula(build):
    """A translation from build(g, x, c) on the input cast to the output's dtype."""
    def translate(g, c):
        return build(g, _input_as_output_type(g, c), c)
    return translate


def _const(g, c, value):
    """value as a scalar of the call's output dtype."""
    return g.scalar(value, c.out_dtypes[0].numpy)


def _gelu(approximate):
    def build(g, x, c):
        if g.opset >= 20:
            return g.op("Gelu", x, approximate=approximate)
        half = g.op("Mul", x, _const(g, c, 0.5))
        if approximate == "none":      # x/2 (1 + erf(x / sqrt 2))
            inner = g.op("Erf", g.op("Mul", x, _const(g, c, 1.0 / math.sqrt(2.0))))
        else:                          # x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            cube = g.op("Mul", g.op("Mul", x, x), x)
            inner = g.op("Tanh", g.op("Mul", g.op("Add", x, g.op("Mul", cube, _const(
                g, c, 0.044715))), _const(g, c, math.sqrt(2.0 / math.pi))))
        return g.op("Mul", half, g.op("Add", inner, _const(g, c, 1.0)))
    return _formula(build)


def _trunc(g, c):
    if not c.out_dtypes[0].is_floating_point:
        return c.inputs[0]
    x = c.inputs[0]
    negative = g.op("Less", x, _const(g, c, 0.0))
    return g.op("Where", negative, g.op("Ceil", x), g.op("Floor", x))


def _log_base(base):
    return _formula(lambda g, x, c: g.op("Div", g.op("Log", x), _const(g, c, math.log(base))))


# ================================================================ elementwise with a number

def _number(g, value, dtype):
    """A Python number of the call as a 0-d tensor of gpucnn dtype `dtype`: a constant, or
    for a size that follows a dynamic axis (x / x.size(0)) its value at run time."""
    if isinstance(value, Dim):
        return g.op("Cast", g.squeeze(g.dim(value), [0]), to=g.tensor_type(dtype))
    return g.scalar(_static(value), dtype.numpy)


def _scalar(build):
    """x OP p for the call's number p, both in the output's dtype."""
    def translate(g, c):
        x = _input_as_output_type(g, c)
        return build(g, x, _number(g, c.options["p"], c.out_dtypes[0]), c)
    return translate


def _pow_of(reflected):
    def build(g, x, p, c):
        _check_integer_pow(g, c, c.out_dtypes[0])
        return g.op("Pow", p, x) if reflected else g.op("Pow", x, p)
    return build


def _clamp(g, c):
    dtype = c.out_dtypes[0].numpy
    low, high = _static(c.options["p"]), _static(c.options["q"])
    if dtype.kind in "iu":   # the op's int64 infinities, within the dtype's range
        info = np.iinfo(dtype)
        low, high = max(int(low), info.min), min(int(high), info.max)
    x = _input_as_output_type(g, c)
    low, high = g.scalar(low, dtype), g.scalar(high, dtype)
    if dtype.kind in "iu" and g.opset < 12:   # Clip takes integers from opset 12
        return _extreme(g, "Min", _extreme(g, "Max", x, low, c.out_dtypes[0]), high,
                        c.out_dtypes[0])
    return g.op("Clip", x, low, high)


# ================================================================ integer-aware division

def _floor_divide(g, a, b, dtype):
    if dtype.is_floating_point:
        return g.op("Floor", g.op("Div", a, b))
    # ONNX divides integers toward zero: one less where the division was inexact and the
    # signs differ (Python's and torch's floor).
    quotient = g.op("Div", a, b)
    rest = g.op("Sub", a, g.op("Mul", quotient, b))
    zero = g.scalar(0, dtype.numpy)
    inexact = g.op("Not", g.op("Equal", rest, zero))
    signs_differ = g.op("Xor", g.op("Less", a, zero), g.op("Less", b, zero))
    fix = g.op("Cast", g.op("And", inexact, signs_differ), to=g.tensor_type(dtype))
    return g.op("Sub", quotient, fix)


def _remainder(g, a, b, dtype):
    if not dtype.is_floating_point:
        return g.op("Mod", a, b, fmod=0)    # the divisor's sign, as Python and torch
    rest = g.op("Mod", a, b, fmod=1)        # the dividend's sign (C's fmod) ...
    zero = g.scalar(0, dtype.numpy)
    wrong_sign = g.op("And", g.op("Not", g.op("Equal", rest, zero)),
                      g.op("Xor", g.op("Less", rest, zero), g.op("Less", b, zero)))
    return g.op("Where", wrong_sign, g.op("Add", rest, b), rest)   # ... moved to b's


def _scalar_floor_divide(reflected):
    def translate(g, c):
        x, p = _input_as_output_type(g, c), _const(g, c, _static(c.options["p"]))
        a, b = (p, x) if reflected else (x, p)
        return _floor_divide(g, a, b, c.out_dtypes[0])
    return translate


def _scalar_remainder(reflected):
    def translate(g, c):
        x, p = _input_as_output_type(g, c), _const(g, c, _static(c.options["p"]))
        a, b = (p, x) if reflected else (x, p)
        return _remainder(g, a, b, c.out_dtypes[0])
    return translate


# ================================================================ two tensors, broadcast

def _operands(g, c, dtype=None):
    """Every input cast to the call's compute dtype (its `dtype` option)."""
    dtype = dtype or c.options["dtype"]
    return [g.cast(x, d, dtype) for x, d in zip(c.inputs, c.dtypes)]


_BOOL_FORMS = {"Add": "Or", "Mul": "And", "Max": "Or", "Min": "And"}


def _extreme(g, op_type, a, b, dtype):
    """Max / Min of a and b; for integers before opset 12 (which added them) a Where."""
    if dtype.is_floating_point or g.opset >= 12:
        return g.op(op_type, a, b)
    return g.op("Where", g.op("Greater" if op_type == "Max" else "Less", a, b), a, b)


def _broadcast(op_type):
    def translate(g, c):
        a, b = _operands(g, c)
        dtype = c.options["dtype"]
        if dtype is dtypes.bool:
            if op_type not in _BOOL_FORMS:
                raise UnsupportedOperatorError(c.name, "on bool tensors")
            return g.op(_BOOL_FORMS[op_type], a, b)
        if op_type in ("Max", "Min"):
            return _extreme(g, op_type, a, b, dtype)
        if op_type == "Pow":
            _check_integer_pow(g, c, dtype)
        return g.op(op_type, a, b)
    return translate


def _check_integer_pow(g, c, dtype):
    if not dtype.is_floating_point and g.opset < 12:
        raise UnsupportedOperatorError(c.name, "Pow of integers needs opset_version >= 12")


def _tensor_floor_divide(g, c):
    a, b = _operands(g, c)
    return _floor_divide(g, a, b, c.options["dtype"])


def _tensor_remainder(g, c):
    a, b = _operands(g, c)
    return _remainder(g, a, b, c.options["dtype"])


def _bitwise(bool_form, integer_form):
    def translate(g, c):
        a, b = _operands(g, c)
        if c.options["dtype"] is dtypes.bool:
            return g.op(bool_form, a, b)
        if g.opset < 18:
            raise UnsupportedOperatorError(c.name, f"{integer_form} on integers needs "
                                                   f"opset_version >= 18")
        return g.op(integer_form, a, b)
    return translate


def _invert(g, c):
    if c.dtypes[0] is dtypes.bool:
        return g.op("Not", c.inputs[0])
    if g.opset < 18:
        raise UnsupportedOperatorError(c.name, "BitwiseNot on integers needs opset_version >= 18")
    return g.op("BitwiseNot", c.inputs[0])


_COMPARISONS = {M.C_EQ: "Equal", M.C_LT: "Less", M.C_LE: "LessOrEqual", M.C_GT: "Greater",
                M.C_GE: "GreaterOrEqual"}


def _comparison(g, code, a, b):
    if code == M.C_NE:
        return g.op("Not", g.op("Equal", a, b))
    if g.opset < 12 and code in (M.C_LE, M.C_GE):   # LessOrEqual, GreaterOrEqual: opset 12
        return g.op("Not", g.op("Greater" if code == M.C_LE else "Less", a, b))
    return g.op(_COMPARISONS[code], a, b)


def _compare(g, c):
    a, b = _operands(g, c)
    return _comparison(g, c.options["code"], a, b)


def _compare_scalar(g, c):
    dtype = c.options["dtype"]
    x = g.cast(c.inputs[0], c.dtypes[0], dtype)
    return _comparison(g, c.options["code"], x, _number(g, c.options["p"], dtype))


def _test(g, c):
    x, code = c.inputs[0], c.options["code"]
    if code == M.T_ISNAN:
        return g.op("IsNaN", x)
    if code == M.T_ISINF:
        return g.op("IsInf", x)
    return g.op("Not", g.op("Or", g.op("IsNaN", x), g.op("IsInf", x)))


def _where(g, c):
    dtype = c.options["dtype"]
    (cond, a, b), (_, da, db) = c.inputs, c.dtypes
    return g.op("Where", cond, g.cast(a, da, dtype), g.cast(b, db, dtype))


def _cast(g, c):
    return g.cast(c.inputs[0], c.dtypes[0], c.out_dtypes[0])


# ================================================================ reductions

def _reduction(op_type):
    def translate(g, c):
        dims = list(c.options["dims"])
        if not dims:   # nothing reduced (a 0-d input)
            return c.inputs[0]
        return g.reduce(op_type, c.inputs[0], dims, c.options["keepdim"])
    return translate


def _arg_extreme(op_type):
    def translate(g, c):
        dims, keepdim, rank = list(c.options["dims"]), c.options["keepdim"], len(c.shapes[0])
        x = c.inputs[0]
        first = {"select_last_index": 0} if g.opset >= 12 else {}   # the first extreme
        if len(dims) == 1 and rank > 0:
            return g.op(op_type, x, axis=dims[0], keepdims=int(keepdim), **first)
        # over every element: the index into the flattened tensor
        flat = g.op("Reshape", x, g.ints([-1]))
        index = g.op(op_type, flat, axis=0, keepdims=0, **first)
        return g.op("Reshape", index, g.ints([1] * rank)) if keepdim else index
    return translate


def _select_along(g, c):
    return c.inputs[1]   # max(dim)'s values, computed by their own call


def _nonzero_count(g, c):
    x = c.inputs[0]
    nonzero = g.op("Cast", g.op("Not", g.op("Equal", x, g.scalar(0.0, F32))),
                   to=g.tensor_type(dtypes.float32))
    dims = list(c.options["dims"])
    return g.reduce("ReduceSum", nonzero, dims, c.options["keepdim"]) if dims else nonzero


# ================================================================ shapes and views

def _reshape(g, c):
    target, source = list(c.options["shape"]), c.shapes[0]
    if not any(isinstance(n, Dim) for n in target):
        return g.op("Reshape", c.inputs[0], g.ints(target))
    spec, zero_sized = list(target), any(n == 0 for n in target if not isinstance(n, Dim))
    if not zero_sized:   # Reshape's 0 copies the input's size at that position
        for i, n in enumerate(target):
            if isinstance(n, Dim) and i < len(source) and source[i] == n:
                spec[i] = 0
        left = [i for i, n in enumerate(spec) if isinstance(n, Dim)]
        if len(left) == 1:
            spec[left[0]] = -1
        return g.op("Reshape", c.inputs[0], g.ints(spec))
    if g.opset < 14:
        raise UnsupportedOperatorError(c.name, "a reshape to zero-sized dims with dynamic "
                                               "axes needs opset_version >= 14 (allowzero)")
    return g.op("Reshape", c.inputs[0], g.ints(target), allowzero=1)


def _permute(g, c):
    dims = list(c.options["dims"])
    if dims == list(range(len(dims))):
        return c.inputs[0]
    return g.op("Transpose", c.inputs[0], perm=dims)


def _expand(g, c):
    target, source = list(c.options["shape"]), c.shapes[0]
    lead = len(target) - len(source)
    # 1 keeps the input's size (static or dynamic); only stretched dims need the target's
    spec = [1 if i >= lead and source[i - lead] == n else n for i, n in enumerate(target)]
    return g.op("Expand", c.inputs[0], g.ints(spec))


def _identity(g, c):
    return c.inputs[0]


def _view(g, c):
    """A view by a make_view function of ops/shape.py or ops/index.py, from its free
    variables: slices, single indices, new dims."""
    make_view = _static(c.options["make_view"])
    kind, free = make_view.qualname, make_view.nonlocals
    x, source = c.inputs[0], c.shapes[0]
    if kind == "slice_view.<locals>.make_view":
        dim = free["dim"]
        return g.slice(x, source, [dim], [free["start"]], [free["stop"]], [free["step"]])
    if kind == "select_view.<locals>.make_view":
        return g.op("Gather", x, g.scalar(free["index"], np.int64), axis=free["dim"])
    if kind == "basic_view.<locals>.make_view":
        return _basic_view(g, x, source, free["plan"])
    raise UnsupportedOperatorError(c.name, f"a view made by {kind}")


def _basic_view(g, x, source, plan):
    """x[ints, slices, None] (ops/index.py basic_view's plan: one entry per key item)."""
    axes, starts, ends, steps, dropped, added, position = [], [], [], [], [], [], 0
    for kind, dim, start, stop, step in plan:
        if kind == "new":
            added.append(position)
            position += 1
        elif kind == "slice":
            if not (start == 0 and stop == source[dim] and step == 1):
                axes.append(dim), starts.append(start), ends.append(stop), steps.append(step)
            position += 1
        else:   # an int: a slice of one, then squeezed
            axes.append(dim), starts.append(start), ends.append(start + 1), steps.append(1)
            dropped.append(dim)
    if axes:
        x = g.slice(x, source, axes, starts, ends, steps)
    if dropped:
        x = g.squeeze(x, dropped)
    if added:
        x = g.unsqueeze(x, added)
    return x


def _unfold(g, c):
    dim, size, step = c.options["dim"], c.options["size"], c.options["step"]
    rank = len(c.shapes[0])
    count = (c.shapes[0][dim] - size) // step + 1
    windows = (np.arange(count)[:, None] * step + np.arange(size)[None, :]).astype(np.int64)
    gathered = g.op("Gather", c.inputs[0], g.constant(windows), axis=dim)
    # (..., count, size, ...) with the window's elements last, as torch's unfold
    order = [d for d in range(rank + 1) if d != dim + 1] + [dim + 1]
    return g.op("Transpose", gathered, perm=order)


def _cat(g, c):
    pieces = _operands(g, c)
    if len(pieces) == 1:
        return pieces[0]
    return g.op("Concat", *pieces, axis=c.options["dim"])


def _gather(g, c):
    """Advanced indexing (ops/index.py Geometry): Gather for one indexed dim, GatherND of
    the indexed dims moved first for several, then NumPy's placement of the result."""
    geometry = _static(c.options["geometry"]).fields
    dims = list(geometry["dims"])
    arrays = [np.array(_host_array(a), dtype=np.int64, order="C") for a in geometry["arrays"]]
    v, rank = c.inputs[0], len(c.shapes[0])
    if len(dims) == 1:
        return g.op("Gather", v, g.constant(arrays[0]), axis=dims[0])
    rest = [d for d in range(rank) if d not in dims]
    if dims + rest != list(range(rank)):
        v = g.op("Transpose", v, perm=dims + rest)
    stacked = np.stack(arrays, axis=-1) if arrays[0].ndim else np.stack(arrays)
    batch_first = g.op("GatherND", v, g.constant(stacked))
    nb, lead = len(geometry["batch"]), geometry["lead"]
    order = list(range(nb, nb + lead)) + list(range(nb)) + list(range(nb + lead, nb + len(rest)))
    if order == list(range(len(order))):
        return batch_first
    return g.op("Transpose", batch_first, perm=order)


def _flip(g, c):
    """flip as Slice with step -1 along the flipped dims (its gather's ramps run down)."""
    geometry = _static(c.options["geometry"]).fields
    flipped = []
    for d, ramp in zip(geometry["dims"], geometry["arrays"]):
        # the ramps span the input, so their sizes follow its dynamic axes; which run down
        # does not change
        values = (ramp.traced if isinstance(ramp, Varying) else ramp).array
        along = values[tuple(slice(None) if k == d else 0 for k in range(values.ndim))]
        if along.size > 1 and along[0] > along[-1]:
            flipped.append(d)
    n = len(flipped)
    return g.op("Slice", c.inputs[0], g.ints([-1] * n), g.ints([np.iinfo(np.int64).min] * n),
                g.ints(flipped), g.ints([-1] * n))


# ================================================================ activations

def _integer_relu(g, c):
    return _extreme(g, "Max", c.inputs[0], _const(g, c, 0), c.out_dtypes[0])


def _silu(g, x, c):
    return g.op("Mul", x, g.op("Sigmoid", x))


def _leaky_relu(g, c):
    return g.op("LeakyRelu", c.inputs[0], alpha=float(_static(c.options["p"])))


def _elu(g, c):
    return g.op("Elu", c.inputs[0], alpha=float(_static(c.options["p"])))


# ================================================================ layers

def _conv2d(g, c):
    o = c.options
    top, bottom, left, right = o["padding"]
    kernel = list(c.shapes[1][2:])
    return g.op("Conv", *c.inputs, kernel_shape=kernel, strides=list(o["stride"]),
                pads=[top, left, bottom, right], dilations=list(o["dilation"]),
                group=o["groups"])


def _linear(g, c):
    return g.op("Gemm", *c.inputs, transB=1)


def _matmul(g, c):
    return g.op("MatMul", *c.inputs)


def _static_sizes(c):
    """(input H, W), (output H, W) when none follows a dynamic axis, else None."""
    sizes = tuple(c.shapes[0][2:]) + tuple(c.out_shapes[0][2:])
    return None if any(isinstance(n, (Dim, Varying)) for n in sizes) else sizes


def _end_pads(size, out, kernel, stride, padding):
    """The padding at the end of each spatial dim that makes a floor-mode window count equal
    `out` (torch's ceil_mode size, whose last window starts inside the input or the
    padding: ONNX's ceil_mode differs there for some sizes)."""
    return [max(0, (o - 1) * s + k - n - p) for n, o, k, s, p in
            zip(size, out, kernel, stride, padding)]


def _max_pool2d(g, c):
    kernel, stride, padding, ceil_mode = (list(c.options[k]) if k != "ceil_mode" else
                                          c.options[k] for k in
                                          ("kernel_size", "stride", "padding", "ceil_mode"))
    sizes = _static_sizes(c)
    if ceil_mode and sizes is not None:   # the padding maxima ignore: torch's window count
        ends = _end_pads(sizes[:2], sizes[2:], kernel, stride, padding)
        return g.op("MaxPool", c.inputs[0], kernel_shape=kernel, strides=stride,
                    pads=padding + ends)
    return g.op("MaxPool", c.inputs[0], kernel_shape=kernel, strides=stride,
                pads=padding * 2, ceil_mode=int(ceil_mode))


def _window_divisors(size, out, kernel, stride, padding, include_pad):
    """torch's avg_pool2d divisor of each output along one axis: the window clipped to the
    padded input (count_include_pad) or to the input."""
    divisors = []
    for i in range(out):
        start = i * stride - padding
        end = min(start + kernel, size + padding)
        divisors.append(end - start if include_pad else min(end, size) - max(start, 0))
    return np.array(divisors, dtype=np.float64)


def _avg_pool2d(g, c):
    o = c.options
    kernel, stride, padding = list(o["kernel_size"]), list(o["stride"]), list(o["padding"])
    x, sizes = c.inputs[0], _static_sizes(c)
    if o["divisor_override"] is None and (not o["ceil_mode"] or sizes is None):
        return g.op("AveragePool", x, kernel_shape=kernel, strides=stride, pads=padding * 2,
                    ceil_mode=int(o["ceil_mode"]),
                    count_include_pad=int(o["count_include_pad"]))
    # window sums / divisors: the sums are a depthwise convolution with ones over the
    # zero-padded input, padded at the end as far as the last window reaches; the divisors
    # are torch's for each output position (or divisor_override)
    if sizes is None:
        raise UnsupportedOperatorError(c.name, "divisor_override with a dynamic height or "
                                               "width")
    size, out = sizes[:2], sizes[2:]
    channels = c.shapes[0][1]
    ones = g.constant(np.ones((channels, 1, *kernel), F32))
    sums = g.op("Conv", x, ones, kernel_shape=kernel, strides=stride,
                pads=padding + _end_pads(size, out, kernel, stride, padding), group=channels)
    if o["divisor_override"] is not None:
        return g.op("Div", sums, g.scalar(float(o["divisor_override"]), F32))
    rows, cols = (_window_divisors(n, m, k, s, p, o["count_include_pad"])
                  for n, m, k, s, p in zip(size, out, kernel, stride, padding))
    return g.op("Div", sums, g.constant(np.outer(rows, cols).astype(F32)))


def _adaptive_pool(global_op, window_op, reduce_op):
    def translate(g, c):
        x, (height, width) = c.inputs[0], c.shapes[0][2:]
        out_h, out_w = c.out_shapes[0][2:]
        if (out_h, out_w) == (1, 1):
            return g.op(global_op, x)
        if height % out_h == 0 and width % out_w == 0:   # equal bins: one pooling window
            kernel = [height // out_h, width // out_w]
            return g.op(window_op, x, kernel_shape=kernel, strides=kernel)
        # along the height, then along the width (a mean of means of equal rows is the
        # mean): one window where the bins are equal, else one reduction per bin (torch's
        # floor / ceil bounds)
        for axis, size, out in ((2, height, out_h), (3, width, out_w)):
            if size == out:
                continue
            if size % out == 0:
                kernel = [size // out if axis == 2 else 1, size // out if axis == 3 else 1]
                x = g.op(window_op, x, kernel_shape=kernel, strides=kernel)
                continue
            bins = []
            for i in range(out):
                start, end = (i * size) // out, -((-(i + 1) * size) // out)
                piece = g.slice(x, (None,) * 4, [axis], [start], [end])
                bins.append(g.reduce(reduce_op, piece, [axis], True))
            x = bins[0] if len(bins) == 1 else g.op("Concat", *bins, axis=axis)
        return x
    return translate


def _batch_norm(g, c):
    o = c.options
    x, rank, channels = c.inputs[0], len(c.shapes[0]), c.shapes[0][1]
    affine = c.inputs[1:]
    weight = affine[0] if o["has_weight"] else g.constant(np.ones(channels, F32))
    bias = affine[-1] if o["has_bias"] else g.constant(np.zeros(channels, F32))
    eps = float(o["eps"])
    if not o["training"]:
        return g.op("BatchNormalization", x, weight, bias, c.array(o["running_mean"]),
                    c.array(o["running_var"]), epsilon=eps)
    # the batch's statistics (training, or no running statistics): mean and biased variance
    axes = [0] + list(range(2, rank))
    mean = g.reduce("ReduceMean", x, axes, True)
    centred = g.op("Sub", x, mean)
    var = g.reduce("ReduceMean", g.op("Mul", centred, centred), axes, True)
    y = g.op("Div", centred, g.op("Sqrt", g.op("Add", var, g.scalar(eps, F32))))
    per_channel = [0] + list(range(2, rank))
    y = g.op("Mul", y, g.unsqueeze(weight, per_channel))
    return g.op("Add", y, g.unsqueeze(bias, per_channel))


def _dropout(g, c):
    """Dropout in training mode (F.dropout(..., training=True) or TrainingMode.TRAINING):
    ONNX's random draws, so the masks differ from gpucnn's Philox ones."""
    p, mask_shape = float(c.options["p"]), list(c.options["mask_shape"])
    x, x_shape = c.inputs[0], c.shapes[0]
    if g.opset < 12:
        raise UnsupportedOperatorError(c.name, "dropout in training mode needs opset_version "
                                               ">= 12")
    if p >= 1.0:
        return g.op("Mul", x, g.scalar(0.0, F32))
    if mask_shape == list(x_shape):
        return g.op("Dropout", x, g.scalar(p, F32), g.scalar(True, np.bool_))
    # one draw per (sample, channel): a template of the mask's shape, then uniform numbers
    reduced = [d for d, n in enumerate(mask_shape) if n == 1 and x_shape[d] != 1]
    template = g.reduce("ReduceMax", x, reduced, True)
    keep = g.op("GreaterOrEqual", g.op("RandomUniformLike", template), g.scalar(p, F32))
    mask = g.op("Div", g.op("Cast", keep, to=g.tensor_type(dtypes.float32)),
                g.scalar(1.0 - p, F32))
    return g.op("Mul", x, mask)


# ================================================================ losses' own ops

def _cross_entropy(g, c):
    if g.opset < 12:
        raise UnsupportedOperatorError(c.name, "SoftmaxCrossEntropyLoss needs opset_version "
                                               ">= 12")
    return g.op("SoftmaxCrossEntropyLoss", *c.inputs, reduction="mean")


def _log_sigmoid(g, c):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)): finite for any logit."""
    x = c.inputs[0]
    softplus = g.op("Log", g.op("Add", g.op("Exp", g.op("Neg", g.op("Abs", x))),
                                g.scalar(1.0, F32)))
    return g.op("Sub", g.op("Min", x, g.scalar(0.0, F32)), softplus)


def _binary_cross_entropy(g, c):
    """(t - 1) max(log(1 - x), -100) - t max(log(x), -100)."""
    x, t = c.inputs
    floor = g.scalar(loss.LOG_FLOOR, F32)
    log_x = g.op("Max", g.op("Log", x), floor)
    log_1mx = g.op("Max", g.op("Log", g.op("Sub", g.scalar(1.0, F32), x)), floor)
    return g.op("Sub", g.op("Mul", g.op("Sub", t, g.scalar(1.0, F32)), log_1mx),
                g.op("Mul", t, log_x))


# ================================================================ in-place writes

def _assign(g, c):
    """The target's new value (Tensor._assign): cast to its dtype, broadcast to its shape."""
    value = g.cast(c.inputs[0], c.dtypes[0], c.out_dtypes[0])
    source, target = c.shapes[0], c.out_shapes[0]
    if list(source) == list(target):
        return value
    lead = len(target) - len(source)
    spec = [1 if i >= lead and source[i - lead] == n else n for i, n in enumerate(target)]
    return g.op("Expand", value, g.ints(spec))


# ================================================================ the table

def _scalar_ops():
    add = _scalar(lambda g, x, p, c: g.op("Add", x, p))
    return {
        arithmetic.AddScalar: add,
        arithmetic.MulScalar: _scalar(lambda g, x, p, c: g.op("Mul", x, p)),
        arithmetic.RSubScalar: _scalar(lambda g, x, p, c: g.op("Sub", p, x)),
        arithmetic.DivScalar: _scalar(lambda g, x, p, c: g.op("Div", x, p)),
        arithmetic.RDivScalar: _scalar(lambda g, x, p, c: g.op("Div", p, x)),
        arithmetic.PowScalar: _scalar(_pow_of(reflected=False)),
        arithmetic.RPowScalar: _scalar(_pow_of(reflected=True)),
        arithmetic.FloorDivideScalar: _scalar_floor_divide(False),
        arithmetic.RFloorDivideScalar: _scalar_floor_divide(True),
        arithmetic.RemainderScalar: _scalar_remainder(False),
        arithmetic.RRemainderScalar: _scalar_remainder(True),
        arithmetic.Clamp: _clamp,
    }


TRANSLATIONS = {
    # arithmetic.py: one tensor
    arithmetic.Neg: _unary("Neg"),
    arithmetic.Abs: _unary("Abs"),
    arithmetic.Square: _formula(lambda g, x, c: g.op("Mul", x, x)),
    arithmetic.Exp: _unary("Exp"),
    arithmetic.Log: _unary("Log"),
    arithmetic.Log2: _log_base(2.0),
    arithmetic.Log10: _log_base(10.0),
    arithmetic.Log1p: _formula(lambda g, x, c: g.op("Log", g.op("Add", x, _const(g, c, 1.0)))),
    arithmetic.Expm1: _formula(lambda g, x, c: g.op("Sub", g.op("Exp", x), _const(g, c, 1.0))),
    arithmetic.Sqrt: _unary("Sqrt"),
    arithmetic.Rsqrt: _formula(lambda g, x, c: g.op("Reciprocal", g.op("Sqrt", x))),
    arithmetic.Reciprocal: _unary("Reciprocal"),
    arithmetic.Erf: _unary("Erf"),
    arithmetic.Sign: _unary("Sign"),
    arithmetic.Floor: _unary("Floor", integer_identity=True),
    arithmetic.Ceil: _unary("Ceil", integer_identity=True),
    arithmetic.Round: _unary("Round", integer_identity=True),
    arithmetic.Trunc: _trunc,
    arithmetic.Cast: _cast,
    # arithmetic.py: a tensor and a number
    **_scalar_ops(),
    # arithmetic.py: two tensors
    arithmetic.Add: _broadcast("Add"),
    arithmetic.Sub: _broadcast("Sub"),
    arithmetic.Mul: _broadcast("Mul"),
    arithmetic.Div: _broadcast("Div"),
    arithmetic.Pow: _broadcast("Pow"),
    arithmetic.Maximum: _broadcast("Max"),
    arithmetic.Minimum: _broadcast("Min"),
    arithmetic.FloorDivide: _tensor_floor_divide,
    arithmetic.Remainder: _tensor_remainder,
    # compare.py
    compare.Compare: _compare,
    compare.CompareScalar: _compare_scalar,
    compare.Test: _test,
    compare.BitwiseAnd: _bitwise("And", "BitwiseAnd"),
    compare.BitwiseOr: _bitwise("Or", "BitwiseOr"),
    compare.BitwiseXor: _bitwise("Xor", "BitwiseXor"),
    compare.Invert: _invert,
    compare.Where: _where,
    # reduce.py
    reduce.Sum: _reduction("ReduceSum"),
    reduce.Max: _reduction("ReduceMax"),
    reduce.Min: _reduction("ReduceMin"),
    reduce.ArgMax: _arg_extreme("ArgMax"),
    reduce.ArgMin: _arg_extreme("ArgMin"),
    reduce.SelectAlong: _select_along,
    # shape.py, index.py, reorder.py
    shape.View: _view,
    shape.Permute: _permute,
    shape.Reshape: _reshape,
    shape.Expand: _expand,
    shape.Copy: _identity,
    shape.ToDevice: _identity,
    shape.Unfold: _unfold,
    shape.Cat: _cat,
    index.Gather: _gather,
    reorder.Flip: _flip,
    # activation.py
    activation.ReLU: _unary("Relu"),
    activation.IntegerReLU: _integer_relu,
    activation.Sigmoid: _unary("Sigmoid"),
    activation.Tanh: _unary("Tanh"),
    activation.LeakyReLU: _leaky_relu,
    activation.ELU: _elu,
    activation.GELU: _gelu("none"),
    activation.GELUTanh: _gelu("tanh"),
    activation.SiLU: _formula(_silu),
    # dropout.py, norm.py, conv.py, pool.py, linear.py
    dropout.Dropout: _dropout,
    norm.BatchNorm: _batch_norm,
    conv.Conv2d: _conv2d,
    pool.MaxPool2d: _max_pool2d,
    pool.AvgPool2d: _avg_pool2d,
    pool.AdaptiveAvgPool2d: _adaptive_pool("GlobalAveragePool", "AveragePool", "ReduceMean"),
    pool.AdaptiveMaxPool2d: _adaptive_pool("GlobalMaxPool", "MaxPool", "ReduceMax"),
    linear.Linear: _linear,
    linear.MatMul: _matmul,
    # loss.py
    loss.CrossEntropy: _cross_entropy,
    loss.BinaryCrossEntropy: _binary_cross_entropy,
    loss.LogSigmoid: _log_sigmoid,
    # in-place writes (gpucnn/onnx/tracer.py)
    Assign: _assign,
}


def _linalg_translations():
    from .. import linalg
    return {linalg.NonzeroCount: _nonzero_count}


TRANSLATIONS.update(_linalg_translations())


# ================================================================ composite functions

def _argument(c, value):
    """A composite's argument: its ONNX name where it is a tensor, else the value."""
    return c.inputs[value.index] if isinstance(value, TensorArg) else value


def _mean(g, c):
    o = c.options
    rank = len(c.shapes[o["x"].index])
    dim = o["dim"]
    dims = range(rank) if dim is None else (dim if isinstance(dim, (tuple, list)) else [dim])
    dims = sorted({int(d) % max(rank, 1) for d in dims}) if rank else []
    x = _argument(c, o["x"])
    if not dims:
        return x
    return g.reduce("ReduceMean", x, dims, o["keepdim"])


def _softmax(op_type):
    def translate(g, c):
        o = c.options
        x = g.cast(_argument(c, o["x"]), c.dtypes[0], c.out_dtypes[0])
        rank, dim = len(c.shapes[0]), int(o["dim"])
        if g.opset >= 13 or rank == 0 or dim % rank == rank - 1:
            return g.op(op_type, x, axis=dim)
        # before opset 13 Softmax runs over every dim from `axis` on: move dim last
        order = list(range(rank))
        order[dim % rank], order[-1] = order[-1], order[dim % rank]
        moved = g.op(op_type, g.op("Transpose", x, perm=order), axis=-1)
        return g.op("Transpose", moved, perm=order)
    return translate


def _matmul_composite(g, c):
    return g.op("MatMul", _argument(c, c.options["a"]), _argument(c, c.options["b"]))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def _pad(g, c):
    o = c.options
    x, shape = _argument(c, o["input"]), c.shapes[o["input"].index]
    mode, value, pads = o["mode"], o["value"], list(o["pad"])
    if mode == "circular" and g.opset < 19:
        return NotImplemented   # the recorded cat of slices
    rank = len(shape)
    begins, ends = [0] * rank, [0] * rank
    for i in range(len(pads) // 2):
        begins[rank - 1 - i], ends[rank - 1 - i] = pads[2 * i], pads[2 * i + 1]
    crops = [(d, -min(b, 0), -min(e, 0)) for d, (b, e) in enumerate(zip(begins, ends))
             if b < 0 or e < 0]
    if crops:   # negative pads crop first, in every mode, as torch
        axes = [d for d, _, _ in crops]
        starts = [b for _, b, _ in crops]
        stops = [shape[d] - e if e else shape[d] for d, _, e in crops]
        x = g.slice(x, shape, axes, starts, stops)
    begins, ends = [max(b, 0) for b in begins], [max(e, 0) for e in ends]
    if not any(begins) and not any(ends):
        return x
    inputs = [x, g.ints(begins + ends)]
    if mode == "constant":
        inputs.append(g.scalar(0 if value is None else value, c.dtypes[0].numpy))
    return g.op("Pad", *inputs, mode=_PAD_MODES[mode])


COMPOSITES = {
    reduce.mean: _mean,
    activation.softmax: _softmax("Softmax"),
    activation.log_softmax: _softmax("LogSoftmax"),
    linear.matmul: _matmul_composite,
    padding_functional.pad: _pad,
}


def translation_of(op):
    """The translation of a recorded op, or None."""
    if op in COMPOSITES:
        return COMPOSITES[op]
    return TRANSLATIONS.get(op)


def is_composite(op) -> bool:
    return not isinstance(op, type) and op is not Assign

