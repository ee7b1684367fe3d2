"""Elementwise arithmetic and math, with gradients, broadcasting by PyTorch's rules.

Tensor's operators choose the form: `a + b` with b a Tensor is `add(a, b)`, with b a number
`add_scalar(a, b)`. The result's dtype is PyTorch's promotion of the operands
(gpucnn.dtypes.result_type): int64 + float32 or int64 + 2.5 give float32, int / int gives
float32. Everything runs through kernels/elementwise.py's families (formulas in map_ops.py),
reading broadcast and strided inputs in place; int32 computes in int64 and is cast back.

Each op is a Function with its gradient beside it; the gradient of a broadcast input is
summed back to its shape (_arrays.sum_to).
"""
import math

import numpy as np

from .. import dtypes, random
from ..autograd import Function
from ..errors import InputError
from ..kernels import map_ops as M
from . import _arrays as A


def _compute_dtype(dtype: dtypes.dtype) -> np.dtype:
    """The dtype a kernel computes `dtype` in: int32 as int64, the rest as themselves."""
    return np.dtype(np.int64) if dtype is dtypes.int32 else dtype.numpy


class Elementwise(Function):
    """y = f(x; p, q) for one tensor x and the op's scalars p, q (map_ops.U_* `code`).

    float_result: integer inputs become float32 first (exp, log, sigmoid ... as PyTorch).
    Subclasses that need x or y in backward say so with `saves = (0,)` / `saves_output`.
    One whose derivative is a single map_ops.B_*_GRAD kernel names it as `grad_code` instead
    of writing backward (see backward below)."""
    float_inputs = False
    strided_inputs = True
    saves = ()
    code = None
    grad_code = None
    float_result = False

    def forward(self, x, p=0, q=0, dtype=None):
        if dtype is None:
            dtype = dtypes.of_array(x)
            if self.float_result and not dtype.is_floating_point:
                dtype = dtypes.float32
        self.p, self.q = p, q
        x = A.cast(self.kernels, x, _compute_dtype(dtype))
        y = A.unary(self.kernels, self.code, x, p, q)
        self.x = x if self.saves else None
        self.y = y if self.saves_output else None
        return A.cast(self.kernels, y, dtype.numpy)

    def backward(self, g):
        """grad_code(g, y or x; p, q): the kernel reads the saved output when the op saves it
        (sigmoid, sqrt ...), else the saved input (relu, clamp ...); ops without p or q pass 0."""
        if self.grad_code is None:
            return super().backward(g)
        return self.bin(self.grad_code, g, self.y if self.saves_output else self.x,
                        self.p, self.q)

    def adopt_output(self, array):
        if self.y is not None:   # backward reads y from the tensor an in-place op wrote
            self.y = array

    def un(self, code, x, p=0, q=0):
        return A.unary(self.kernels, code, x, p, q)

    def bin(self, code, a, b, p=0, q=0):
        return A.binary(self.kernels, code, a, b, p, q)

    def zeros_like_input(self):
        return A.full(self.kernels, self.inputs[0].shape, 0.0)


class OutputGradient(Elementwise):
    """A floating-point function whose derivative is written with its output y (exp, sqrt,
    sigmoid ...): integer inputs become float32 first, and y is saved for backward."""
    float_result, saves_output = True, True


def _no_derivative(message):
    """backward (or Broadcast's grads) for an op PyTorch gives no derivative: it raises."""
    def raises(self, g):
        raise RuntimeError(message)
    return raises


_FLOOR_DIVIDE_NO_DERIVATIVE = ("the derivative for 'floor_divide' is not implemented (as in "
                               "PyTorch); detach() the operands")


class Broadcast(Function):
    """a OP b for two tensors of broadcastable shapes (map_ops.B_* `code`), computed in the
    dtype the caller promoted to. backward returns full-shape gradients from `grads`, summed
    here to each input's shape."""
    float_inputs = False
    strided_inputs = True
    code = None

    def forward(self, a, b, dtype):
        self.shapes = (a.shape, b.shape)
        A.broadcast_shapes(self.name, a.shape, b.shape)   # the error names this op
        compute = _compute_dtype(dtype)
        a, b = A.cast(self.kernels, a, compute), A.cast(self.kernels, b, compute)
        self.a, self.b = (a, b) if self.saves else (None, None)
        out = A.binary(self.kernels, self.code, a, b)
        return A.cast(self.kernels, out, dtype.numpy)

    def backward(self, g):
        ga, gb = self.grads(g)
        return (A.sum_to(self.kernels, ga, self.shapes[0]) if ga is not None else None,
                A.sum_to(self.kernels, gb, self.shapes[1]) if gb is not None else None)

    def grads(self, g):
        raise NotImplementedError

    un, bin = Elementwise.un, Elementwise.bin

    def where(self, cond, a, b):
        return A.where(self.kernels, cond, a, b)

    def compare(self, code, a, b):
        return A.compare(self.kernels, code, a, b)

    def zero(self, ndim):
        """A zero broadcastable to any shape of `ndim` dims."""
        return A.full(self.kernels, (1,) * ndim, 0.0)


# ================================================================ tensor OP tensor

class Add(Broadcast):
    name, code, saves = "add", M.B_ADD, ()

    def grads(self, g):
        return g, g


class Sub(Broadcast):
    name, code, saves = "sub", M.B_SUB, ()

    def grads(self, g):
        return g, self.un(M.U_NEG, g) if self.needs_grad[1] else None


class Mul(Broadcast):
    name, code = "mul", M.B_MUL

    def saved_inputs(self):   # each operand only for the other's gradient, as PyTorch
        return [i for i, other in ((0, 1), (1, 0)) if self.needs_grad[other]]

    def grads(self, g):
        return (self.bin(M.B_MUL, g, self.b) if self.needs_grad[0] else None,
                self.bin(M.B_MUL, g, self.a) if self.needs_grad[1] else None)


class Div(Broadcast):
    name, code = "div", M.B_DIV

    def saved_inputs(self):   # a only for b's gradient, as PyTorch
        return [0, 1] if self.needs_grad[1] else [1]

    def grads(self, g):
        ga = self.bin(M.B_DIV, g, self.b)                       # g / b
        gb = None
        if self.needs_grad[1]:                                  # -g a / b^2 = -(g / b) (a / b)
            gb = self.un(M.U_NEG, self.bin(M.B_MUL, ga, self.bin(M.B_DIV, self.a, self.b)))
        return (ga if self.needs_grad[0] else None), gb


class Pow(Broadcast):
    name, code = "pow", M.B_POW

    def grads(self, g):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_grad[0]:                                  # g b a^(b-1)
            ga = self.bin(M.B_MUL, g, self.bin(M.B_MUL, b,
                                               self.bin(M.B_POW, a, self.un(M.U_ADD, b, -1.0))))
        if self.needs_grad[1]:                                  # g a^b log(a), 0 where a = 0, b >= 0
            out = self.bin(M.B_POW, a, b)
            raw = self.bin(M.B_MUL, g, self.bin(M.B_MUL, out, self.un(M.U_LOG, a)))
            at_zero = self.compare(M.C_EQ, a, self.zero(len(a.shape)))
            nonneg = self.compare(M.C_GE, b, self.zero(len(b.shape)))
            mask = A.binary(self.kernels, M.B_AND, at_zero, nonneg)
            gb = self.where(mask, self.zero(len(raw.shape)), raw)
        return ga, gb


class _Extreme(Broadcast):
    """maximum / minimum: the gradient goes to the larger (smaller) input, half to each on a
    tie, as PyTorch."""
    winner = None

    def grads(self, g):
        half = self.un(M.U_MUL, g, 0.5)
        zero = self.zero(len(g.shape))
        tie = self.compare(M.C_EQ, self.a, self.b)
        a_wins = self.compare(self.winner, self.a, self.b)
        b_wins = self.compare(self.winner, self.b, self.a)
        share_a = self.where(a_wins, g, self.where(tie, half, zero))
        share_b = self.where(b_wins, g, self.where(tie, half, zero))
        return share_a, share_b


class Maximum(_Extreme):
    name, code, winner = "maximum", M.B_MAXIMUM, M.C_GT


class Minimum(_Extreme):
    name, code, winner = "minimum", M.B_MINIMUM, M.C_LT


class FloorDivide(Broadcast):
    name, code, saves = "floor_divide", M.B_FLOORDIV, ()
    grads = _no_derivative(_FLOOR_DIVIDE_NO_DERIVATIVE)


class Remainder(Broadcast):
    name, code = "remainder", M.B_REMAINDER

    def grads(self, g):                                         # d(a - floor(a/b) b)
        gb = None
        if self.needs_grad[1]:
            gb = self.un(M.U_NEG, self.bin(M.B_MUL, g, self.bin(M.B_FLOORDIV, self.a, self.b)))
        return g, gb


def _checked(name, a, b, dtype):
    if a.dtype is dtypes.bool and b.dtype is dtypes.bool and name == "sub":
        raise TypeError("sub: subtraction, the `-` operator, with two bool tensors is not "
                        "supported; to invert a mask use the `~` or `logical_not()` operator")
    return dtype


def add(a, b):
    return Add.apply(a, b, dtype=dtypes.result_type(a, b))


def sub(a, b):
    return Sub.apply(a, b, dtype=_checked("sub", a, b, dtypes.result_type(a, b)))


def mul(a, b):
    return Mul.apply(a, b, dtype=dtypes.result_type(a, b))


def div(a, b):
    dtype = dtypes.result_type(a, b)
    return Div.apply(a, b, dtype=dtype if dtype.is_floating_point else dtypes.float32)


def pow(a, b):  # noqa: A001  (PyTorch's name)
    return Pow.apply(a, b, dtype=dtypes.result_type(a, b))


def maximum(a, b):
    return Maximum.apply(a, b, dtype=dtypes.result_type(a, b))


def minimum(a, b):
    return Minimum.apply(a, b, dtype=dtypes.result_type(a, b))


def floor_divide(a, b):
    return FloorDivide.apply(a, b, dtype=_integer_or_float("floor_divide", a, b))


def remainder(a, b):
    return Remainder.apply(a, b, dtype=_integer_or_float("remainder", a, b))


def _integer_or_float(name, *operands):
    dtype = dtypes.result_type(*operands)
    if dtype is dtypes.bool:
        raise TypeError(f"{name}: not supported for bool tensors")
    return dtype


def trunc_divide(a, b):
    """Integer division rounding toward zero (div(rounding_mode='trunc') of integers): the
    floor quotient, plus one where the division was inexact and the signs differ."""
    quotient, rest = a.floor_divide(b), a.remainder(b)
    inexact_negative = (rest != 0) & ((a < 0) ^ (b < 0))
    return quotient + inexact_negative.long()


# ================================================================ tensor OP number

class ScalarOp(Elementwise):
    """x OP p for a Python number p (map_ops.U_* `code`), in the promoted dtype."""


class UnitSlopeScalarOp(ScalarOp):
    """x + p and x mod p: the derivative in x is 1 (almost everywhere), so g passes through."""

    def backward(self, g):
        return g


class AddScalar(UnitSlopeScalarOp):
    name, code = "add", M.U_ADD


class MulScalar(ScalarOp):
    name, code = "mul", M.U_MUL

    def backward(self, g):
        return self.un(M.U_MUL, g, self.p)


class RSubScalar(ScalarOp):
    name, code = "sub", M.U_RSUB

    def backward(self, g):
        return self.un(M.U_NEG, g)


class DivScalar(ScalarOp):
    name, code = "div", M.U_DIV

    def backward(self, g):
        return self.un(M.U_DIV, g, self.p)


class RDivScalar(ScalarOp):
    name, code, saves = "div", M.U_RDIV, (0,)

    def backward(self, g):                                      # -p g / x^2
        return self.un(M.U_MUL, self.bin(M.B_DIV, g, self.un(M.U_SQUARE, self.x)), -self.p)


class PowScalar(ScalarOp):
    name, code, saves = "pow", M.U_POW, (0,)

    def backward(self, g):                                      # p g x^(p-1); 0 for p = 0
        if self.p == 0:
            return self.zeros_like_input()
        return self.un(M.U_MUL, self.bin(M.B_MUL, g, self.un(M.U_POW, self.x, self.p - 1)),
                       self.p)


class RPowScalar(ScalarOp):
    name, code, saves_output = "pow", M.U_RPOW, True

    def backward(self, g):                                      # g p^x log p
        if self.p == 0:
            return self.zeros_like_input()
        return self.un(M.U_MUL, self.bin(M.B_MUL, g, self.y), math.log(self.p))


class FloorDivideScalar(ScalarOp):
    name, code = "floor_divide", M.U_FLOORDIV
    backward = _no_derivative(_FLOOR_DIVIDE_NO_DERIVATIVE)


class RFloorDivideScalar(FloorDivideScalar):
    code = M.U_RFLOORDIV


class RemainderScalar(UnitSlopeScalarOp):
    name, code = "remainder", M.U_REMAINDER


class RRemainderScalar(ScalarOp):
    name, code = "remainder", M.U_RREMAINDER
    backward = _no_derivative("the derivative of remainder(number, tensor) is not "
                              "implemented; detach() the tensor")


class Clamp(ScalarOp):
    name, code, saves = "clamp", M.U_CLAMP, (0,)
    grad_code = M.B_CLAMP_GRAD


def _scalar_op(cls, x, p, q=0, dtype=None):
    dtype = dtype or dtypes.result_type(x, p)
    return cls.apply(x, p=p, q=q, dtype=dtype)


def add_scalar(x, p):
    return _scalar_op(AddScalar, x, p)


def sub_scalar(x, p):
    if x.dtype is dtypes.bool and isinstance(p, bool):
        raise TypeError("sub: subtraction with bool operands is not supported")
    return _scalar_op(AddScalar, x, -p)


def rsub_scalar(x, p):
    return _scalar_op(RSubScalar, x, p)


def mul_scalar(x, p):
    return _scalar_op(MulScalar, x, p)


def _float_dtype(x, p):
    dtype = dtypes.result_type(x, p)
    return dtype if dtype.is_floating_point else dtypes.float32


def div_scalar(x, p):
    return _scalar_op(DivScalar, x, p, dtype=_float_dtype(x, p))


def rdiv_scalar(x, p):
    return _scalar_op(RDivScalar, x, p, dtype=_float_dtype(x, p))


def pow_scalar(x, p):
    dtype = dtypes.result_type(x, p)
    if not dtype.is_floating_point and p < 0:
        raise InputError("pow: integers to negative integer powers are not allowed")
    if p == 1:
        return x.clone()
    if p == 2 and dtype.is_floating_point:
        return square(x)
    if p == 0.5 and dtype.is_floating_point:
        return sqrt(x)
    return _scalar_op(PowScalar, x, p, dtype=dtype)


def rpow_scalar(x, p):
    return _scalar_op(RPowScalar, x, p)


def floor_divide_scalar(x, p):
    return _scalar_op(FloorDivideScalar, x, p, dtype=_integer_or_float("floor_divide", x, p))


def rfloor_divide_scalar(x, p):
    return _scalar_op(RFloorDivideScalar, x, p,
                      dtype=_integer_or_float("floor_divide", x, p))


def remainder_scalar(x, p):
    return _scalar_op(RemainderScalar, x, p, dtype=_integer_or_float("remainder", x, p))


def rremainder_scalar(x, p):
    return _scalar_op(RRemainderScalar, x, p, dtype=_integer_or_float("remainder", x, p))


def clamp(x, low=None, high=None):
    """Both bounds Python numbers (or None); tensor bounds go through maximum/minimum."""
    dtype = dtypes.result_type(x, *(b for b in (low, high) if b is not None))
    if dtype is dtypes.bool:
        raise TypeError("clamp: not supported for bool tensors")
    big = math.inf if dtype.is_floating_point else np.iinfo(np.int64).max
    low = -big if low is None else low
    high = big if high is None else high
    return Clamp.apply(x, p=low, q=high, dtype=dtype)


# ================================================================ math on one tensor

class Neg(Elementwise):
    name, code = "neg", M.U_NEG

    def backward(self, g):
        return self.un(M.U_NEG, g)


class Abs(Elementwise):
    name, code, saves = "abs", M.U_ABS, (0,)

    def backward(self, g):
        return self.bin(M.B_MUL, g, self.un(M.U_SIGN, self.x))


class Square(Elementwise):
    name, code, saves = "square", M.U_SQUARE, (0,)

    def backward(self, g):
        return self.un(M.U_MUL, self.bin(M.B_MUL, g, self.x), 2.0)


class Exp(OutputGradient):
    name, code = "exp", M.U_EXP

    def backward(self, g):
        return self.bin(M.B_MUL, g, self.y)


class Log(Elementwise):
    name, code, float_result, saves = "log", M.U_LOG, True, (0,)

    def backward(self, g):
        return self.bin(M.B_DIV, g, self.x)


class Log2(Log):
    name, code = "log2", M.U_LOG2

    def backward(self, g):
        return self.un(M.U_MUL, super().backward(g), 1.0 / math.log(2.0))


class Log10(Log):
    name, code = "log10", M.U_LOG10

    def backward(self, g):
        return self.un(M.U_MUL, super().backward(g), 1.0 / math.log(10.0))


class Log1p(Elementwise):
    name, code, float_result, saves = "log1p", M.U_LOG1P, True, (0,)

    def backward(self, g):
        return self.bin(M.B_DIV, g, self.un(M.U_ADD, self.x, 1.0))


class Expm1(OutputGradient):
    name, code = "expm1", M.U_EXPM1

    def backward(self, g):
        return self.bin(M.B_MUL, g, self.un(M.U_ADD, self.y, 1.0))


class Sqrt(OutputGradient):
    name, code, grad_code = "sqrt", M.U_SQRT, M.B_SQRT_GRAD


class Rsqrt(OutputGradient):
    name, code, grad_code = "rsqrt", M.U_RSQRT, M.B_RSQRT_GRAD


class Reciprocal(OutputGradient):
    name, code = "reciprocal", M.U_RECIPROCAL

    def backward(self, g):                                      # -g y^2
        return self.un(M.U_NEG, self.bin(M.B_MUL, g, self.un(M.U_SQUARE, self.y)))


class Erf(Elementwise):
    name, code, float_result, saves = "erf", M.U_ERF, True, (0,)

    def backward(self, g):                                      # g 2/sqrt(pi) exp(-x^2)
        bell = self.un(M.U_EXP, self.un(M.U_NEG, self.un(M.U_SQUARE, self.x)))
        return self.un(M.U_MUL, self.bin(M.B_MUL, g, bell), 2.0 / math.sqrt(math.pi))


class _Step(Elementwise):
    """Piecewise-constant ops: zero gradient, as PyTorch."""

    def backward(self, g):
        return self.zeros_like_input()


class Sign(_Step):
    name, code = "sign", M.U_SIGN


class Floor(_Step):
    name, code = "floor", M.U_FLOOR


class Ceil(_Step):
    name, code = "ceil", M.U_CEIL


class Round(_Step):
    name, code = "round", M.U_ROUND


class Trunc(_Step):
    name, code = "trunc", M.U_TRUNC


def _no_bool(name, x):
    if x.dtype is dtypes.bool:
        raise TypeError(f"{name}: not supported for bool tensors" + (
            " (invert a mask with `~` or logical_not())" if name == "neg" else ""))
    return x


def neg(x):
    return Neg.apply(_no_bool("neg", x))


def abs(x):  # noqa: A001
    return Abs.apply(_no_bool("abs", x))


def square(x):
    return Square.apply(x if x.dtype is not dtypes.bool else x.long())


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def log2(x):
    return Log2.apply(x)


def log10(x):
    return Log10.apply(x)


def log1p(x):
    return Log1p.apply(x)


def expm1(x):
    return Expm1.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def rsqrt(x):
    return Rsqrt.apply(x)


def reciprocal(x):
    return Reciprocal.apply(x)


def erf(x):
    return Erf.apply(x)


def sign(x):
    return Sign.apply(_no_bool("sign", x))


def floor(x):
    return Floor.apply(x)


def ceil(x):
    return Ceil.apply(x)


def round(x):  # noqa: A001
    return Round.apply(x)


def trunc(x):
    return Trunc.apply(x)


# ================================================================ conversions and fills

class Cast(Function):
    """x converted to another dtype; the gradient passes back for float to float."""
    name, float_inputs, strided_inputs, saves = "to", False, True, ()

    def forward(self, x, dtype):
        return A.cast(self.kernels, x, dtype.numpy)

    def backward(self, g):
        return g


def cast(x, dtype):
    return Cast.apply(x, dtype=dtype)


def fill(x, value):
    """Every element of x (any layout) set to value, converted to x's dtype."""
    kernels = x._kernels
    if x.dtype is dtypes.int32:
        wide = A.empty(kernels, x.shape, np.int64)
        kernels.unary(M.U_FILL, wide, wide, int(value))
        kernels.cast(wide, x._array)
        return x
    value = bool(value) if x.dtype is dtypes.bool else value
    kernels.unary(M.U_FILL, x._array, x._array, value)
    return x


def random_fill(x, kind, a, b):
    """x filled from the Philox generator (gpucnn.random): uniform [a, b) or normal(a, b)."""
    if x.dtype is not dtypes.float32:
        raise TypeError(f"{kind}_: only float32 tensors can be filled with random numbers, got "
                        f"{x.dtype.name}")
    seed, offset = random.philox_counters(x.numel())
    kernels = x._kernels
    draw = kernels.uniform if kind == "uniform" else kernels.normal
    if A.is_contiguous(x._array):
        draw(x._array, seed, offset, a, b)
    else:
        values = draw(A.empty(kernels, x.shape), seed, offset, a, b)
        kernels.cast(values, x._array)
    return x
