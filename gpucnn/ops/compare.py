"""Comparisons, logic and selection: results without gradients, except `where`'s.

    compare(op, a, b)          a == b, a < b, ... elementwise, broadcast, as bool tensors
    compare_scalar(op, x, p)   x == p, ... against a Python number
    test(name, x)              isnan, isinf, isfinite
    logical(op, a, b)          & | ^ of bool (logical) or integer (bitwise) tensors
    invert(x), logical_not(x)  ~x
    where(cond, a, b)          a where cond, else b (gradients to a and b)

Operands are promoted to one dtype first (int64 == float32 compares as float32), as PyTorch.
"""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..kernels import map_ops as M
from . import _arrays as A
from .arithmetic import Broadcast, _compute_dtype

CODES = {"eq": M.C_EQ, "ne": M.C_NE, "lt": M.C_LT, "le": M.C_LE, "gt": M.C_GT, "ge": M.C_GE}
TESTS = {"isnan": M.T_ISNAN, "isinf": M.T_ISINF, "isfinite": M.T_ISFINITE}


class Compare(Function):
    """a OP b -> bool, broadcast; no gradient."""
    name, float_inputs, strided_inputs, saves = "compare", False, True, ()

    def forward(self, a, b, code, dtype):
        compute = _compute_dtype(dtype)
        a, b = A.cast(self.kernels, a, compute), A.cast(self.kernels, b, compute)
        shape = A.broadcast_shapes(self.name, a.shape, b.shape)
        out = A.empty(self.kernels, shape, np.bool_)
        return self.kernels.compare(code, A.expand(a, shape), A.expand(b, shape), out)


class CompareScalar(Function):
    name, float_inputs, strided_inputs, saves = "compare", False, True, ()

    def forward(self, x, code, p, dtype):
        x = A.cast(self.kernels, x, _compute_dtype(dtype))
        return self.kernels.compare_scalar(code, x, p, A.empty(self.kernels, x.shape, np.bool_))


def compare(op, a, b):
    return Compare.apply(a, b, code=CODES[op], dtype=dtypes.result_type(a, b))


def compare_scalar(op, x, p):
    dtype = dtypes.result_type(x, p)
    if not dtype.is_floating_point:
        bounds = np.iinfo(np.int64)
        if not bounds.min <= p <= bounds.max:   # beyond every int64: decided without a kernel
            always = {"ne": True, "lt": p > 0, "le": p > 0, "gt": p < 0, "ge": p < 0}.get(op, False)
            return fill_bool(x, always)
    return CompareScalar.apply(x, code=CODES[op], p=p, dtype=dtype)


def fill_bool(x, value):
    return x._like(A.full(x._kernels, x.shape, bool(value), np.bool_))


class Test(Function):
    name, float_inputs, strided_inputs, saves = "isnan", False, True, ()

    def forward(self, x, code):
        return self.kernels.test(code, x, A.empty(self.kernels, x.shape, np.bool_))


def test(name, x):
    if x.dtype is not dtypes.float32:   # integers are never NaN or infinite
        return fill_bool(x, name == "isfinite")
    return Test.apply(x, code=TESTS[name])


class BitwiseAnd(Broadcast):
    """Logical for bool tensors, bitwise for integers; no gradient."""
    name, code, saves = "bitwise_and", M.B_AND, ()


class BitwiseOr(BitwiseAnd):
    name, code = "bitwise_or", M.B_OR


class BitwiseXor(BitwiseAnd):
    name, code = "bitwise_xor", M.B_XOR


LOGIC = {"and": BitwiseAnd, "or": BitwiseOr, "xor": BitwiseXor}


def logical(op, a, b):
    dtype = dtypes.result_type(a, b)
    if dtype.is_floating_point:
        raise TypeError(f"bitwise_{op}: not supported for float tensors ({a.dtype.name}, "
                        f"{b.dtype.name}); compare first (x > 0) or use logical_{op}")
    return LOGIC[op].apply(a, b, dtype=dtype)


class Invert(Function):
    name, float_inputs, strided_inputs, saves = "bitwise_not", False, True, ()

    def forward(self, x):
        code = M.U_LOGICAL_NOT if np.dtype(x.dtype) == np.bool_ else M.U_BITNOT
        wide = A.cast(self.kernels, x, _compute_dtype(dtypes.of_array(x)))
        return A.cast(self.kernels, A.unary(self.kernels, code, wide), x.dtype)


def invert(x):
    if x.dtype.is_floating_point:
        raise TypeError("bitwise_not: not supported for float tensors; use logical_not() or "
                        "`x == 0`")
    return Invert.apply(x)


def logical_not(x):
    return invert(x) if x.dtype is dtypes.bool else compare_scalar("eq", x, 0)


class Where(Function):
    """a where cond else b, all three broadcast; gradients to a and b through the mask."""
    name, float_inputs, strided_inputs, saves = "where", False, True, (0,)

    def forward(self, cond, a, b, dtype):
        compute = _compute_dtype(dtype)
        a, b = A.cast(self.kernels, a, compute), A.cast(self.kernels, b, compute)
        self.cond, self.shapes = cond, (a.shape, b.shape)
        shape = A.broadcast_shapes(self.name, cond.shape, a.shape, b.shape)
        out = A.empty(self.kernels, shape, compute)
        self.kernels.where(A.expand(cond, shape), A.expand(a, shape), A.expand(b, shape), out)
        return A.cast(self.kernels, out, dtype.numpy)

    def backward(self, g):
        zero = A.full(self.kernels, (1,) * len(g.shape), 0.0)
        ga = gb = None
        if self.needs_grad[1]:
            ga = A.sum_to(self.kernels, A.where(self.kernels, self.cond, g, zero), self.shapes[0])
        if self.needs_grad[2]:
            gb = A.sum_to(self.kernels, A.where(self.kernels, self.cond, zero, g), self.shapes[1])
        return None, ga, gb


def where(cond, a, b):
    if cond.dtype is not dtypes.bool:
        raise TypeError(f"where: expected condition to be a bool tensor, got {cond.dtype.name} "
                        f"(shape {tuple(cond.shape)}); compare first (x > 0)")
    return Where.apply(cond, a, b, dtype=dtypes.result_type(a, b))
