"""Data types as objects (`gpucnn.float32`, `gpucnn.int64`, ...) and PyTorch's type promotion.

gpucnn computes in four types: float32 (the default for float data), int64 (the default for
integer data: class labels, indices), int32 and bool. The other PyTorch dtypes exist as names
so that a script using them gets a clear TypeError naming what is supported instead of an
AttributeError.

    result_type(*operands)   the dtype of a binary op's result, by PyTorch's rules:
                             categories bool < integer < float; tensors with dimensions decide
                             within a category, 0-dim tensors only when they raise the
                             category, Python numbers only when they raise it (then float32 for
                             a float, int64 for an int)
    resolve(dtype, where)    the NumPy dtype of a supported dtype (a gpucnn dtype, a NumPy
                             dtype or the Python types float/int/bool)
"""
import builtins
import numbers

import numpy as np


class dtype:  # noqa: N801  (PyTorch's name)
    """One element type. Supported ones map to a NumPy dtype; the others only name
    themselves in the error that refuses them."""

    def __init__(self, name: str, numpy_dtype=None, category: int = 0):
        self.name = name
        self.numpy = None if numpy_dtype is None else np.dtype(numpy_dtype)
        self.category = category          # 0 bool, 1 integer, 2 float
        self.is_floating_point = category == 2
        self.is_signed = category > 0
        self.is_complex = False

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize if self.numpy is not None else 0

    def __repr__(self):
        return f"gpucnn.{self.name}"

    def __reduce__(self):   # pickles (and copies) as the same singleton
        return (_named, (self.name,))


def _named(name):
    return globals()[name]


float32 = dtype("float32", np.float32, 2)
int64 = dtype("int64", np.int64, 1)
int32 = dtype("int32", np.int32, 1)
bool = dtype("bool", np.bool_, 0)   # noqa: A001  (gpucnn.bool, as torch.bool)

SUPPORTED = (float32, int64, int32, bool)
UNSUPPORTED = {name: dtype(name) for name in (
    "float64", "float16", "bfloat16", "int8", "int16", "uint8", "uint16", "uint32", "uint64",
    "complex64", "complex128")}
globals().update(UNSUPPORTED)
float64, float16, bfloat16 = (UNSUPPORTED["float64"], UNSUPPORTED["float16"],
                              UNSUPPORTED["bfloat16"])
uint8, int8, int16 = UNSUPPORTED["uint8"], UNSUPPORTED["int8"], UNSUPPORTED["int16"]
complex64 = UNSUPPORTED["complex64"]
# PyTorch's aliases
float = float32      # noqa: A001
long = int64
int = int32          # noqa: A001
double, half = float64, float16

_BY_NUMPY = {d.numpy: d for d in SUPPORTED}
_PYTHON_TYPES = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}


def unsupported_error(name: str, where: str) -> TypeError:
    hint = " (float data: use gpucnn.float32)" if name.startswith(("float", "bfloat", "complex",
                                                                    "double", "half")) else ""
    return TypeError(f"{where}: dtype {name} is not supported; gpucnn tensors are float32, "
                     f"int64, int32 or bool{hint}")


def resolve(value, where: str = "dtype") -> dtype:
    """The gpucnn dtype for `value` (a gpucnn dtype, a NumPy dtype or type, or Python's
    float/int/bool as PyTorch reads them); TypeError naming `where` for anything else."""
    if isinstance(value, dtype):
        if value.numpy is None:
            raise unsupported_error(value.name, where)
        return value
    if value in _PYTHON_TYPES:
        return resolve(_PYTHON_TYPES[value], where)
    try:
        numpy_dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"{where}: expected a dtype such as gpucnn.float32, got "
                        f"{value!r}") from None
    if numpy_dtype not in _BY_NUMPY:
        raise unsupported_error(numpy_dtype.name, where)
    return _BY_NUMPY[numpy_dtype]


def of_array(array) -> dtype:
    return _BY_NUMPY[np.dtype(array.dtype)]


def _promote_within(dtypes):
    """The widest of dtypes of one category."""
    if float32 in dtypes:
        return float32
    if int64 in dtypes:
        return int64
    if int32 in dtypes:
        return int32
    return bool


def category_of_scalar(value) -> builtins.int:
    if isinstance(value, builtins.bool) or isinstance(value, np.bool_):
        return 0
    if isinstance(value, numbers.Integral):
        return 1
    if isinstance(value, numbers.Real):
        return 2
    raise TypeError(f"expected a Tensor or a real number, got {type(value).__name__}")


def result_type(*operands) -> dtype:
    """PyTorch's promotion over tensors (anything with .dtype and .ndim) and Python numbers."""
    dimensioned, zero_dim, scalars = [], [], []
    for x in operands:
        if hasattr(x, "dtype") and hasattr(x, "ndim"):
            (dimensioned if x.ndim else zero_dim).append(resolve(x.dtype))
        else:
            scalars.append(category_of_scalar(x))
    result = _promote_within(dimensioned) if dimensioned else None
    if zero_dim:
        top = _promote_within(zero_dim)
        if result is None or top.category > result.category:
            result = top
    if scalars:
        category = max(scalars)
        if result is None or category > result.category:
            result = (bool, int64, float32)[category]
    return result
