"""The engine's error types for bad input, catchable both ways a user's code may try.

PyTorch raises RuntimeError for most bad shapes, sizes and dtypes; gpucnn's rule is a
ValueError (bad values, shapes) or TypeError (bad types). These classes are both, so `except
RuntimeError` written for PyTorch and `except ValueError` / `except TypeError` all catch them.
"""


class InputError(ValueError, RuntimeError):
    """Values, shapes or sizes that do not fit: broadcasting, views, reductions over empty
    dims, bad sizes given to a factory."""


class InputTypeError(TypeError, RuntimeError):
    """A dtype an op does not take."""
