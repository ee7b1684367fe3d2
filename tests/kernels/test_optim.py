"""SGD and Adam CPU twins against torch.optim over several steps, and against a plain
float64 NumPy transcription of the update rules."""
import numpy as np
import pytest
import torch

from gpucnn.kernels.optim import adam_step_cpu, adam_step_cuda, sgd_step_cpu, sgd_step_cuda
from tests.helpers import assert_close, rand

STEPS = 5
SHAPES = [(1,), (17,), (13, 5), (4, 3, 3, 3)]


def grads_for(shape, seed):
    rng = np.random.default_rng(seed)
    return [rand(rng, *shape) for _ in range(STEPS)]


SGD_CASES = [
    dict(lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False),
    dict(lr=0.05, momentum=0.9, weight_decay=0.0, nesterov=False),
    dict(lr=0.05, momentum=0.9, weight_decay=1e-2, nesterov=False),
    dict(lr=0.05, momentum=0.8, weight_decay=5e-3, nesterov=True),
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("hp", SGD_CASES, ids=lambda h: "-".join(f"{k}{v}" for k, v in h.items()))
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
        assert_close(param, t_param.detach().numpy(), what=f"param after step {step + 1}")
        if hp["momentum"]:
            assert_close(buf, opt.state[t_param]["momentum_buffer"].numpy(), what="momentum buffer")
        else:
            np.testing.assert_array_equal(buf, buf_before)   # unused, untouched


@pytest.mark.parametrize("hp", SGD_CASES, ids=lambda h: "-".join(f"{k}{v}" for k, v in h.items()))
def test_sgd_matches_numpy_reference(hp):
    shape = (65,)
    grads = grads_for(shape, 4)
    param = rand(np.random.default_rng(5), *shape)
    buf = np.empty(shape, np.float32)
    p64, b64 = param.astype(np.float64), None
    lr, mom, wd = hp["lr"], hp["momentum"], hp["weight_decay"]
    for step, g in enumerate(grads):
        sgd_step_cpu(param, g, buf, first_step=(step == 0), **hp)
        d = g + wd * p64
        if mom:
            b64 = d.copy() if b64 is None else mom * b64 + d
            d = d + mom * b64 if hp["nesterov"] else b64
        p64 = p64 - lr * d
    assert_close(param, p64)


ADAM_CASES = [
    dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2),
    dict(lr=0.1, betas=(0.0, 0.5), eps=1e-3, weight_decay=0.0),
]


def adam_args(hp):
    return dict(lr=hp["lr"], beta1=hp["betas"][0], beta2=hp["betas"][1], eps=hp["eps"],
                weight_decay=hp["weight_decay"])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("hp", ADAM_CASES, ids=["default", "wd", "beta1_0"])
def test_adam_matches_torch(hp, shape):
    start = rand(np.random.default_rng(6), *shape)
    grads = grads_for(shape, 7)
    param = start.copy()
    exp_avg, exp_avg_sq = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    t_param = torch.nn.Parameter(torch.tensor(start))
    opt = torch.optim.Adam([t_param], **hp)
    for step, g in enumerate(grads, start=1):
        assert adam_step_cpu(param, g, exp_avg, exp_avg_sq, step=step, **adam_args(hp)) is param
        t_param.grad = torch.tensor(g)
        opt.step()
        state = opt.state[t_param]
        assert_close(param, t_param.detach().numpy(), what=f"param after step {step}")
        assert_close(exp_avg, state["exp_avg"].numpy(), what="exp_avg")
        assert_close(exp_avg_sq, state["exp_avg_sq"].numpy(), what="exp_avg_sq")


@pytest.mark.parametrize("hp", ADAM_CASES, ids=["default", "wd", "beta1_0"])
def test_adam_matches_numpy_reference(hp):
    shape = (130,)
    grads = grads_for(shape, 8)
    param = rand(np.random.default_rng(9), *shape)
    m32, v32 = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    p, m, v = param.astype(np.float64), np.zeros(shape), np.zeros(shape)
    lr, (b1, b2), eps, wd = hp["lr"], hp["betas"], hp["eps"], hp["weight_decay"]
    for t, g in enumerate(grads, start=1):
        adam_step_cpu(param, g, m32, v32, step=t, **adam_args(hp))
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        # torch's form: eps is added to sqrt(v_hat), not inside the root
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    assert_close(param, p)
    assert_close(m32, m)
    assert_close(v32, v)


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
        with pytest.raises(ValueError, match=adam.__name__):
            adam(x, x.copy(), x.copy(), np.ones(5, np.float32), 1e-3, 0.9, 0.999, 1e-8, 0.0, 1)
        with pytest.raises(ValueError, match="step"):
            adam(x, x.copy(), x.copy(), x.copy(), 1e-3, 0.9, 0.999, 1e-8, 0.0, 0)
        with pytest.raises(ValueError, match="betas"):
            adam(x, x.copy(), x.copy(), x.copy(), 1e-3, 1.0, 0.999, 1e-8, 0.0, 1)
    with pytest.raises(TypeError, match="device array"):
        sgd_step_cuda(x, x.copy(), x.copy(), 0.1, 0.9, 0.0, False, True)
