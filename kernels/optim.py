"""In-place parameter updates, one fused kernel per optimizer, following the single-tensor
("for-loop") implementations of torch.optim step for step.

    sgd_step(param, grad, buf, lr, momentum, weight_decay, nesterov, first_step,
             dampening=0, maximize=False)
        g = -grad if maximize else grad;   g += weight_decay * param
        if momentum:  buf = g on the first step, else momentum * buf + (1 - dampening) * g
                      g = g + momentum * buf if nesterov else buf
        param -= lr * g
    adam_step(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step,
              max_exp_avg_sq=None, maximize=False, decoupled_weight_decay=False)
        decoupled (AdamW): param *= 1 - lr * weight_decay;  else g += weight_decay * param
        exp_avg = lerp(exp_avg, g, 1 - beta1)
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
        amsgrad (max_exp_avg_sq given): max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq),
                                        used in the denominator instead of exp_avg_sq
        param -= step_size * exp_avg / (sqrt(exp_avg_sq) / bias_correction2_sqrt + eps)
    rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, centered, maximize)
        square_avg = alpha * square_avg + (1 - alpha) * g * g
        centered: grad_avg = lerp(grad_avg, g, 1 - alpha); avg = sqrt(square_avg - grad_avg**2)
        else avg = sqrt(square_avg);  then avg += eps
        momentum > 0: buf = momentum * buf + g / avg; param -= lr * buf
        else param -= lr * g / avg
    adagrad_step(param, grad, state_sum, lr, lr_decay, weight_decay, eps, step, maximize)
        state_sum += g * g;  param -= clr * g / (sqrt(state_sum) + eps)
    adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize)
        square_avg = rho * square_avg + (1 - rho) * g * g
        delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta * delta;  param -= lr * delta

(g is the gradient, negated when maximize, plus weight_decay * param when weight_decay != 0,
except under AdamW's decoupled decay.) Each formula keeps torch's order of operations:
addcdiv is self + value * t1 / t2, addcmul self + value * t1 * t2, lerp switches form at
|weight| = 0.5. Results agree with torch's float32 to an ulp or so per step (torch's CPU
kernels fuse some multiply-adds, the GPU's compiler fuses others).

Every scalar that depends only on the step is computed on the host in float64, as PyTorch
does, and handed to the kernel as float32: Adam's step_size = lr / (1 - beta1**step) and
bias_correction2_sqrt = (1 - beta2**step)**0.5, Adagrad's clr = lr / (1 + (step - 1) *
lr_decay); so are 1 - beta, 1 - alpha, 1 - rho and 1 - dampening (1 - float32(0.999) would be
off by 1e-5 relative). Steps count from 1.

A state array an option does not use (SGD's buf with momentum 0, RMSprop's grad_avg when not
centered, its momentum_buffer with momentum 0) is never written: SGD's buf must still be an
array of param's shape, RMSprop's may be None. Arrays may have any shape (all of one shape,
C-contiguous, float32); the kernels see flat views. Every launcher updates in place and
returns `param`.
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
# Each update is written once, as an inlined @njit function that reads element i of the
# arrays and writes back the ones the options use; both twins run it: the CPU twin from a
# parallel loop, the CUDA kernel from a grid-stride loop (as a device function compiled from
# the same Python function, see the loops). The twins cannot drift apart. Literals are float32 so that nothing is
# promoted to float64 on the GPU.

@njit(inline="always")
def _lerp(start, end, weight):
    """torch.lerp: start + weight * (end - start), in the form exact at the nearer end."""
    if abs(weight) < float32(0.5):
        return start + weight * (end - start)
    return end - (end - start) * (float32(1.0) - weight)


@njit(inline="always")
def _maximum(a, b):
    """torch.maximum: NaN propagates from either side."""
    if a != a or a >= b:
        return a
    return b


@njit(inline="always")
def _gradient(g, p, weight_decay, maximize):
    """The gradient as the update sees it: negated to maximise, plus L2 weight decay."""
    if maximize:
        g = -g
    if weight_decay != float32(0.0):
        g = g + weight_decay * p
    return g


@njit(inline="always")
def _sgd_update(i, param, grad, buf, lr, momentum, one_minus_dampening, weight_decay, nesterov,
                maximize, first_step):
    """Element i of param, and of buf (written only when momentum != 0)."""
    p, b = param[i], buf[i]
    g = _gradient(grad[i], p, weight_decay, maximize)
    if momentum != float32(0.0):
        if first_step:
            b = g
        else:
            b = b * momentum + one_minus_dampening * g
        if nesterov:
            g = g + momentum * b
        else:
            g = b
    param[i] = p - lr * g
    if momentum != float32(0.0):
        buf[i] = b


@njit(inline="always")
def _adam_update(i, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, one_minus_beta1, beta2,
                 one_minus_beta2, eps, weight_decay, param_scale, step_size,
                 bias_correction2_sqrt, amsgrad, maximize):
    """Element i of param, exp_avg, exp_avg_sq and (amsgrad only) max_exp_avg_sq. param_scale
    is AdamW's decoupled decay 1 - lr * weight_decay (1 otherwise, weight_decay then
    coupled)."""
    p, m, v, v_max = param[i], exp_avg[i], exp_avg_sq[i], max_exp_avg_sq[i]
    if param_scale != float32(1.0):
        p = p * param_scale
    g = _gradient(grad[i], p, weight_decay, maximize)
    m = _lerp(m, g, one_minus_beta1)
    v = v * beta2 + one_minus_beta2 * g * g
    if amsgrad:
        v_max = _maximum(v_max, v)
        denom = math.sqrt(v_max) / bias_correction2_sqrt + eps
    else:
        denom = math.sqrt(v) / bias_correction2_sqrt + eps
    param[i], exp_avg[i], exp_avg_sq[i] = p - step_size * m / denom, m, v
    if amsgrad:
        max_exp_avg_sq[i] = v_max


@njit(inline="always")
def _rmsprop_update(i, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha,
                    one_minus_alpha, eps, weight_decay, momentum, centered, maximize):
    """Element i of param, square_avg, grad_avg (only when centered) and momentum_buffer
    (only when momentum > 0)."""
    p, sq, ga, b = param[i], square_avg[i], grad_avg[i], momentum_buffer[i]
    g = _gradient(grad[i], p, weight_decay, maximize)
    sq = sq * alpha + one_minus_alpha * g * g
    if centered:
        ga = _lerp(ga, g, one_minus_alpha)
        avg = math.sqrt(sq - ga * ga)
    else:
        avg = math.sqrt(sq)
    avg = avg + eps
    if momentum > float32(0.0):
        b = b * momentum + g / avg
        p = p - lr * b
    else:
        p = p - lr * g / avg
    param[i], square_avg[i] = p, sq
    if centered:
        grad_avg[i] = ga
    if momentum > float32(0.0):
        momentum_buffer[i] = b


@njit(inline="always")
def _adagrad_update(i, param, grad, state_sum, clr, weight_decay, eps, maximize):
    """Element i of param and state_sum."""
    p = param[i]
    g = _gradient(grad[i], p, weight_decay, maximize)
    s = state_sum[i] + g * g
    param[i], state_sum[i] = p - clr * g / (math.sqrt(s) + eps), s


@njit(inline="always")
def _adadelta_update(i, param, grad, square_avg, acc_delta, lr, rho, one_minus_rho, eps,
                     weight_decay, maximize):
    """Element i of param, square_avg and acc_delta."""
    p = param[i]
    g = _gradient(grad[i], p, weight_decay, maximize)
    sq = square_avg[i] * rho + one_minus_rho * g * g
    acc = acc_delta[i]
    delta = math.sqrt(acc + eps) / math.sqrt(sq + eps) * g
    acc = acc * rho + one_minus_rho * delta * delta
    param[i], square_avg[i], acc_delta[i] = p - lr * delta, sq, acc


# ---------------------------------------------------------------- the loops
# One call per element: the loops differ only in how they spread the elements (a prange, a
# grid-stride loop), never in what they do to one.
#
# The kernels call the same Python functions compiled as CUDA device functions: the simulator
# runs a kernel as Python on array objects of its own, which @njit code cannot take.
_sgd_update_gpu, _adam_update_gpu, _rmsprop_update_gpu, _adagrad_update_gpu, \
    _adadelta_update_gpu = (cuda.jit(device=True, inline="always")(f.py_func) for f in (
        _sgd_update, _adam_update, _rmsprop_update, _adagrad_update, _adadelta_update))


@cuda_kernel("void(float32[::1], float32[::1], float32[::1], float32, float32, float32, float32, "
             "int32, int32, int32)")
def _sgd_step_kernel(param, grad, buf, lr, momentum, one_minus_dampening, weight_decay,
                     nesterov, maximize, first_step):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        _sgd_update_gpu(i, param, grad, buf, lr, momentum, one_minus_dampening, weight_decay,
                        nesterov, maximize, first_step)


@njit(parallel=True, cache=True)
def _sgd_step_njit(param, grad, buf, lr, momentum, one_minus_dampening, weight_decay, nesterov,
                   maximize, first_step):
    for i in prange(param.size):
        _sgd_update(i, param, grad, buf, lr, momentum, one_minus_dampening, weight_decay,
                    nesterov, maximize, first_step)


@cuda_kernel("void(float32[::1], float32[::1], float32[::1], float32[::1], float32[::1], "
             "float32, float32, float32, float32, float32, float32, float32, float32, int32, "
             "int32)")
def _adam_step_kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, one_minus_beta1, beta2,
                      one_minus_beta2, eps, weight_decay, param_scale, step_size,
                      bias_correction2_sqrt, amsgrad, maximize):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        _adam_update_gpu(i, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, one_minus_beta1,
                         beta2, one_minus_beta2, eps, weight_decay, param_scale, step_size,
                         bias_correction2_sqrt, amsgrad, maximize)


@njit(parallel=True, cache=True)
def _adam_step_njit(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, one_minus_beta1, beta2,
                    one_minus_beta2, eps, weight_decay, param_scale, step_size,
                    bias_correction2_sqrt, amsgrad, maximize):
    for i in prange(param.size):
        _adam_update(i, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, one_minus_beta1,
                     beta2, one_minus_beta2, eps, weight_decay, param_scale, step_size,
                     bias_correction2_sqrt, amsgrad, maximize)


@cuda_kernel("void(float32[::1], float32[::1], float32[::1], float32[::1], float32[::1], "
             "float32, float32, float32, float32, float32, float32, int32, int32)")
def _rmsprop_step_kernel(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha,
                         one_minus_alpha, eps, weight_decay, momentum, centered, maximize):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        _rmsprop_update_gpu(i, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha,
                            one_minus_alpha, eps, weight_decay, momentum, centered, maximize)


@njit(parallel=True, cache=True)
def _rmsprop_step_njit(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha,
                       one_minus_alpha, eps, weight_decay, momentum, centered, maximize):
    for i in prange(param.size):
        _rmsprop_update(i, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha,
                        one_minus_alpha, eps, weight_decay, momentum, centered, maximize)


@cuda_kernel("void(float32[::1], float32[::1], float32[::1], float32, float32, float32, int32)")
def _adagrad_step_kernel(param, grad, state_sum, clr, weight_decay, eps, maximize):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        _adagrad_update_gpu(i, param, grad, state_sum, clr, weight_decay, eps, maximize)


@njit(parallel=True, cache=True)
def _adagrad_step_njit(param, grad, state_sum, clr, weight_decay, eps, maximize):
    for i in prange(param.size):
        _adagrad_update(i, param, grad, state_sum, clr, weight_decay, eps, maximize)


@cuda_kernel("void(float32[::1], float32[::1], float32[::1], float32[::1], float32, float32, "
             "float32, float32, float32, int32)")
def _adadelta_step_kernel(param, grad, square_avg, acc_delta, lr, rho, one_minus_rho, eps,
                          weight_decay, maximize):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        _adadelta_update_gpu(i, param, grad, square_avg, acc_delta, lr, rho, one_minus_rho, eps,
                             weight_decay, maximize)


@njit(parallel=True, cache=True)
def _adadelta_step_njit(param, grad, square_avg, acc_delta, lr, rho, one_minus_rho, eps,
                        weight_decay, maximize):
    for i in prange(param.size):
        _adadelta_update(i, param, grad, square_avg, acc_delta, lr, rho, one_minus_rho, eps,
                         weight_decay, maximize)


# ---------------------------------------------------------------- checks and launches

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


def _non_negative(op, **values):
    for name, value in values.items():
        if not value >= 0:   # NaN fails too
            raise ValueError(f"{op}: {name} must be >= 0, got {value}")


def _step_count(op, step):
    if int(step) != step or step < 1:
        raise ValueError(f"{op}: step counts from 1, got {step}")
    return float(step)


def _launch(on_device, njit_fn, kernel, arrays, scalars):
    if not on_device:
        njit_fn(*arrays, *scalars)
    elif arrays[0].size:
        kernel[grid_1d(arrays[0].size), THREADS](*arrays, *scalars)


def _flag(value):
    return np.int32(bool(value))


def _sgd(op, on_device, param, grad, buf, lr, momentum, weight_decay, nesterov, first_step,
         dampening, maximize):
    _non_negative(op, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(f"{op}: nesterov momentum needs momentum > 0 and dampening 0, got "
                         f"momentum {momentum}, dampening {dampening}")
    arrays = _flat_arrays(op, on_device, param=param, grad=grad, buf=buf)
    scalars = (np.float32(lr), np.float32(momentum), np.float32(1.0 - dampening),
               np.float32(weight_decay), _flag(nesterov), _flag(maximize), _flag(first_step))
    _launch(on_device, _sgd_step_njit, _sgd_step_kernel, arrays, scalars)
    return param


def _adam(op, on_device, param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay,
          step, max_exp_avg_sq, maximize, decoupled_weight_decay):
    if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
        raise ValueError(f"{op}: betas ({beta1}, {beta2}) must lie in [0, 1)")
    _non_negative(op, lr=lr, eps=eps, weight_decay=weight_decay)
    step = _step_count(op, step)
    amsgrad = max_exp_avg_sq is not None
    arrays = _flat_arrays(op, on_device, param=param, grad=grad, exp_avg=exp_avg,
                          exp_avg_sq=exp_avg_sq,
                          max_exp_avg_sq=max_exp_avg_sq if amsgrad else exp_avg_sq)
    # torch: weight decay only when != 0, then either param *= 1 - lr * wd or g += wd * param.
    decoupled = decoupled_weight_decay and weight_decay != 0
    param_scale = 1.0 - lr * weight_decay if decoupled else 1.0
    scalars = (np.float32(1.0 - beta1), np.float32(beta2), np.float32(1.0 - beta2),
               np.float32(eps), np.float32(0.0 if decoupled else weight_decay),
               np.float32(param_scale), np.float32(lr / (1.0 - beta1 ** step)),
               np.float32((1.0 - beta2 ** step) ** 0.5), _flag(amsgrad), _flag(maximize))
    _launch(on_device, _adam_step_njit, _adam_step_kernel, arrays, scalars)
    return param


def _rmsprop(op, on_device, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
             weight_decay, momentum, centered, maximize):
    _non_negative(op, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
    for name, needed, given in (("grad_avg", centered, grad_avg),
                                ("momentum_buffer", momentum > 0, momentum_buffer)):
        if needed and given is None:
            raise ValueError(f"{op}: {name} is needed (centered={bool(centered)}, "
                             f"momentum={momentum}) but is None")
    # An unused state array is never written: the gradient stands in for it.
    arrays = _flat_arrays(op, on_device, param=param, grad=grad, square_avg=square_avg,
                          grad_avg=grad if grad_avg is None else grad_avg,
                          momentum_buffer=grad if momentum_buffer is None else momentum_buffer)
    scalars = (np.float32(lr), np.float32(alpha), np.float32(1.0 - alpha), np.float32(eps),
               np.float32(weight_decay), np.float32(momentum), _flag(centered), _flag(maximize))
    _launch(on_device, _rmsprop_step_njit, _rmsprop_step_kernel, arrays, scalars)
    return param


def _adagrad(op, on_device, param, grad, state_sum, lr, lr_decay, weight_decay, eps, step,
             maximize):
    _non_negative(op, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
    step = _step_count(op, step)
    arrays = _flat_arrays(op, on_device, param=param, grad=grad, state_sum=state_sum)
    clr = lr / (1 + (step - 1) * lr_decay)
    scalars = (np.float32(clr), np.float32(weight_decay), np.float32(eps), _flag(maximize))
    _launch(on_device, _adagrad_step_njit, _adagrad_step_kernel, arrays, scalars)
    return param


def _adadelta(op, on_device, param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay,
              maximize):
    _non_negative(op, lr=lr, eps=eps, weight_decay=weight_decay)
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"{op}: rho must lie in [0, 1], got {rho}")
    arrays = _flat_arrays(op, on_device, param=param, grad=grad, square_avg=square_avg,
                          acc_delta=acc_delta)
    scalars = (np.float32(lr), np.float32(rho), np.float32(1.0 - rho), np.float32(eps),
               np.float32(weight_decay), _flag(maximize))
    _launch(on_device, _adadelta_step_njit, _adadelta_step_kernel, arrays, scalars)
    return param


# ---------------------------------------------------------------- the twins' entry points

def sgd_step_cpu(param, grad, buf, lr, momentum, weight_decay, nesterov, first_step,
                 dampening=0.0, maximize=False):
    """One torch.optim.SGD step, in place on param (and buf when momentum != 0)."""
    return _sgd("sgd_step_cpu", False, param, grad, buf, lr, momentum, weight_decay, nesterov,
                first_step, dampening, maximize)


def sgd_step_cuda(param, grad, buf, lr, momentum, weight_decay, nesterov, first_step,
                  dampening=0.0, maximize=False):
    """One torch.optim.SGD step, in place on param (and buf when momentum != 0)."""
    return _sgd("sgd_step_cuda", True, param, grad, buf, lr, momentum, weight_decay, nesterov,
                first_step, dampening, maximize)


def adam_step_cpu(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step,
                  max_exp_avg_sq=None, maximize=False, decoupled_weight_decay=False):
    """One torch.optim.Adam (AdamW: decoupled_weight_decay) step, in place on param and the
    moments; amsgrad when max_exp_avg_sq is given."""
    return _adam("adam_step_cpu", False, param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps,
                 weight_decay, step, max_exp_avg_sq, maximize, decoupled_weight_decay)


def adam_step_cuda(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step,
                   max_exp_avg_sq=None, maximize=False, decoupled_weight_decay=False):
    """One torch.optim.Adam (AdamW: decoupled_weight_decay) step, in place on param and the
    moments; amsgrad when max_exp_avg_sq is given."""
    return _adam("adam_step_cuda", True, param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps,
                 weight_decay, step, max_exp_avg_sq, maximize, decoupled_weight_decay)


def rmsprop_step_cpu(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                     weight_decay, momentum, centered, maximize):
    """One torch.optim.RMSprop step, in place on param and the state it uses."""
    return _rmsprop("rmsprop_step_cpu", False, param, grad, square_avg, grad_avg,
                    momentum_buffer, lr, alpha, eps, weight_decay, momentum, centered, maximize)


def rmsprop_step_cuda(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                      weight_decay, momentum, centered, maximize):
    """One torch.optim.RMSprop step, in place on param and the state it uses."""
    return _rmsprop("rmsprop_step_cuda", True, param, grad, square_avg, grad_avg,
                    momentum_buffer, lr, alpha, eps, weight_decay, momentum, centered, maximize)


def adagrad_step_cpu(param, grad, state_sum, lr, lr_decay, weight_decay, eps, step, maximize):
    """One torch.optim.Adagrad step (step counts from 1), in place on param and state_sum."""
    return _adagrad("adagrad_step_cpu", False, param, grad, state_sum, lr, lr_decay,
                    weight_decay, eps, step, maximize)


def adagrad_step_cuda(param, grad, state_sum, lr, lr_decay, weight_decay, eps, step, maximize):
    """One torch.optim.Adagrad step (step counts from 1), in place on param and state_sum."""
    return _adagrad("adagrad_step_cuda", True, param, grad, state_sum, lr, lr_decay,
                    weight_decay, eps, step, maximize)


def adadelta_step_cpu(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize):
    """One torch.optim.Adadelta step, in place on param, square_avg and acc_delta."""
    return _adadelta("adadelta_step_cpu", False, param, grad, square_avg, acc_delta, lr, rho, eps,
                     weight_decay, maximize)


def adadelta_step_cuda(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay,
                       maximize):
    """One torch.optim.Adadelta step, in place on param, square_avg and acc_delta."""
    return _adadelta("adadelta_step_cuda", True, param, grad, square_avg, acc_delta, lr, rho,
                     eps, weight_decay, maximize)


OPS = {
    "sgd_step": Twins(sgd_step_cpu, sgd_step_cuda),
    "adam_step": Twins(adam_step_cpu, adam_step_cuda),
    "rmsprop_step": Twins(rmsprop_step_cpu, rmsprop_step_cuda),
    "adagrad_step": Twins(adagrad_step_cpu, adagrad_step_cuda),
    "adadelta_step": Twins(adadelta_step_cpu, adadelta_step_cuda),
}
