"""gpucnn.cpu.amp: torch.cpu.amp's deprecated forms of gpucnn.amp for "cpu" (autocast,
GradScaler), each with torch's FutureWarning naming the gpucnn.amp call to use instead."""
import warnings

from . import autocast_mode
from .grad_scaler import GradScaler as _GradScaler

__all__ = ["autocast", "GradScaler"]


def _deprecated(old, new):
    warnings.warn(f"`gpucnn.cpu.amp.{old}(args...)` is deprecated. Please use "
                  f"`gpucnn.amp.{new}` instead.", FutureWarning, stacklevel=3)


class autocast(autocast_mode.autocast):  # noqa: N801
    """torch.cpu.amp.autocast(enabled=True, dtype=bfloat16, cache_enabled=True)."""
    _caller_depth = 4

    def __init__(self, enabled=True, dtype=autocast_mode.dtypes.bfloat16, cache_enabled=True):
        _deprecated("autocast", "autocast('cpu', args...)")
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """torch.cpu.amp.GradScaler(...): gpucnn.amp.GradScaler("cpu", ...)."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        _deprecated("GradScaler", "GradScaler('cpu', args...)")
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)
