"""The optimizers' CPU twins against torch.optim over several steps, and against plain float64
NumPy transcriptions of the update rules (written from torch's documented algorithms, not
from the kernels), over every option."""
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


def steps_match_torch(torch_optimizer, hp, start, grads, step_cpu, states):
    """Step the CPU twin (step_cpu(param, g, step), step counting from 1, in place) and
    torch_optimizer(**hp) on a copy of start with the same grads: after every step the param
    and each state array (torch's state name: ours, None for one the options leave out) must
    match torch's."""
    param = start.copy()
    t_param = torch.nn.Parameter(torch.tensor(start))
    opt = torch_optimizer([t_param], **hp)
    for step, g in enumerate(grads, start=1):
        assert step_cpu(param, g, step) is param
        t_param.grad = torch.tensor(g)
        opt.step()
        assert_close(param, t_param.detach().numpy(), TORCH_TOL,
                     what=f"param after step {step}")
        for name, mine in states.items():
            if mine is not None:
                assert_close(mine, opt.state[t_param][name].numpy(), TORCH_TOL, what=name)


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


def adam_args(hp):
    return dict(lr=hp["lr"], beta1=hp["betas"][0], beta2=hp["betas"][1], eps=hp["eps"],
                weight_decay=hp["weight_decay"], maximize=hp.get("maximize", False),
                decoupled_weight_decay=hp.get("decoupled_weight_decay", False))


def adam_states(shape, hp):
    zeros = [np.zeros(shape, np.float32) for _ in range(3)]
    return zeros[0], zeros[1], (zeros[2] if hp.get("amsgrad") else None)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("hp", ADAM_CASES, ids=ids(ADAM_CASES))
def test_adam_matches_torch(hp, shape):
    exp_avg, exp_avg_sq, v_max = adam_states(shape, hp)
    steps_match_torch(
        torch.optim.Adam, hp, rand(np.random.default_rng(6), *shape), grads_for(shape, 7),
        lambda param, g, step: adam_step_cpu(param, g, exp_avg, exp_avg_sq, step=step,
                                             max_exp_avg_sq=v_max, **adam_args(hp)),
        {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq, "max_exp_avg_sq": v_max})


@pytest.mark.parametrize("hp", ADAM_CASES, ids=ids(ADAM_CASES))
def test_adam_matches_numpy_reference(hp):
    shape = (130,)
    grads = grads_for(shape, 8)
    param = rand(np.random.default_rng(9), *shape)
    m32, v32, v_max32 = adam_states(shape, hp)
    p, m, v, v_max = param.astype(np.float64), np.zeros(shape), np.zeros(shape), np.zeros(shape)
    lr, (b1, b2), eps, wd = hp["lr"], hp["betas"], hp["eps"], hp["weight_decay"]
    for t, g in enumerate(grads, start=1):
        adam_step_cpu(param, g, m32, v32, step=t, max_exp_avg_sq=v_max32, **adam_args(hp))
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
    assert_close(param, p, F64_TOL)
    assert_close(m32, m, F64_TOL)
    assert_close(v32, v, F64_TOL)
    if v_max32 is not None:
        assert_close(v_max32, v_max, F64_TOL)


RMSPROP_CASES = [
    dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
    dict(lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.9, centered=False),
    dict(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=0.0, momentum=0.0, centered=True),
    dict(lr=1e-2, alpha=0.3, eps=1e-6, weight_decay=1e-2, momentum=0.5, centered=True),
    dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.1, momentum=0.0, centered=False,
         maximize=True),
]


def rmsprop_states(shape, hp):
    zeros = [np.zeros(shape, np.float32) for _ in range(3)]
    return (zeros[0], zeros[1] if hp["centered"] else None,
            zeros[2] if hp["momentum"] > 0 else None)


def rmsprop_args(hp):
    return dict(lr=hp["lr"], alpha=hp["alpha"], eps=hp["eps"], weight_decay=hp["weight_decay"],
                momentum=hp["momentum"], centered=hp["centered"],
                maximize=hp.get("maximize", False))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("hp", RMSPROP_CASES, ids=ids(RMSPROP_CASES))
def test_rmsprop_matches_torch(hp, shape):
    square_avg, grad_avg, buf = rmsprop_states(shape, hp)
    steps_match_torch(
        torch.optim.RMSprop, hp, rand(np.random.default_rng(10), *shape), grads_for(shape, 11),
        lambda param, g, step: rmsprop_step_cpu(param, g, square_avg, grad_avg, buf,
                                                **rmsprop_args(hp)),
        {"square_avg": square_avg, "grad_avg": grad_avg, "momentum_buffer": buf})


@pytest.mark.parametrize("hp", RMSPROP_CASES, ids=ids(RMSPROP_CASES))
def test_rmsprop_matches_numpy_reference(hp):
    shape = (97,)
    param = rand(np.random.default_rng(12), *shape)
    square_avg, grad_avg, buf = rmsprop_states(shape, hp)
    p, sq, ga, b = param.astype(np.float64), np.zeros(shape), np.zeros(shape), np.zeros(shape)
    alpha, eps, mom = hp["alpha"], hp["eps"], hp["momentum"]
    for g in grads_for(shape, 13):
        rmsprop_step_cpu(param, g, square_avg, grad_avg, buf, **rmsprop_args(hp))
        g = (-g if hp.get("maximize") else g).astype(np.float64) + hp["weight_decay"] * p
        sq = alpha * sq + (1 - alpha) * g ** 2
        ga = alpha * ga + (1 - alpha) * g
        avg = np.sqrt(sq - ga ** 2 if hp["centered"] else sq) + eps
        if mom > 0:
            b = mom * b + g / avg
            p = p - hp["lr"] * b
        else:
            p = p - hp["lr"] * g / avg
    assert_close(param, p, F64_TOL)
    assert_close(square_avg, sq, F64_TOL)
    if grad_avg is not None:
        assert_close(grad_avg, ga, F64_TOL)
    if buf is not None:
        assert_close(buf, b, F64_TOL)


ADAGRAD_CASES = [
    dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    dict(lr=0.1, lr_decay=0.3, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.5, eps=1e-6),
    dict(lr=0.1, lr_decay=0.1, weight_decay=1e-2, initial_accumulator_value=0.1, eps=1e-10,
         maximize=True),
]


def adagrad_args(hp):
    return dict(lr=hp["lr"], lr_decay=hp["lr_decay"], weight_decay=hp["weight_decay"],
                eps=hp["eps"], maximize=hp.get("maximize", False))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("hp", ADAGRAD_CASES, ids=ids(ADAGRAD_CASES))
def test_adagrad_matches_torch(hp, shape):
    state_sum = np.full(shape, hp["initial_accumulator_value"], np.float32)
    steps_match_torch(
        torch.optim.Adagrad, hp, rand(np.random.default_rng(14), *shape), grads_for(shape, 15),
        lambda param, g, step: adagrad_step_cpu(param, g, state_sum, step=step,
                                                **adagrad_args(hp)),
        {"sum": state_sum})


@pytest.mark.parametrize("hp", ADAGRAD_CASES, ids=ids(ADAGRAD_CASES))
def test_adagrad_matches_numpy_reference(hp):
    shape = (71,)
    param = rand(np.random.default_rng(16), *shape)
    state_sum = np.full(shape, hp["initial_accumulator_value"], np.float32)
    p, s = param.astype(np.float64), np.full(shape, hp["initial_accumulator_value"])
    for t, g in enumerate(grads_for(shape, 17), start=1):
        adagrad_step_cpu(param, g, state_sum, step=t, **adagrad_args(hp))
        g = (-g if hp.get("maximize") else g).astype(np.float64) + hp["weight_decay"] * p
        s = s + g * g
        p = p - hp["lr"] / (1 + (t - 1) * hp["lr_decay"]) * g / (np.sqrt(s) + hp["eps"])
    assert_close(param, p, F64_TOL)
    assert_close(state_sum, s, F64_TOL)


ADADELTA_CASES = [
    dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0),
    dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=1e-2),
    dict(lr=1.0, rho=0.95, eps=1e-6, weight_decay=0.0, maximize=True),
]


def adadelta_args(hp):
    return dict(lr=hp["lr"], rho=hp["rho"], eps=hp["eps"], weight_decay=hp["weight_decay"],
                maximize=hp.get("maximize", False))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("hp", ADADELTA_CASES, ids=ids(ADADELTA_CASES))
def test_adadelta_matches_torch(hp, shape):
    square_avg, acc_delta = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    steps_match_torch(
        torch.optim.Adadelta, hp, rand(np.random.default_rng(18), *shape), grads_for(shape, 19),
        lambda param, g, step: adadelta_step_cpu(param, g, square_avg, acc_delta,
                                                 **adadelta_args(hp)),
        {"square_avg": square_avg, "acc_delta": acc_delta})


@pytest.mark.parametrize("hp", ADADELTA_CASES, ids=ids(ADADELTA_CASES))
def test_adadelta_matches_numpy_reference(hp):
    shape = (83,)
    param = rand(np.random.default_rng(20), *shape)
    square_avg, acc_delta = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    p, sq, acc = param.astype(np.float64), np.zeros(shape), np.zeros(shape)
    rho, eps = hp["rho"], hp["eps"]
    for g in grads_for(shape, 21):
        adadelta_step_cpu(param, g, square_avg, acc_delta, **adadelta_args(hp))
        g = (-g if hp.get("maximize") else g).astype(np.float64) + hp["weight_decay"] * p
        sq = rho * sq + (1 - rho) * g * g
        delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
        acc = rho * acc + (1 - rho) * delta * delta
        p = p - hp["lr"] * delta
    assert_close(param, p, F64_TOL)
    assert_close(square_avg, sq, F64_TOL)
    assert_close(acc_delta, acc, F64_TOL)


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
