"""gpucnn.backends: torch.backends' flags, accepted and readable, with torch's defaults.

gpucnn has no cuDNN, cuBLAS, oneDNN (mkldnn) or MPS backend to configure: every op is one of
its own kernels (gpucnn.kernels), which computes in float32 (never TF32, never float16 or
bfloat16 sums) and deterministically (fixed-order reductions, no atomics) on "cpu" and
"cuda". So these flags change nothing that gpucnn computes. They exist so that a PyTorch
script which sets them (`torch.backends.cudnn.benchmark = True`, ...) runs unchanged, and
reading one gives what was set, or torch's default.

    cudnn      enabled benchmark deterministic allow_tf32 ..., flags(), is_available() False
    cuda       matmul.allow_tf32 and the reduced-precision flags, is_built()
    mkldnn     enabled deterministic ..., flags(), is_available() False
    mps        is_available() False, is_built() False
    deterministic.py  use_deterministic_algorithms and its relatives (gpucnn.* functions)
    disable_global_flags(), flags_frozen(): after the first, flags change only in flags()
"""
from . import cuda, cudnn, mkldnn, mps  # noqa: F401
from ._flags import disable_global_flags, flags_frozen  # noqa: F401
