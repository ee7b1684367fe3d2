"""2-D convolution (cross-correlation, as torch.nn.functional.conv2d), forward and backward.

    conv2d_forward(x, w, b, stride, padding, dilation, groups, out=None)            -> y  (N, K, P, Q)
    conv2d_backward_data(dy, w, x_shape, stride, padding, dilation, groups, out=None) -> dx (N, C, H, W)
    conv2d_backward_weight(x, dy, w_shape, stride, padding, dilation, groups, out=None) -> dw (K, C/g, R, S)
    conv2d_backward_bias(dy, out=None)                                                -> db (K,)

Each has a `_cpu` twin (NumPy arrays) and a `_cuda` launcher (numba device arrays, plus a
keyword-only `version=` choosing a rung of the kernel ladder). Geometry arrives normalised:
stride (sh, sw), padding (top, bottom, left, right) of zeros, dilation (dh, dw), groups an int;
the weight is (K, C/groups, R, S) as in PyTorch.

    conv2d_args.py   argument checks and the Geometry record both twins use
    conv2d_cpu.py            the CPU twins: njit im2col/col2im around BLAS sgemm, two pipelines
    conv2d_cpu_per_image.py  per-thread runs of images lowered and multiplied in cache
    conv2d_cpu_batched.py    one column matrix and one sgemm for the whole batch
    conv2d_lowering.py       the im2col/col2im/layout loops both pipelines share
    conv2d_cuda.py   the CUDA kernels (direct, tiled implicit GEMM, split-K) and launchers
"""
from .conv2d_args import Geometry, geometry  # noqa: F401
from .conv2d_cpu import (  # noqa: F401
    conv2d_backward_bias_cpu,
    conv2d_backward_data_cpu,
    conv2d_backward_weight_cpu,
    conv2d_forward_cpu,
)
from .conv2d_cuda import (  # noqa: F401
    DEFAULT_VERSION,
    VERSIONS,
    conv2d_backward_bias_cuda,
    conv2d_backward_data_cuda,
    conv2d_backward_weight_cuda,
    conv2d_forward_cuda,
    split_k_count,
)
