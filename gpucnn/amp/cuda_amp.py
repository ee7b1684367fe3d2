"""gpucnn.cuda.amp: torch.cuda.amp's deprecated forms of gpucnn.amp for "cuda" (autocast,
GradScaler, custom_fwd, custom_bwd), each with torch's FutureWarning naming the
gpucnn.amp call to use instead."""
import functools
import warnings

from .. import cuda
from . import autocast_mode
from .grad_scaler import GradScaler as _GradScaler

__all__ = ["amp_definitely_not_available", "autocast", "custom_fwd", "custom_bwd",
           "GradScaler"]


def _deprecated(old, new):
    warnings.warn(f"`gpucnn.cuda.amp.{old}(args...)` is deprecated. Please use "
                  f"`gpucnn.amp.{new}` instead.", FutureWarning, stacklevel=3)


def amp_definitely_not_available() -> bool:
    return not cuda.is_available()


class autocast(autocast_mode.autocast):  # noqa: N801
    """torch.cuda.amp.autocast(enabled=True, dtype=float16, cache_enabled=True)."""
    _caller_depth = 4

    def __init__(self, enabled=True, dtype=autocast_mode.dtypes.float16, cache_enabled=True):
        _deprecated("autocast", "autocast('cuda', args...)")
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """torch.cuda.amp.GradScaler(...): gpucnn.amp.GradScaler("cuda", ...)."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        _deprecated("GradScaler", "GradScaler('cuda', args...)")
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    _deprecated("custom_fwd", "custom_fwd(args..., device_type='cuda')")
    return functools.partial(autocast_mode.custom_fwd, device_type="cuda")(
        fwd=fwd, cast_inputs=cast_inputs)


def custom_bwd(bwd):
    _deprecated("custom_bwd", "custom_bwd(args..., device_type='cuda')")
    return functools.partial(autocast_mode.custom_bwd, device_type="cuda")(bwd)
