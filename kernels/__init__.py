"""gpucnn.kernels: the kernel layer. Arrays in, arrays out; no autograd.

Each op has a `numba.cuda` kernel with its launcher (`<op>_cuda`, numba device arrays) and an
`@njit` CPU twin (`<op>_cpu`, NumPy arrays) with the same contract, side by side in one file.
All float data is float32, images are NCHW, every array is C-contiguous.

Files: conv2d.py, max_pool2d.py, matmul.py, elementwise.py (ReLU, add/scale/fill, sums),
softmax_xent.py (softmax cross-entropy), optim.py (SGD-momentum and Adam updates), broadcast.py (one element to a whole array).
"""
from ._registry import KERNELS, compile_all  # noqa: F401
from . import broadcast, conv2d, elementwise, matmul, max_pool2d, optim, softmax_xent  # noqa: F401
