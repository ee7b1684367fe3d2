"""What every functional op checks first: a gpucnn Tensor of the expected rank and dtype."""
from ... import dtypes
from ...tensor import Tensor


def check_tensor(op, name, t, ndim=None, floating=True):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a gpucnn Tensor, got {type(t).__name__}")
    if ndim is not None and t.ndim != ndim:
        raise ValueError(f"{op}: {name} must be {ndim}-D, got shape {t.shape}")
    if floating and t.dtype is not dtypes.float32:
        raise TypeError(f"{op}: {name} must be a float tensor, got {t.dtype} (shape {t.shape})")
