"""The optimizers' CUDA kernels against their CPU twins in numba's simulator (state written
fresh NaN-poisoned, unused state poisoned and left untouched, blocks small and the grid capped
so that partial blocks and the grid-stride loop run), then gpucnn.optim on device "cuda"
against torch.optim, and its state_dict round trip on the device."""
import numpy as np
import pytest
from numba import cuda
from numba.cuda import config

from gpucnn import optim as gc_optim
from gpucnn.kernels import elementwise as ew
from gpucnn.kernels import optim
from tests.cudasim.small_geometry import grid_stride
from tests.engine.test_optim import CASES, continue_together, copies, run_trajectory
from tests.helpers import assert_close, poisoned, rand

SHAPE = (7, 11)   # 77 elements: three blocks of 32, the last one partial
STEPS = 3


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    if config.ENABLE_CUDASIM:
        monkeypatch.setattr(optim, "THREADS", 32)
        monkeypatch.setattr(ew, "THREADS", 32)


# With MAX_BLOCKS = 2 the launchers' grid (grid_1d) covers 64 of the 77 elements.
stride = grid_stride(ew, "MAX_BLOCKS", 2)


def dev(a):
    return cuda.to_device(a)


def host(arrays):
    return [None if a is None else a.copy_to_host() for a in arrays]


def compare_steps(cpu_fn, cuda_fn, arrays, kwargs_at, seed):
    """Run both twins STEPS times from the same state; every array must agree after each."""
    rng = np.random.default_rng(seed)
    on_device = [None if a is None else dev(a) for a in arrays]
    for step in range(1, STEPS + 1):
        g = rand(rng, *SHAPE)
        kwargs = kwargs_at(step)
        assert cuda_fn(on_device[0], dev(g), *on_device[1:], **kwargs) is on_device[0]
        cpu_fn(arrays[0], g, *arrays[1:], **kwargs)
        for name, got, want in zip(("param", "state 1", "state 2", "state 3", "state 4"),
                                   host(on_device), arrays):
            if want is not None:
                assert_close(got, want, 1e-6, what=f"{name} after step {step}")


@pytest.mark.parametrize("hp", [
    dict(lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False),
    dict(lr=0.05, momentum=0.9, weight_decay=1e-2, nesterov=False, dampening=0.2),
    dict(lr=0.05, momentum=0.8, weight_decay=5e-3, nesterov=True, maximize=True)],
    ids=["plain", "momentum-dampening-wd", "nesterov-maximize"])
def test_sgd_step(hp, stride):
    rng = np.random.default_rng(1)
    param, g = rand(rng, *SHAPE), rand(rng, *SHAPE)
    buf = poisoned(SHAPE)   # the first step writes it whole (or, with momentum 0, never)
    d_param, d_buf = dev(param), dev(buf)
    sgd_cpu = dict(hp, first_step=True)
    optim.sgd_step_cuda(d_param, dev(g), d_buf, **sgd_cpu)
    optim.sgd_step_cpu(param, g, buf, **sgd_cpu)
    assert_close(d_param.copy_to_host(), param, 1e-6, what="param")
    if hp["momentum"]:
        assert_close(d_buf.copy_to_host(), buf, 1e-6, what="buf")
    else:
        assert np.all(np.isnan(d_buf.copy_to_host()))
    compare_steps(optim.sgd_step_cpu, optim.sgd_step_cuda,
                  [param, buf if hp["momentum"] else rand(rng, *SHAPE)],
                  lambda step: dict(hp, first_step=False), 2)


@pytest.mark.parametrize("hp", [
    dict(), dict(weight_decay=1e-2, maximize=True), dict(amsgrad=True, weight_decay=1e-2),
    dict(decoupled_weight_decay=True, weight_decay=0.1, amsgrad=True), dict(beta1=0.2)],
    ids=["plain", "wd-maximize", "amsgrad", "adamw-amsgrad", "beta1-small"])
def test_adam_step(hp, stride):
    rng = np.random.default_rng(3)
    args = dict(lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.0)
    args.update({k: v for k, v in hp.items() if k != "amsgrad"})
    amsgrad = hp.get("amsgrad", False)
    arrays = [rand(rng, *SHAPE), np.zeros(SHAPE, np.float32), np.zeros(SHAPE, np.float32)]
    v_max = np.zeros(SHAPE, np.float32) if amsgrad else None

    def cpu(param, g, m, v, **kwargs):
        return optim.adam_step_cpu(param, g, m, v, max_exp_avg_sq=v_max, **kwargs)
    d_v_max = dev(v_max) if amsgrad else None

    def gpu(param, g, m, v, **kwargs):
        return optim.adam_step_cuda(param, g, m, v, max_exp_avg_sq=d_v_max, **kwargs)
    compare_steps(cpu, gpu, arrays, lambda step: dict(args, step=step), 4)
    if amsgrad:
        assert_close(d_v_max.copy_to_host(), v_max, 1e-6, what="max_exp_avg_sq")


@pytest.mark.parametrize("hp", [
    dict(momentum=0.0, centered=False), dict(momentum=0.9, centered=False),
    dict(momentum=0.0, centered=True, maximize=True),
    dict(momentum=0.5, centered=True, weight_decay=1e-2, alpha=0.3)],
    ids=["plain", "momentum", "centered-maximize", "all"])
def test_rmsprop_step(hp, stride):
    rng = np.random.default_rng(5)
    args = dict(dict(lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.0, maximize=False), **hp)
    arrays = [rand(rng, *SHAPE), np.zeros(SHAPE, np.float32),
              np.zeros(SHAPE, np.float32) if hp["centered"] else None,
              np.zeros(SHAPE, np.float32) if hp["momentum"] else None]
    compare_steps(optim.rmsprop_step_cpu, optim.rmsprop_step_cuda, arrays,
                  lambda step: args, 6)


def test_rmsprop_leaves_the_gradient_alone_when_it_stands_in_for_state():
    g = rand(np.random.default_rng(7), *SHAPE)
    d_g = dev(g)
    optim.rmsprop_step_cuda(dev(rand(np.random.default_rng(8), *SHAPE)), d_g,
                            dev(np.zeros(SHAPE, np.float32)), None, None, 1e-2, 0.99, 1e-8, 0.0,
                            0.0, False, False)
    np.testing.assert_array_equal(d_g.copy_to_host(), g)


@pytest.mark.parametrize("hp", [dict(lr_decay=0.0, weight_decay=0.0, maximize=False),
                                dict(lr_decay=0.3, weight_decay=1e-2, maximize=True)],
                         ids=["plain", "decay-wd-maximize"])
def test_adagrad_step(hp, stride):
    rng = np.random.default_rng(9)
    arrays = [rand(rng, *SHAPE), np.full(SHAPE, 0.1, np.float32)]
    compare_steps(optim.adagrad_step_cpu, optim.adagrad_step_cuda, arrays,
                  lambda step: dict(hp, lr=0.1, eps=1e-10, step=step), 10)


@pytest.mark.parametrize("hp", [dict(rho=0.9, weight_decay=0.0, maximize=False),
                                dict(rho=0.5, weight_decay=1e-2, maximize=True)],
                         ids=["plain", "wd-maximize"])
def test_adadelta_step(hp, stride):
    rng = np.random.default_rng(11)
    arrays = [rand(rng, *SHAPE), np.zeros(SHAPE, np.float32), np.zeros(SHAPE, np.float32)]
    compare_steps(optim.adadelta_step_cpu, optim.adadelta_step_cuda, arrays,
                  lambda step: dict(hp, lr=1.0, eps=1e-6), 12)


def test_cuda_launchers_refuse_host_arrays_and_bad_shapes():
    x = dev(np.ones(6, np.float32))
    with pytest.raises(TypeError, match="adadelta_step_cuda"):
        optim.adadelta_step_cuda(x, x, x, np.ones(6, np.float32), 1.0, 0.9, 1e-6, 0.0, False)
    with pytest.raises(ValueError, match="rmsprop_step_cuda"):
        optim.rmsprop_step_cuda(x, x, dev(np.ones(5, np.float32)), None, None, 1e-2, 0.99,
                                1e-8, 0.0, 0.0, False, False)


# ---------------------------------------------------------------- the optimizers on "cuda"

SIM_CASES = [("SGD", CASES["SGD"][4]), ("Adam", CASES["Adam"][5]), ("AdamW", CASES["AdamW"][1]),
             ("RMSprop", CASES["RMSprop"][3]), ("Adagrad", CASES["Adagrad"][3]),
             ("Adadelta", CASES["Adadelta"][1])]


@pytest.mark.parametrize("case", SIM_CASES, ids=lambda c: c[0])
def test_optimizer_on_cuda_matches_torch(case):
    mine, ours = run_trajectory(*case, device="cuda", steps=4)
    assert all(p.device == "cuda" for p in ours)
    for values in mine.state.values():
        assert all(v.device == ("cpu" if k == "step" else "cuda") for k, v in values.items())


@pytest.mark.parametrize("case", SIM_CASES[1:2] + SIM_CASES[3:4], ids=lambda c: c[0])
def test_state_dict_round_trip_on_cuda(case):
    name, hp = case
    mine, ours = run_trajectory(name, hp, device="cuda", steps=2)
    saved = mine.state_dict()
    assert all(v.device == ("cpu" if k == "step" else "cuda")
               for values in saved["state"].values() for k, v in values.items())
    twin_params = copies(ours)
    twin = getattr(gc_optim, name)(twin_params, **hp)
    twin.load_state_dict(saved)
    continue_together([(mine, ours), (twin, twin_params)], seed=5, steps=2)
