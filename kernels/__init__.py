"""gpucnn.kernels: the kernel layer. Arrays in, arrays out; no autograd.

Every op has an `@njit` CPU twin (`<op>_cpu`, NumPy arrays) and a `numba.cuda` launcher
(`<op>_cuda`, numba device arrays) with the same contract. Each kernel module ends with one
table, `OPS = {op name: Twins(cpu twin, CUDA launcher)}`, and this package joins them into
two tables that the engine dispatches through:

    CPU["conv2d_forward"]  is conv2d.conv2d_forward_cpu
    CUDA["conv2d_forward"] is conv2d.conv2d_forward_cuda

An op missing either twin, or named by two modules, stops the import. All float data is
float32, images are NCHW; the elementwise, reduce and index kernels take strided views
(kernels/_views.py), the others C-contiguous arrays.

    conv2d.py         convolution: contract, geometry, checks, both twins' entry points
      conv2d_im2col.py  its CPU work: im2col lowering + BLAS, per image or batched
      conv2d_cuda.py    its CUDA kernels: direct, implicit GEMM, implicit GEMM with launch bounds
    max_pool2d.py     max pooling forward (with argmax indices) and backward
    avg_pool2d.py     average pooling and adaptive average / max pooling, forward and backward
    batch_norm.py     batch normalization: per-channel statistics (two-pass chunks merged by
                      Chan's formula), normalisation, backward
    matmul.py         op(a) . op(b) (+ bias): CUDA versions naive, shared tiles, register tiles
    elementwise.py    every elementwise op over any layout: unary, binary (broadcast views),
                      compare, isnan/isinf, where, cast, ramp; formulas in map_ops.py
    reduce.py         sum, max, min, argmax, argmin over a strided 4-D view (deterministic)
    index.py          gather, scatter (deterministic, no atomics), nonzero: advanced indexing
    random.py         Philox4x32-10 counter-based random numbers, the same on CPU and GPU
    softmax_xent.py   softmax cross-entropy forward and backward
    augment.py        pad + crop + flip of a batch (the random transforms), one fused kernel
    optim.py          fused updates of SGD, Adam/AdamW, RMSprop, Adagrad, Adadelta
    _checks.py        what every launcher does first: check shapes, dtypes, device; allocate
    _device_functions.py  device code the CUDA kernels share (register tiles, block sum)
    _views.py         strided views of NumPy and device arrays: the one place that builds them
    _registry.py      every CUDA kernel with its signature (for the PTX tests), Twins
    _blas.py, _cblas.py   the CPU twins' BLAS: single-threaded calls, cblas_sgemm from NumPy's
    ptx_report.py     `python -m gpucnn.kernels.ptx_report`: PTX, registers, spills per kernel

Each module with a version ladder says so in VERSIONS and DEFAULT_VERSION (the others hold one
version, VERSIONS = (1,)); its CUDA launchers take `version=`.
"""
from . import (augment, avg_pool2d, batch_norm, conv2d, elementwise, index, matmul, max_pool2d,
               optim, random, reduce, softmax_xent)
from ._registry import KERNELS, Twins  # noqa: F401

MODULES = (conv2d, max_pool2d, avg_pool2d, matmul, elementwise, reduce, index, random, batch_norm,
           softmax_xent, optim, augment)


def _join(modules):
    cpu, cuda = {}, {}
    for module in modules:
        for op, twins in module.OPS.items():
            if op in cpu:
                raise ImportError(f"gpucnn.kernels: op {op!r} is in two OPS tables "
                                  f"({module.__name__} and another module)")
            if not isinstance(twins, Twins) or not callable(twins.cpu) or not callable(twins.cuda):
                raise ImportError(f"gpucnn.kernels: op {op!r} of {module.__name__} needs a CPU "
                                  f"twin and a CUDA launcher, got {twins!r}")
            cpu[op], cuda[op] = twins.cpu, twins.cuda
    return cpu, cuda


CPU, CUDA = _join(MODULES)
