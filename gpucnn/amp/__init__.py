"""gpucnn.amp: torch.amp's autocast and GradScaler.

gpucnn computes in float32 only, so autocast keeps torch's state and checks but runs every
op in float32 (it warns once per process when float16/bfloat16 is asked for), and GradScaler
scales, unscales, skips steps with inf/NaN gradients and schedules its scale exactly as
torch's does.

    autocast_mode.py  autocast, the autocast state functions (gpucnn.is_autocast_enabled,
                      ...), custom_fwd / custom_bwd
    grad_scaler.py    GradScaler, OptState
    cuda_amp.py       gpucnn.cuda.amp: torch.cuda.amp's deprecated forms
    cpu_amp.py        gpucnn.cpu.amp: torch.cpu.amp's deprecated forms
"""
import sys

from .. import cpu as _cpu
from .. import cuda as _cuda
from . import cpu_amp, cuda_amp
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]

# gpucnn.cuda and gpucnn.cpu are modules, not packages: their `amp` is registered here, so
# that `import gpucnn.cuda.amp` and `from gpucnn.cpu.amp import autocast` work as torch's.
for _device_module, _amp in ((_cuda, cuda_amp), (_cpu, cpu_amp)):
    _device_module.amp = _amp
    sys.modules[_device_module.__name__ + ".amp"] = _amp

