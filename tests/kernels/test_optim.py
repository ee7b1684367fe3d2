"""The optimizers' CPU twins against torch.optim over several steps, and against plain float64
NumPy transcriptions of the update rules (written from torch's documented algorithms, not
from the kernels), over every option."""
from typing import Callable, NamedTuple

import numpy as np
import pytest
import torch

from gpucnn.kernels.optim import (adadelta_step_cpu, adadelta_step_cuda, adagrad_step_cpu,
                                  adagrad_step_cuda, adam_step_cpu, adam_step_cuda,
                                  rmsprop_step_cpu, rmsprop_step_cuda, sgd_step_cpu,
                                  sgd_step_cuda)
from tests.helpers import assert_close, rand

STEPS = 5
SHAPES = [(1,), (17,), (13, 5), (4, 3, 3, 3)]
# The twins compute in float32: after STEPS steps they agree with float64 to a few ulps of the
# largest value (RMSprop's centred root amplifies rounding most: 8e-7 seen).
F64_TOL = 5e-6
# torch computes in float32 too, fusing some multiply-adds the twins do not: a few ulps apart.
TORCH_TOL = 4e-6


def grads_for(shape, seed):
    rng = np.random.default_rng(seed)
    return [rand(rng, *shape) for _ in range(STEPS)]


def ids(cases):
    return ["-".join(f"{k}{v}" for k, v in case.items()) for case in cases]


SGD_CASES = [
    dict(lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False),
    dict(lr=0.05, momentum=0.9, weight_decay=0.0, nesterov=False),
    dict(lr=0.05, momentum=0.9, weight_decay=1e-2, nesterov=False),
    dict(lr=0.05, momentum=0.8, weight_decay=5e-3, nesterov=True),
    dict(lr=0.05, momentum=0.9, weight_decay=0.0, nesterov=False, dampening=0.3),
    dict(lr=0.05, momentum=0.7, weight_decay=1e-2, nesterov=False, dampening=0.1,
         maximize=True),
    dict(lr=0.1, momentum=0.0, weight_decay=1e-2, nesterov=False, maximize=True),
    dict(lr=0.05, momentum=0.8, weight_decay=0.0, nesterov=True, maximize=True),
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("hp", SGD_CASES, ids=ids(SGD_CASES))
def test_sgd_matches_torch(hp, shape):
    start = rand(np.random.default_rng(1), *shape)
    grads = grads_for(shape, 2)
    param, buf = start.copy(), rand(np.random.default_rng(3), *shape)  # buf garbage before step 1
    buf_before = buf.copy()
    t_param = torch.nn.Parameter(torch.tensor(start))
    opt = torch.optim.SGD([t_param], **hp)
    for step, g in enumerate(grads):
        assert sgd_step_cpu(param, g, buf, first_step=(step == 0), **hp) is param
        t_param.grad = torch.tensor(g)
        opt.step()
        assert_close(param, t_param.detach().numpy(), TORCH_TOL,
                     what=f"param after step {step + 1}")
        if hp["momentum"]:
            assert_close(buf, opt.state[t_param]["momentum_buffer"].numpy(), TORCH_TOL,
                         what="momentum buffer")
        else:
            np.testing.assert_array_equal(buf, buf_before)   # unused, untouched


def sgd_reference(p, grads, lr, momentum, weight_decay, nesterov, dampening=0.0,
                  maximize=False):
    b = None
    for g in grads:
        d = -g if maximize else g.astype(np.float64)
        d = d + weight_decay * p
        if momentum:
            b = d.copy() if b is None else momentum * b + (1 - dampening) * d
            d = d + momentum * b if nesterov else b
        p = p - lr * d
    return p, b


@pytest.mark.parametrize("hp", SGD_CASES, ids=ids(SGD_CASES))
def test_sgd_matches_numpy_reference(hp):
    shape = (65,)
    grads = grads_for(shape, 4)
    param = rand(np.random.default_rng(5), *shape)
    buf = np.full(shape, np.nan, np.float32)   # the first step must write all of it
    p64, b64 = sgd_reference(param.astype(np.float64), grads, **hp)
    for step, g in enumerate(grads):
        sgd_step_cpu(param, g, buf, first_step=(step == 0), **hp)
    assert_close(param, p64, F64_TOL)
    if hp["momentum"]:
        assert_close(buf, b64, F64_TOL)


ADAM_CASES = [
    dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2),
    dict(lr=0.1, betas=(0.0, 0.5), eps=1e-3, weight_decay=0.0),      # lerp weight 1
    dict(lr=1e-2, betas=(0.3, 0.9), eps=1e-8, weight_decay=0.0),     # lerp weight 0.7
    dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-2, amsgrad=True),
    dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-2, maximize=True),
    dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1, decoupled_weight_decay=True),
    dict(lr=1e-2, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, decoupled_weight_decay=True,
         amsgrad=True, maximize=True),
]


def adam_states(shape, hp):
    return {"exp_avg": np.zeros(shape, np.float32), "exp_avg_sq": np.zeros(shape, np.float32),
            "max_exp_avg_sq": np.zeros(shape, np.float32) if hp.get("amsgrad") else None}


def adam_step(param, g, step, hp, states):
    return adam_step_cpu(param, g, **states, lr=hp["lr"], beta1=hp["betas"][0],
                         beta2=hp["betas"][1], eps=hp["eps"], weight_decay=hp["weight_decay"],
                         step=step, maximize=hp.get("maximize", False),
                         decoupled_weight_decay=hp.get("decoupled_weight_decay", False))


def adam_reference(p, grads, hp):
    m, v, v_max = np.zeros(p.shape), np.zeros(p.shape), np.zeros(p.shape)
    lr, (b1, b2), eps, wd = hp["lr"], hp["betas"], hp["eps"], hp["weight_decay"]
    for t, g in enumerate(grads, start=1):
        g = -g.astype(np.float64) if hp.get("maximize") else g.astype(np.float64)
        if hp.get("decoupled_weight_decay"):
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        v_hat = (v_max if hp.get("amsgrad") else v) / (1 - b2 ** t)
        # torch's form: eps is added to sqrt(v_hat), not inside the root
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v_hat) + eps)
    return p, {"exp_avg": m, "exp_avg_sq": v, "max_exp_avg_sq": v_max}


RMSPROP_CASES = [
    dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
    dict(lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.9, centered=False),
    dict(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=0.0, momentum=0.0, centered=True),
    dict(lr=1e-2, alpha=0.3, eps=1e-6, weight_decay=1e-2, momentum=0.5, centered=True),
    dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.1, momentum=0.0, centered=False,
         maximize=True),
]


def rmsprop_states(shape, hp):
    return {"square_avg": np.zeros(shape, np.float32),
            "grad_avg": np.zeros(shape, np.float32) if hp["centered"] else None,
            "momentum_buffer": np.zeros(shape, np.float32) if hp["momentum"] > 0 else None}


def rmsprop_step(param, g, step, hp, states):
    return rmsprop_step_cpu(param, g, **states, lr=hp["lr"], alpha=hp["alpha"], eps=hp["eps"],
                            weight_decay=hp["weight_decay"], momentum=hp["momentum"],
                            centered=hp["centered"], maximize=hp.get("maximize", False))


def rmsprop_reference(p, grads, hp):
    sq, ga, b = np.zeros(p.shape), np.zeros(p.shape), np.zeros(p.shape)
    alpha, eps, mom = hp["alpha"], hp["eps"], hp["momentum"]
    for g in grads:
        g = (-g if hp.get("maximize") else g).astype(np.float64) + hp["weight_decay"] * p
        sq = alpha * sq + (1 - alpha) * g ** 2
        ga = alpha * ga + (1 - alpha) * g
        avg = np.sqrt(sq - ga ** 2 if hp["centered"] else sq) + eps
        if mom > 0:
            b = mom * b + g / avg
            p = p - hp["lr"] * b
        else:
            p = p - hp["lr"] * g / avg
    return p, {"square_avg": sq, "grad_avg": ga, "momentum_buffer": b}


ADAGRAD_CASES = [
    dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    dict(lr=0.1, lr_decay=0.3, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.5, eps=1e-6),
    dict(lr=0.1, lr_decay=0.1, weight_decay=1e-2, initial_accumulator_value=0.1, eps=1e-10,
         maximize=True),
]


def adagrad_states(shape, hp):
    return {"sum": np.full(shape, hp["initial_accumulator_value"], np.float32)}


def adagrad_step(param, g, step, hp, states):
    return adagrad_step_cpu(param, g, states["sum"], lr=hp["lr"], lr_decay=hp["lr_decay"],
                            weight_decay=hp["weight_decay"], eps=hp["eps"], step=step,
                            maximize=hp.get("maximize", False))


def adagrad_reference(p, grads, hp):
    s = np.full(p.shape, hp["initial_accumulator_value"])
    for t, g in enumerate(grads, start=1):
        g = (-g if hp.get("maximize") else g).astype(np.float64) + hp["weight_decay"] * p
        s = s + g * g
        p = p - hp["lr"] / (1 + (t - 1) * hp["lr_decay"]) * g / (np.sqrt(s) + hp["eps"])
    return p, {"sum": s}


ADADELTA_CASES = [
    dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0),
    dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=1e-2),
    dict(lr=1.0, rho=0.95, eps=1e-6, weight_decay=0.0, maximize=True),
]


def adadelta_states(shape, hp):
    return {"square_avg": np.zeros(shape, np.float32), "acc_delta": np.zeros(shape, np.float32)}


def adadelta_step(param, g, step, hp, states):
    return adadelta_step_cpu(param, g, **states, lr=hp["lr"], rho=hp["rho"], eps=hp["eps"],
                             weight_decay=hp["weight_decay"], maximize=hp.get("maximize", False))


def adadelta_reference(p, grads, hp):
    sq, acc = np.zeros(p.shape), np.zeros(p.shape)
    rho, eps = hp["rho"], hp["eps"]
    for g in grads:
        g = (-g if hp.get("maximize") else g).astype(np.float64) + hp["weight_decay"] * p
        sq = rho * sq + (1 - rho) * g * g
        delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
        acc = rho * acc + (1 - rho) * delta * delta
        p = p - hp["lr"] * delta
    return p, {"square_avg": sq, "acc_delta": acc}


class OptimizerSpec(NamedTuple):
    """How the tests below drive one optimizer's CPU twin (SGD, whose first step differs, has
    its own above)."""
    torch_class: type
    cases: list                 # torch's hyperparameters, hp
    states: Callable            # (shape, hp) -> {torch's state name: our float32 array, or
                                # None where hp leave it out}
    step: Callable              # (param, g, step, hp, states): one step in place, step from 1
    reference: Callable         # (p, grads, hp) -> (p, {state name: value}) in float64, from
                                # torch's documented algorithm, not from the kernels
    reference_shape: tuple
    seed: int                   # the torch test draws its param from seed, its grads from
                                # seed + 1; the reference test from seed + 2 and seed + 3


OPTIMIZERS = {
    "adam": OptimizerSpec(torch.optim.Adam, ADAM_CASES, adam_states, adam_step,
                          adam_reference, (130,), 6),
    "rmsprop": OptimizerSpec(torch.optim.RMSprop, RMSPROP_CASES, rmsprop_states, rmsprop_step,
                             rmsprop_reference, (97,), 10),
    "adagrad": OptimizerSpec(torch.optim.Adagrad, ADAGRAD_CASES, adagrad_states, adagrad_step,
                             adagrad_reference, (71,), 14),
    "adadelta": OptimizerSpec(torch.optim.Adadelta, ADADELTA_CASES, adadelta_states,
                              adadelta_step, adadelta_reference, (83,), 18),
}
OPTIMIZER_CASES = [pytest.param(name, hp, id=f"{name}-{hp_id}")
                   for name, optimizer in OPTIMIZERS.items()
                   for hp, hp_id in zip(optimizer.cases, ids(optimizer.cases))]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("optimizer,hp", OPTIMIZER_CASES)
def test_matches_torch(optimizer, hp, shape):
    """Over STEPS steps from the same start with the same grads, the param and every state
    array must match torch's after each step."""
    spec = OPTIMIZERS[optimizer]
    states = spec.states(shape, hp)
    start = rand(np.random.default_rng(spec.seed), *shape)
    param = start.copy()
    t_param = torch.nn.Parameter(torch.tensor(start))
    opt = spec.torch_class([t_param], **hp)
    for step, g in enumerate(grads_for(shape, spec.seed + 1), start=1):
        assert spec.step(param, g, step, hp, states) is param
        t_param.grad = torch.tensor(g)
        opt.step()
        assert_close(param, t_param.detach().numpy(), TORCH_TOL,
                     what=f"param after step {step}")
        for name, mine in states.items():
            if mine is not None:
                assert_close(mine, opt.state[t_param][name].numpy(), TORCH_TOL, what=name)


@pytest.mark.parametrize("optimizer,hp", OPTIMIZER_CASES)
def test_matches_numpy_reference(optimizer, hp):
    spec = OPTIMIZERS[optimizer]
    shape = spec.reference_shape
    param = rand(np.random.default_rng(spec.seed + 2), *shape)
    grads = grads_for(shape, spec.seed + 3)
    states = spec.states(shape, hp)
    p, expected = spec.reference(param.astype(np.float64), grads, hp)
    for step, g in enumerate(grads, start=1):
        spec.step(param, g, step, hp, states)
    assert_close(param, p, F64_TOL)
    for name, mine in states.items():
        if mine is not None:
            assert_close(mine, expected[name], F64_TOL, what=name)


def test_state_an_option_does_not_use_is_never_written():
    rng = np.random.default_rng(22)
    param, g = rand(rng, 9), rand(rng, 9)
    g_before = g.copy()
    # RMSprop without centering or momentum: the gradient stands in for the missing arrays.
    rmsprop_step_cpu(param, g, np.zeros(9, np.float32), None, None, 1e-2, 0.99, 1e-8, 0.0, 0.0,
                     False, False)
    np.testing.assert_array_equal(g, g_before)
    unused = np.full(9, np.nan, np.float32)
    sgd_step_cpu(param, g, unused, 0.1, 0.0, 0.0, False, True)
    assert np.all(np.isnan(unused)) and np.all(np.isfinite(param))


def test_bad_arguments_raise():
    x = np.ones(6, np.float32)
    for sgd, adam in ((sgd_step_cpu, adam_step_cpu), (sgd_step_cuda, adam_step_cuda)):
        with pytest.raises(ValueError, match=sgd.__name__):
            sgd(x, np.ones(5, np.float32), x.copy(), 0.1, 0.9, 0.0, False, True)
        with pytest.raises(TypeError, match=sgd.__name__):
            sgd(x, np.ones(6), x.copy(), 0.1, 0.9, 0.0, False, True)
        with pytest.raises(ValueError, match=sgd.__name__):
            sgd(x, x.copy(), np.ones(12, np.float32)[::2], 0.1, 0.9, 0.0, False, True)
        with pytest.raises(ValueError, match="nesterov"):
            sgd(x, x.copy(), x.copy(), 0.1, 0.0, 0.0, True, True)
        with pytest.raises(ValueError, match="dampening"):
            sgd(x, x.copy(), x.copy(), 0.1, 0.9, 0.0, True, True, dampening=0.1)
        with pytest.raises(ValueError, match=adam.__name__):
            adam(x, x.copy(), x.copy(), np.ones(5, np.float32), 1e-3, 0.9, 0.999, 1e-8, 0.0, 1)
        with pytest.raises(ValueError, match="step"):
            adam(x, x.copy(), x.copy(), x.copy(), 1e-3, 0.9, 0.999, 1e-8, 0.0, 0)
        with pytest.raises(ValueError, match="betas"):
            adam(x, x.copy(), x.copy(), x.copy(), 1e-3, 1.0, 0.999, 1e-8, 0.0, 1)
        with pytest.raises(ValueError, match="max_exp_avg_sq"):
            adam(x, x.copy(), x.copy(), x.copy(), 1e-3, 0.9, 0.999, 1e-8, 0.0, 1,
                 max_exp_avg_sq=np.ones(4, np.float32))
    for rmsprop in (rmsprop_step_cpu, rmsprop_step_cuda):
        with pytest.raises(ValueError, match="grad_avg is needed"):
            rmsprop(x, x.copy(), x.copy(), None, None, 1e-2, 0.99, 1e-8, 0.0, 0.0, True, False)
        with pytest.raises(ValueError, match="momentum_buffer is needed"):
            rmsprop(x, x.copy(), x.copy(), None, None, 1e-2, 0.99, 1e-8, 0.0, 0.9, False, False)
        with pytest.raises(ValueError, match="alpha"):
            rmsprop(x, x.copy(), x.copy(), None, None, 1e-2, -0.5, 1e-8, 0.0, 0.0, False, False)
    for adagrad in (adagrad_step_cpu, adagrad_step_cuda):
        with pytest.raises(ValueError, match="lr_decay"):
            adagrad(x, x.copy(), x.copy(), 1e-2, -1.0, 0.0, 1e-10, 1, False)
        with pytest.raises(ValueError, match="step counts from 1"):
            adagrad(x, x.copy(), x.copy(), 1e-2, 0.0, 0.0, 1e-10, 1.5, False)
    for adadelta in (adadelta_step_cpu, adadelta_step_cuda):
        with pytest.raises(ValueError, match="rho"):
            adadelta(x, x.copy(), x.copy(), x.copy(), 1.0, 1.5, 1e-6, 0.0, False)
        with pytest.raises(ValueError, match=adadelta.__name__):
            adadelta(x, x.copy(), x.copy(), np.ones((2, 3), np.float32), 1.0, 0.9, 1e-6, 0.0,
                     False)
    for cuda_launcher, args in ((sgd_step_cuda, (x, x.copy(), x.copy(), 0.1, 0.9, 0.0, False,
                                                 True)),
                                (adagrad_step_cuda, (x, x.copy(), x.copy(), 1e-2, 0.0, 0.0, 1e-10,
                                                     1, False))):
        with pytest.raises(TypeError, match="device array"):
            cuda_launcher(*args)
