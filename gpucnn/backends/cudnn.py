"""gpucnn.backends.cudnn: torch.backends.cudnn's flags, accepted with torch's defaults.

gpucnn has no cuDNN: its convolutions are its own kernels (implicit GEMM on the GPU, im2col +
BLAS on the CPU), always in float32 and always deterministic (fixed-order sums, no atomics),
and the kernel a convolution runs is fixed by its shapes: there is nothing to benchmark or to
choose. The flags below
are therefore settable and readable (a script that sets `benchmark = True` runs unchanged)
but change nothing; is_available() is False and version() is None, as in a PyTorch built
without cuDNN.

    enabled (True)  benchmark (False)  deterministic (False)  allow_tf32 (True)
    benchmark_limit (None, as without cuDNN)  fp32_precision ('none')  depthwise_kernel
    ('auto')  conv.fp32_precision, rnn.fp32_precision ('tf32'; allow_tf32 sets both, as
    torch's legacy flag does)
    flags(...)      a context manager: sets the flags inside its block (torch's defaults:
                    enabled=False, ...), restores them on the way out
    set_flags(...)  sets the flags given (None leaves one as it is); returns the old ones
"""
import contextlib
import sys

from ._flags import FlagModule, PrecisionFlags, allow_changes, boolean
from ._flags import fp32_precision as precision_flag


def _limit(owner, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 0):
        raise RuntimeError(f"{owner} expects an int >= 0 or None, but got {value!r}")
    return value


def _depthwise_kernel(owner, value):
    if value not in ("auto", "cudnn", "native"):
        raise RuntimeError(f"{owner}: unknown cuDNN depthwise kernel mode: {value}. Expected "
                           f"one of: auto, cudnn, native")
    return value


FLAGS = {"enabled": boolean, "benchmark": boolean, "deterministic": boolean,
         "allow_tf32": boolean, "benchmark_limit": _limit, "fp32_precision": precision_flag,
         "depthwise_kernel": _depthwise_kernel}

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = None   # torch's without cuDNN (10 with it)
fp32_precision = "none"
depthwise_kernel = "auto"
conv = PrecisionFlags("gpucnn.backends.cudnn.conv", "tf32")
rnn = PrecisionFlags("gpucnn.backends.cudnn.rnn", "tf32")


def is_available() -> bool:
    """False: gpucnn has no cuDNN (its kernels are its own)."""
    return False


def version():
    """None, as torch's for a build without cuDNN."""
    return None


def is_acceptable(tensor) -> bool:
    """Whether cuDNN would take `tensor`: never, there is none."""
    return False


_NAMES = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32",
          "fp32_precision", "depthwise_kernel")


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None,
              _allow_tf32=None, _fp32_precision="none", _depthwise_kernel=None):
    """Set each flag given (None: leave it); returns the previous values in this order.
    benchmark_limit is left alone, as torch leaves it where cuDNN is not available."""
    module = sys.modules[__name__]
    previous = tuple(getattr(module, name) for name in _NAMES)
    for name, value in zip(_NAMES, (_enabled, _benchmark, None, _deterministic, _allow_tf32,
                                    _fp32_precision, _depthwise_kernel)):
        if value is not None:
            setattr(module, name, value)
    return previous


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):
    """The flags set inside the block (torch's defaults), restored afterwards."""
    with allow_changes():
        previous = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32,
                             fp32_precision, depthwise_kernel)
    try:
        yield
    finally:
        with allow_changes():
            set_flags(*previous)


class _CudnnModule(FlagModule):
    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name == "allow_tf32":   # torch's legacy flag sets both operators' precision
            precision = "tf32" if value else "none"
            with allow_changes():
                self.conv.fp32_precision = precision
                self.rnn.fp32_precision = precision


sys.modules[__name__].__class__ = _CudnnModule
