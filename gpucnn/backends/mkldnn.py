"""gpucnn.backends.mkldnn: torch.backends.mkldnn's flags, accepted with torch's defaults.

gpucnn does not use oneDNN (MKL-DNN): its CPU kernels are its own @njit twins and NumPy's
BLAS, float32 and deterministic always. The flags are settable and readable and change
nothing; is_available() is False.

    enabled (True)  deterministic (False)  fp32_precision ('none')
    matmul/conv/rnn.fp32_precision ('none')  allow_tf32: None always, as torch's without an
    Intel GPU (setting it warns, as torch's does, and changes nothing)
    flags(...), set_flags(...)  as gpucnn.backends.cudnn's
"""
import contextlib
import sys
import warnings

from ._flags import FlagModule, PrecisionFlags, allow_changes, boolean
from ._flags import fp32_precision as precision_flag

FLAGS = {"enabled": boolean, "deterministic": boolean, "fp32_precision": precision_flag}

enabled = True
deterministic = False
allow_tf32 = None
fp32_precision = "none"
matmul = PrecisionFlags("gpucnn.backends.mkldnn.matmul", "none")
conv = PrecisionFlags("gpucnn.backends.mkldnn.conv", "none")
rnn = PrecisionFlags("gpucnn.backends.mkldnn.rnn", "none")


def is_available() -> bool:
    """False: gpucnn's CPU kernels do not use oneDNN."""
    return False


def is_acl_available() -> bool:
    return False


_NAMES = ("enabled", "deterministic", "allow_tf32", "fp32_precision")


def set_flags(_enabled=None, _deterministic=None, _allow_tf32=None, _fp32_precision="none"):
    """Set each flag given (None: leave it); returns the previous values in this order."""
    module = sys.modules[__name__]
    previous = tuple(getattr(module, name) for name in _NAMES)
    for name, value in zip(_NAMES, (_enabled, _deterministic, _allow_tf32, _fp32_precision)):
        if value is not None:
            setattr(module, name, value)
    return previous


@contextlib.contextmanager
def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision="none"):
    """The flags set inside the block (torch's defaults), restored afterwards."""
    with allow_changes():
        previous = set_flags(enabled, deterministic, allow_tf32, fp32_precision)
    try:
        yield
    finally:
        with allow_changes():
            set_flags(*previous)


class _MkldnnModule(FlagModule):
    def __setattr__(self, name, value):
        if name != "allow_tf32":
            return super().__setattr__(name, value)
        boolean(f"{self.__name__}.allow_tf32", value)
        warnings.warn("TF32 acceleration on top of oneDNN is available for Intel GPUs. gpucnn "
                      "has no Intel GPU support, so allow_tf32 stays None.", stacklevel=2)


sys.modules[__name__].__class__ = _MkldnnModule
