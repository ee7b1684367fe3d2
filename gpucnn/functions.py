"""PyTorch's module-level functions (`gpucnn.cat`, `gpucnn.exp`, `gpucnn.where`, ...): each is
the Tensor method of the same name, or joins several tensors (cat, stack)."""
import numbers

from . import dtypes
from .errors import InputError
from .memory_formats import preserve_format
from .ops import compare as compare_ops
from .ops import shape as shape_ops
from .tensor import Tensor


def _tensor(value, name) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(value).__name__}")
    return value


def _tensors(values, name):
    values = list(values) if not isinstance(values, Tensor) else None
    if values is None:
        raise TypeError(f"{name}(): argument 'tensors' must be a sequence of Tensors, not Tensor")
    for i, v in enumerate(values):
        _tensor(v, name)
        if v.device != values[0].device:
            raise InputError(f"{name}: expected all tensors to be on the same device, but "
                               f"found {values[0].device} (tensor 0) and {v.device} "
                               f"(tensor {i})")
    return values


def cat(tensors, dim=0):
    return shape_ops.cat(_tensors(tensors, "cat"), dim)


concat = concatenate = cat


def stack(tensors, dim=0):
    return shape_ops.stack(_tensors(tensors, "stack"), dim)


def where(condition, input=None, other=None):  # noqa: A002
    """where(cond, x, y): x where cond else y (x or y may be Python numbers);
    where(cond): the coordinates of cond's True elements, as nonzero(as_tuple=True)."""
    condition = _tensor(condition, "where")
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    operands = []
    for value in (input, other):
        if not isinstance(value, Tensor):
            if not isinstance(value, numbers.Number):
                raise TypeError(f"where(): expected a Tensor or a number, got "
                                f"{type(value).__name__}")
            other_tensor = input if isinstance(input, Tensor) else other
            dtype = other_tensor.dtype if isinstance(other_tensor, Tensor) and \
                dtypes.result_type(other_tensor, value) is other_tensor.dtype else None
            value = Tensor(value, device=condition.device, dtype=dtype)
        operands.append(value)
    return compare_ops.where(condition, *operands)


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    return _tensor(input, "flatten").flatten(start_dim, end_dim)


def reshape(input, shape):  # noqa: A002
    return _tensor(input, "reshape").reshape(shape)


def squeeze(input, dim=None):  # noqa: A002
    return _tensor(input, "squeeze").squeeze(dim)


def unsqueeze(input, dim):  # noqa: A002
    return _tensor(input, "unsqueeze").unsqueeze(dim)


def transpose(input, dim0, dim1):  # noqa: A002
    return _tensor(input, "transpose").transpose(dim0, dim1)


def permute(input, dims):  # noqa: A002
    return _tensor(input, "permute").permute(dims)


def t(input):  # noqa: A002
    return _tensor(input, "t").t()


def chunk(input, chunks, dim=0):  # noqa: A002
    return _tensor(input, "chunk").chunk(chunks, dim)


def split(tensor, split_size_or_sections, dim=0):
    return _tensor(tensor, "split").split(split_size_or_sections, dim)


def narrow(input, dim, start, length):  # noqa: A002
    return _tensor(input, "narrow").narrow(dim, start, length)


def unbind(input, dim=0):  # noqa: A002
    return _tensor(input, "unbind").unbind(dim)


def clone(input, *, memory_format=preserve_format):  # noqa: A002
    return _tensor(input, "clone").clone(memory_format=memory_format)


def matmul(input, other):  # noqa: A002
    return _tensor(input, "matmul").matmul(other)


def mm(input, mat2):  # noqa: A002
    return _tensor(input, "mm").mm(mat2)


def dot(input, other):  # noqa: A002
    return _tensor(input, "dot").dot(other)


def bmm(input, mat2):  # noqa: A002
    return _tensor(input, "bmm").bmm(mat2)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    return _tensor(input, "baddbmm").baddbmm(batch1, batch2, beta=beta, alpha=alpha)


def lerp(input, end, weight):  # noqa: A002
    return _tensor(input, "lerp").lerp(end, weight)


def flip(input, dims):  # noqa: A002
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip(): argument 'dims' must be tuple of ints, not "
                        f"{type(dims).__name__}")
    return _tensor(input, "flip").flip(tuple(dims))


def fliplr(input):  # noqa: A002
    return _tensor(input, "fliplr").fliplr()


def flipud(input):  # noqa: A002
    return _tensor(input, "flipud").flipud()


def roll(input, shifts, dims=None):  # noqa: A002
    return _tensor(input, "roll").roll(shifts, dims)


def add(input, other, *, alpha=1):  # noqa: A002
    return _tensor(input, "add").add(other, alpha=alpha)


def sub(input, other, *, alpha=1):  # noqa: A002
    return _tensor(input, "sub").sub(other, alpha=alpha)


subtract = sub


def mul(input, other):  # noqa: A002
    return _tensor(input, "mul").mul(other)


multiply = mul


def div(input, other, *, rounding_mode=None):  # noqa: A002
    return _tensor(input, "div").div(other, rounding_mode=rounding_mode)


divide = true_divide = div


def floor_divide(input, other):  # noqa: A002
    return _tensor(input, "floor_divide").floor_divide(other)


def remainder(input, other):  # noqa: A002
    return _tensor(input, "remainder").remainder(other)


def pow(input, exponent):  # noqa: A001,A002
    if not isinstance(input, Tensor):
        return _tensor(exponent, "pow").__rpow__(input)
    return input.pow(exponent)


def maximum(input, other):  # noqa: A002
    return _tensor(input, "maximum").maximum(_tensor(other, "maximum"))


def minimum(input, other):  # noqa: A002
    return _tensor(input, "minimum").minimum(_tensor(other, "minimum"))


def clamp(input, min=None, max=None):  # noqa: A001,A002
    return _tensor(input, "clamp").clamp(min, max)


clip = clamp


def _method(name):
    """gpucnn.<name>(input) calling input.<name>() (unary functions with no options)."""
    def function(input):  # noqa: A002
        return getattr(_tensor(input, name), name)()
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"input.{name}()"
    return function


neg, negative, abs, absolute = _method("neg"), _method("neg"), _method("abs"), _method("abs")  # noqa: A001
exp, log, log2, log10 = _method("exp"), _method("log"), _method("log2"), _method("log10")
log1p, expm1, sqrt, rsqrt = _method("log1p"), _method("expm1"), _method("sqrt"), _method("rsqrt")
square, reciprocal = _method("square"), _method("reciprocal")
erf, sign = _method("erf"), _method("sign")
floor, ceil, trunc = _method("floor"), _method("ceil"), _method("trunc")
sigmoid, tanh, relu = _method("sigmoid"), _method("tanh"), _method("relu")
isnan, isinf, isfinite = _method("isnan"), _method("isinf"), _method("isfinite")
logical_not, bitwise_not = _method("logical_not"), _method("bitwise_not")
numel = _method("numel")
is_floating_point = _method("is_floating_point")


def round(input, *, decimals=0):  # noqa: A001,A002
    return _tensor(input, "round").round(decimals)


def _compare(name):
    def function(input, other):  # noqa: A002
        return getattr(_tensor(input, name), name)(other)
    function.__name__ = function.__qualname__ = name
    return function


eq, ne, lt, le, gt, ge = (_compare(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
logical_and, logical_or, logical_xor = (_compare(n) for n in ("logical_and", "logical_or",
                                                               "logical_xor"))
bitwise_and, bitwise_or, bitwise_xor = (_compare(n) for n in ("bitwise_and", "bitwise_or",
                                                               "bitwise_xor"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(input, other) -> bool:  # noqa: A002
    return _tensor(input, "equal").equal(other)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:  # noqa: A002
    return _tensor(input, "allclose").allclose(other, rtol, atol, equal_nan)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    return _tensor(input, "isclose").isclose(other, rtol, atol, equal_nan)


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001,A002
    return _tensor(input, "sum").sum(dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    return _tensor(input, "mean").mean(dim, keepdim, dtype=dtype)


def max(input, dim=None, keepdim=False):  # noqa: A001,A002
    return _tensor(input, "max").max(dim, keepdim)


def min(input, dim=None, keepdim=False):  # noqa: A001,A002
    return _tensor(input, "min").min(dim, keepdim)


def amax(input, dim=(), keepdim=False):  # noqa: A002
    return _tensor(input, "amax").amax(dim, keepdim)


def amin(input, dim=(), keepdim=False):  # noqa: A002
    return _tensor(input, "amin").amin(dim, keepdim)


def argmax(input, dim=None, keepdim=False):  # noqa: A002
    return _tensor(input, "argmax").argmax(dim, keepdim)


def argmin(input, dim=None, keepdim=False):  # noqa: A002
    return _tensor(input, "argmin").argmin(dim, keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    return _tensor(input, "var").var(dim, unbiased, keepdim, correction=correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    return _tensor(input, "std").std(dim, unbiased, keepdim, correction=correction)


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    return _tensor(input, "logsumexp").logsumexp(dim, keepdim)


def softmax(input, dim, dtype=None):  # noqa: A002
    return _tensor(input, "softmax").softmax(dim, dtype)


def log_softmax(input, dim, dtype=None):  # noqa: A002
    return _tensor(input, "log_softmax").log_softmax(dim, dtype)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    return _tensor(input, "norm").norm(p, dim, keepdim, dtype)


def any(input, dim=None, keepdim=False):  # noqa: A001,A002
    return _tensor(input, "any").any(dim, keepdim)


def all(input, dim=None, keepdim=False):  # noqa: A001,A002
    return _tensor(input, "all").all(dim, keepdim)


def count_nonzero(input, dim=None):  # noqa: A002
    return _tensor(input, "count_nonzero").count_nonzero(dim)


def nonzero(input, *, as_tuple=False):  # noqa: A002
    return _tensor(input, "nonzero").nonzero(as_tuple)


def masked_fill(input, mask, value):  # noqa: A002
    return _tensor(input, "masked_fill").masked_fill(mask, value)


def index_select(input, dim, index):  # noqa: A002
    return _tensor(input, "index_select").index_select(dim, index)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def get_default_dtype():
    return dtypes.float32


def set_default_dtype(dtype):
    if dtypes.resolve(dtype, "set_default_dtype") is not dtypes.float32:
        raise TypeError("set_default_dtype: gpucnn's float type is float32 only")


__all__ = [name for name, value in list(globals().items())
           if callable(value) and getattr(value, "__module__", None) == __name__
           and not name.startswith("_")]
