"""Matrix products: y = x·Wᵀ + b (the linear layer, W of shape (out_features, in_features) as
in PyTorch) and `matmul` (the @ operator) with PyTorch's rules for 1-D and batched operands,
`bmm` and `baddbmm` (beta * input + alpha * bmm) on top of it. Every product is one
kernels.matmul call (per batch element for batched products); a transposed operand is passed
with a transpose flag, not copied."""
import math
import numbers

import numpy as np

from .. import dtypes
from ..autograd import Function, composite, is_grad_enabled
from ..errors import InputError, InputTypeError
from ..kernels import reduce as K
from . import _arrays as A
from .compare import where
from .shape import stack


class Linear(Function):
    name = "linear"

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        self.has_bias = b is not None
        return self.kernels.matmul(x, w, trans_b=True, bias=b)

    def backward(self, g):
        dx = self.kernels.matmul(g, self.w) if self.needs_grad[0] else None
        dw = self.kernels.matmul(g, self.x, trans_a=True) if self.needs_grad[1] else None
        if not self.has_bias:
            return dx, dw
        # The bias gradient sums g over the batch (a column sum, as the convolution's).
        db = A.reduce(self.kernels, K.R_SUM, g, (0,)) if self.needs_grad[2] else None
        return dx, dw, db


def _operand(array):
    """(C-contiguous array, transposed?) for a 2-D operand that _is_matrix: a transposed
    contiguous matrix (x.t(), w.T) is passed as its storage with the transpose flag."""
    if A.is_contiguous(array):
        return array, False
    rows, cols = array.shape
    return A.view(array, (cols, rows), (rows, 1)), True


class MatMul(Function):
    """a @ b for 2-D a (M, K) and b (K, N)."""
    name, strided_inputs = "matmul", True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self._product(a, False, b, False)

    def _product(self, a, t_a, b, t_b):
        """op(a) · op(b), each operand contiguous or passed transposed."""
        rows, inner = a.shape[::-1] if t_a else a.shape
        cols = b.shape[0] if t_b else b.shape[1]
        if not (rows and inner and cols):   # the kernels refuse empty products: zeros, as torch
            return A.full(self.kernels, (rows, cols), 0.0)
        a = A.contiguous(self.kernels, a) if not _is_matrix(a) else a
        b = A.contiguous(self.kernels, b) if not _is_matrix(b) else b
        a, flip_a = _operand(a)
        b, flip_b = _operand(b)
        return self.kernels.matmul(a, b, trans_a=t_a != flip_a, trans_b=t_b != flip_b)

    def backward(self, g):
        g = A.contiguous(self.kernels, g)
        ga = self._product(g, False, self.b, True) if self.needs_grad[0] else None
        gb = self._product(self.a, True, g, False) if self.needs_grad[1] else None
        return ga, gb


def _is_matrix(array) -> bool:
    """C-contiguous, or the transpose of a C-contiguous matrix."""
    strides = A.strides(array)
    rows, cols = array.shape
    return A.is_contiguous(array) or strides == (1, rows)


@composite
def matmul(a, b):
    for name, t in (("input", a), ("other", b)):
        if t.ndim == 0:
            raise InputError(f"matmul: both arguments need at least 1 dimension, {name} is "
                               f"0-D; use * to multiply by a scalar")
    if a.dtype is not dtypes.float32 or b.dtype is not dtypes.float32:
        raise TypeError(f"matmul: expected float32 tensors, got {a.dtype.name} and "
                        f"{b.dtype.name} (convert with .float())")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise InputError(f"mat1 and mat2 shapes cannot be multiplied ({_rows(a)}x{k_a} and "
                           f"{k_b}x{b.shape[-1] if b.ndim > 1 else 1}) (shapes {tuple(a.shape)} "
                           f"and {tuple(b.shape)})")
    if a.ndim == 1 and b.ndim == 1:
        return MatMul.apply(a.unsqueeze(0), b.unsqueeze(1)).reshape(())
    if a.ndim == 1:
        return matmul(a.unsqueeze(0), b).squeeze(-2)
    if b.ndim == 1:
        return matmul(a, b.unsqueeze(1)).squeeze(-1)
    if a.ndim == 2 and b.ndim == 2:
        return MatMul.apply(a, b)
    if b.ndim == 2:   # (..., M, K) @ (K, N): one product over all rows
        rows = a.reshape(-1, k_a)
        return MatMul.apply(rows, b).reshape(*a.shape[:-1], b.shape[-1])
    batch = A.broadcast_shapes("matmul", tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    a = a.expand(*batch, *a.shape[-2:])
    b = b.expand(*batch, *b.shape[-2:])
    count = math.prod(batch)   # not -1: a reshape cannot infer it when K or M is 0
    flat_a = a.reshape(count, *a.shape[-2:])
    flat_b = b.reshape(count, *b.shape[-2:])
    products = [MatMul.apply(flat_a[i], flat_b[i]) for i in range(flat_a.shape[0])]
    if not products:
        return a.new_zeros(*batch, a.shape[-2], b.shape[-1])
    return stack(products).reshape(*batch, a.shape[-2], b.shape[-1])


def _rows(a):
    return 1 if a.ndim == 1 else a.shape[-2]


def _check_bmm(op, batch1, batch2):
    """torch.bmm's shape rules (batch1 (b, n, m), batch2 (b, m, p)), before any kernel runs."""
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t.ndim != 3:
            raise InputError(f"{op}: {name} must be a 3D tensor, got shape {list(t.shape)}")
    expected = [batch1.shape[0], batch1.shape[2]]
    if list(batch2.shape[:2]) != expected:
        raise InputError(f"{op}: Expected size for first two dimensions of batch2 tensor to be: "
                         f"{expected} but got: {list(batch2.shape[:2])} (batch1 "
                         f"{list(batch1.shape)}, batch2 {list(batch2.shape)})")
    if batch1.dtype is not dtypes.float32 or batch2.dtype is not dtypes.float32:
        raise InputTypeError(f"{op}: expected float32 tensors, got {batch1.dtype.name} and "
                             f"{batch2.dtype.name} (convert with .float())")
    return (batch1.shape[0], batch1.shape[1], batch2.shape[2])


def bmm(batch1, batch2, op="bmm"):
    """batch1[i] @ batch2[i] for each i: no broadcasting, one kernels.matmul per batch element
    (matmul's batched path)."""
    _check_bmm(op, batch1, batch2)
    return matmul(batch1, batch2)


def baddbmm(x, batch1, batch2, beta=1, alpha=1):
    """beta * x + alpha * bmm(batch1, batch2), x broadcast to the product's shape. With beta 0,
    x is ignored (NaN and inf in it do not reach the result) but still gets a zero gradient,
    as in torch."""
    shape = _check_bmm("baddbmm", batch1, batch2)
    for name, value in (("beta", beta), ("alpha", alpha)):
        if not isinstance(value, numbers.Real):
            raise TypeError(f"baddbmm(): argument '{name}' must be a number, not "
                            f"{type(value).__name__}")
    lead = len(shape) - x.ndim
    if lead < 0 or any(n not in (1, m) for n, m in zip(x.shape, shape[lead:])):
        raise InputError(f"baddbmm: input of shape {list(x.shape)} does not broadcast to the "
                         f"product's shape {list(shape)} (batch1 {list(batch1.shape)}, batch2 "
                         f"{list(batch2.shape)})")
    if x.dtype is not dtypes.float32:
        raise InputTypeError(f"baddbmm: expected a float32 input, got {x.dtype.name}")
    if len({x.device, batch1.device, batch2.device}) > 1:
        raise ValueError(f"baddbmm: tensors on different devices (input on {x.device}, batch1 "
                         f"on {batch1.device}, batch2 on {batch2.device}); move them with "
                         f".to(device) first")
    product = matmul(batch1, batch2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        if not (x.requires_grad and is_grad_enabled()):
            return product
        # where(True, 0, x): x's values never read into the result; its gradient is zeros.
        true = x._like(A.full(x._kernels, (), True, np.bool_))
        zero = x._like(A.full(x._kernels, (), 0.0))
        return product + where(true, zero, x)
    return product + (x if beta == 1 else x * beta)


def check_inplace_baddbmm(x, batch1, batch2):
    """x.baddbmm_ writes the product into x: x must have the product's shape."""
    shape = _check_bmm("baddbmm_", batch1, batch2)
    if tuple(x.shape) != shape:
        raise InputError(f"baddbmm_: Bad in-place call: input tensor size {list(x.shape)} and "
                         f"output tensor size {list(shape)} should match")
