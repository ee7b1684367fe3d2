"""gpucnn: a readable CNN engine with hand-written numba.cuda kernels and @njit CPU twins.

    import gpucnn as gc
    import gpucnn.nn.functional as F
    x = gc.tensor(images, device="cuda")
"""
__version__ = "0.1.0"

from . import process_settings as _process_settings

# The one setting that must precede NumPy's import (see gpucnn/process_settings.py).
_process_settings.prefer_avx512_blas()

from . import kernels  # noqa: E402,F401  (gpucnn.kernels: the kernel layer)
from . import accelerator, cuda, nn, optim  # noqa: E402,F401
from .autograd import (enable_grad, inference_mode, is_grad_enabled,  # noqa: E402,F401
                       is_inference_mode_enabled, no_grad, set_grad_enabled)
from .devices import device  # noqa: E402,F401
from .dtypes import (bfloat16, bool, complex64, double, dtype, float, float16,  # noqa: E402,F401,A004
                     float32, float64, half, int, int8, int16, int32, int64, long, uint8)
from .factories import (arange, as_tensor, empty, empty_like, eye, from_dlpack,  # noqa: E402,F401
                        from_numpy, full, full_like, linspace, ones, ones_like, rand,
                        rand_like, randint, randn, randn_like, randperm, tensor, zeros,
                        zeros_like)
from .functions import *  # noqa: E402,F401,F403  (gpucnn.cat, gpucnn.exp, ... as torch.*)
from .gradcheck import GradcheckError, gradcheck  # noqa: E402,F401
from .memory_formats import (channels_last, channels_last_3d,  # noqa: E402,F401
                            contiguous_format, memory_format, preserve_format)
from .random import get_state as get_rng_state  # noqa: E402,F401
from .random import initial_seed, manual_seed, seed  # noqa: E402,F401
from .random import set_state as set_rng_state  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401
from .size import Size  # noqa: E402,F401
from .tensor import Tensor  # noqa: E402,F401
from . import distributed, transforms, utils  # noqa: E402,F401
from . import linalg  # noqa: E402,F401
from .generator import Generator, default_generator  # noqa: E402,F401
from . import amp, backends, cpu  # noqa: E402,F401
from . import onnx  # noqa: E402,F401  (gpucnn.onnx.export; imports the onnx package on use)
from .amp.autocast_mode import (autocast, autocast_decrement_nesting,  # noqa: E402,F401
                                autocast_increment_nesting, clear_autocast_cache,
                                get_autocast_cpu_dtype, get_autocast_dtype,
                                get_autocast_gpu_dtype, is_autocast_cache_enabled,
                                is_autocast_cpu_enabled, is_autocast_enabled,
                                set_autocast_cache_enabled, set_autocast_cpu_dtype,
                                set_autocast_cpu_enabled, set_autocast_dtype,
                                set_autocast_enabled, set_autocast_gpu_dtype)
from .backends.cuda import (get_float32_matmul_precision,  # noqa: E402,F401
                            set_float32_matmul_precision)
from .backends.deterministic import (are_deterministic_algorithms_enabled,  # noqa: E402,F401
                                     get_deterministic_debug_mode,
                                     is_deterministic_algorithms_warn_only_enabled,
                                     set_deterministic_debug_mode,
                                     use_deterministic_algorithms)
from .cuda import OutOfMemoryError  # noqa: E402,F401
