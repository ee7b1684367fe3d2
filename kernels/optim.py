"""In-place parameter updates, following torch.optim.SGD and torch.optim.Adam step for step
(dampening 0, no amsgrad, no maximize).

    sgd_step(param, grad, buf, lr, momentum, weight_decay, nesterov, first_step)
        d = grad + weight_decay * param
        if momentum:  buf = d on the first step, else momentum * buf + d
                      d = d + momentum * buf if nesterov else buf
        param -= lr * d
    adam_step(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step)
        g = grad + weight_decay * param
        exp_avg += (1 - beta1) * (g - exp_avg)          (torch's lerp_)
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
        param -= step_size * exp_avg / (sqrt(exp_avg_sq) / bias_correction2_sqrt + eps)

`buf` is always passed (any array of param's shape) and is left untouched when momentum is 0.
Adam's bias corrections depend only on `step` (counted from 1), so they are computed on the
host in float64, as PyTorch does, and handed to the kernel as float32 scalars:
step_size = lr / (1 - beta1**step), bias_correction2_sqrt = sqrt(1 - beta2**step).
Arrays may have any shape (all of one shape); the kernels see flat views. Both update in place
and return `param`.
"""
import math

import numpy as np
from numba import cuda, float32, njit, prange

from ._checks import check_array, output
from ._registry import Twins, cuda_kernel
from .elementwise import THREADS, grid_1d

VERSIONS = (1,)
DEFAULT_VERSION = 1


# ---------------------------------------------------------------- one element's update
# Each formula is written once, as an inlined @njit function that both twins call: the CPU
# twin from a parallel loop, the CUDA kernel from a grid-stride loop (numba compiles it for
# the GPU where a kernel calls it). The twins cannot drift apart.

@njit(inline="always")
def _sgd_update(p, g, b, lr, momentum, weight_decay, nesterov, first_step):
    """(new param, new buffer) of one element."""
    d = g
    if weight_decay != 0:
        d += weight_decay * p
    if momentum != 0:
        b = d if first_step else momentum * b + d
        d = d + momentum * b if nesterov else b
    return p - lr * d, b


@njit(inline="always")
def _adam_update(p, g, m, v, one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay,
                 step_size, bias_correction2_sqrt):
    """(new param, new exp_avg, new exp_avg_sq) of one element."""
    if weight_decay != 0:
        g += weight_decay * p
    m += one_minus_beta1 * (g - m)
    v = beta2 * v + one_minus_beta2 * g * g
    return p - step_size * m / (math.sqrt(v) / bias_correction2_sqrt + eps), m, v


# ---------------------------------------------------------------- the loops

@cuda_kernel("void(float32[::1], float32[::1], float32[::1], float32, float32, float32, int32, "
             "int32)")
def _sgd_step_kernel(param, grad, buf, lr, momentum, weight_decay, nesterov, first_step):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], b = _sgd_update(param[i], grad[i], buf[i], lr, momentum, weight_decay,
                                  nesterov, first_step)
        if momentum != float32(0.0):
            buf[i] = b


@njit(parallel=True, cache=True)
def _sgd_step_njit(param, grad, buf, lr, momentum, weight_decay, nesterov, first_step):
    for i in prange(param.size):
        param[i], b = _sgd_update(param[i], grad[i], buf[i], lr, momentum, weight_decay,
                                  nesterov, first_step)
        if momentum != 0:
            buf[i] = b


@cuda_kernel("void(float32[::1], float32[::1], float32[::1], float32[::1], "
             "float32, float32, float32, float32, float32, float32, float32)")
def _adam_step_kernel(param, grad, exp_avg, exp_avg_sq, one_minus_beta1, beta2, one_minus_beta2,
                      eps, weight_decay, step_size, bias_correction2_sqrt):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], exp_avg[i], exp_avg_sq[i] = _adam_update(
            param[i], grad[i], exp_avg[i], exp_avg_sq[i], one_minus_beta1, beta2,
            one_minus_beta2, eps, weight_decay, step_size, bias_correction2_sqrt)


@njit(parallel=True, cache=True)
def _adam_step_njit(param, grad, exp_avg, exp_avg_sq, one_minus_beta1, beta2, one_minus_beta2,
                    eps, weight_decay, step_size, bias_correction2_sqrt):
    for i in prange(param.size):
        param[i], exp_avg[i], exp_avg_sq[i] = _adam_update(
            param[i], grad[i], exp_avg[i], exp_avg_sq[i], one_minus_beta1, beta2,
            one_minus_beta2, eps, weight_decay, step_size, bias_correction2_sqrt)


def _flat_arrays(op, on_device, **arrays):
    """Same-shaped float32 contiguous arrays on the right device -> flat views, in order."""
    first_name, first = next(iter(arrays.items()))
    for name, a in arrays.items():
        check_array(op, name, a)
        if tuple(a.shape) != tuple(first.shape):
            raise ValueError(f"{op}: {name} has shape {tuple(a.shape)}, {first_name} has "
                             f"{tuple(first.shape)}; they must match")
    output(op, on_device, first, tuple(first.shape), name=first_name, **arrays)
    return [a.reshape(a.size) for a in arrays.values()]


def _sgd_scalars(op, lr, momentum, weight_decay, nesterov, first_step):
    if lr < 0 or momentum < 0 or weight_decay < 0:
        raise ValueError(f"{op}: lr {lr}, momentum {momentum}, weight_decay {weight_decay} "
                         f"must be >= 0")
    if nesterov and momentum == 0:
        raise ValueError(f"{op}: nesterov momentum needs momentum > 0")
    return (np.float32(lr), np.float32(momentum), np.float32(weight_decay),
            np.int32(bool(nesterov)), np.int32(bool(first_step)))


def _adam_scalars(op, lr, beta1, beta2, eps, weight_decay, step):
    if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
        raise ValueError(f"{op}: betas ({beta1}, {beta2}) must lie in [0, 1)")
    if lr < 0 or eps < 0 or weight_decay < 0:
        raise ValueError(f"{op}: lr {lr}, eps {eps}, weight_decay {weight_decay} must be >= 0")
    if int(step) != step or step < 1:
        raise ValueError(f"{op}: step counts from 1, got {step}")
    step_size = lr / (1.0 - beta1 ** step)
    bias_correction2_sqrt = math.sqrt(1.0 - beta2 ** step)
    # 1 - beta is formed in float64 too: 1 - float32(0.999) would be off by 1e-5 relative.
    return (np.float32(1.0 - beta1), np.float32(beta2), np.float32(1.0 - beta2), np.float32(eps),
            np.float32(weight_decay), np.float32(step_size), np.float32(bias_correction2_sqrt))


def sgd_step_cpu(param, grad, buf, lr, momentum, weight_decay, nesterov, first_step):
    """One torch.optim.SGD step, in place on param (and buf when momentum != 0)."""
    op = "sgd_step_cpu"
    scalars = _sgd_scalars(op, lr, momentum, weight_decay, nesterov, first_step)
    flat = _flat_arrays(op, False, param=param, grad=grad, buf=buf)
    _sgd_step_njit(*flat, *scalars)
    return param


def sgd_step_cuda(param, grad, buf, lr, momentum, weight_decay, nesterov, first_step):
    """One torch.optim.SGD step, in place on param (and buf when momentum != 0)."""
    op = "sgd_step_cuda"
    scalars = _sgd_scalars(op, lr, momentum, weight_decay, nesterov, first_step)
    flat = _flat_arrays(op, True, param=param, grad=grad, buf=buf)
    if param.size:
        _sgd_step_kernel[grid_1d(param.size), THREADS](*flat, *scalars)
    return param


def adam_step_cpu(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step):
    """One torch.optim.Adam step (step counts from 1), in place on param and both moments."""
    op = "adam_step_cpu"
    scalars = _adam_scalars(op, lr, beta1, beta2, eps, weight_decay, step)
    flat = _flat_arrays(op, False, param=param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    _adam_step_njit(*flat, *scalars)
    return param


def adam_step_cuda(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step):
    """One torch.optim.Adam step (step counts from 1), in place on param and both moments."""
    op = "adam_step_cuda"
    scalars = _adam_scalars(op, lr, beta1, beta2, eps, weight_decay, step)
    flat = _flat_arrays(op, True, param=param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    if param.size:
        _adam_step_kernel[grid_1d(param.size), THREADS](*flat, *scalars)
    return param


OPS = {
    "sgd_step": Twins(sgd_step_cpu, sgd_step_cuda),
    "adam_step": Twins(adam_step_cpu, adam_step_cuda),
}
