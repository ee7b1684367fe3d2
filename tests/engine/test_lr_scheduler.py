"""gpucnn.optim.lr_scheduler against torch.optim.lr_scheduler: every scheduler's learning
rates (and OneCycleLR's momentum or betas) equal to torch's, float for float, over 40 steps on
a real optimizer with two parameter groups; state_dict round trips mid-run (also through JSON,
also from torch's state_dict) continuing the same way; torch's errors."""
import json
import math
import warnings

import numpy as np
import pytest
import torch

import gpucnn as gc
from gpucnn import optim
from gpucnn.optim import lr_scheduler

STEPS = 40


def pair(optimizer="SGD", lrs=(0.1, 0.02), **options):
    """The same two-group optimizer in gpucnn and torch."""
    ours = [{"params": [gc.nn.Parameter(np.ones(3, np.float32))], "lr": lrs[0]},
            {"params": [gc.nn.Parameter(np.ones(2, np.float32))], "lr": lrs[1]}]
    theirs = [{"params": [torch.nn.Parameter(torch.ones(3))], "lr": lrs[0]},
              {"params": [torch.nn.Parameter(torch.ones(2))], "lr": lrs[1]}]
    return (getattr(optim, optimizer)(ours, **options),
            getattr(torch.optim, optimizer)(theirs, **options))


def snapshot(optimizer, scheduler):
    """What a scheduler sets: lrs, last lrs, and the momentum terms OneCycleLR cycles."""
    groups = [(g["lr"], g.get("momentum"), g.get("betas")) for g in optimizer.param_groups]
    return groups, list(scheduler.get_last_lr())


# name -> (optimizer, optimizer options, scheduler arguments for both libraries)
SCHEDULES = {
    "StepLR": ("SGD", {}, lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": ("SGD", {}, lambda m, o: m.MultiStepLR(o, milestones=[3, 10, 10, 25],
                                                           gamma=0.3)),
    "ExponentialLR": ("Adam", {}, lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    "ConstantLR": ("SGD", {}, lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=6)),
    "LinearLR": ("SGD", {}, lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9,
                                                     total_iters=15)),
    "PolynomialLR": ("SGD", {}, lambda m, o: m.PolynomialLR(o, total_iters=30, power=1.7)),
    "CosineAnnealingLR": ("SGD", {}, lambda m, o: m.CosineAnnealingLR(o, T_max=12,
                                                                       eta_min=1e-3)),
    "CosineAnnealingWarmRestarts": ("SGD", {}, lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=1e-4)),
    "LambdaLR": ("SGD", {}, lambda m, o: m.LambdaLR(o, [lambda e: 0.9 ** e,
                                                        lambda e: 1.0 / (1 + e)])),
    "MultiplicativeLR": ("SGD", {}, lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97)),
    "OneCycleLR-cos-SGD": ("SGD", {"momentum": 0.9}, lambda m, o: m.OneCycleLR(
        o, max_lr=[0.5, 0.05], total_steps=STEPS)),
    "OneCycleLR-linear-three-phase-SGD": ("SGD", {"momentum": 0.9}, lambda m, o: m.OneCycleLR(
        o, max_lr=0.4, epochs=4, steps_per_epoch=10, anneal_strategy="linear",
        three_phase=True, pct_start=0.25, div_factor=10.0, final_div_factor=100.0)),
    "OneCycleLR-Adam-betas": ("Adam", {}, lambda m, o: m.OneCycleLR(
        o, max_lr=1e-2, total_steps=STEPS, base_momentum=0.8, max_momentum=[0.9, 0.95])),
    "OneCycleLR-no-momentum": ("SGD", {}, lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, total_steps=STEPS, cycle_momentum=False, pct_start=0.5)),
    "OneCycleLR-RMSprop": ("RMSprop", {}, lambda m, o: m.OneCycleLR(
        o, max_lr=1e-2, total_steps=STEPS, three_phase=True)),
    "SequentialLR": ("SGD", {}, lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.2, total_iters=5),
            m.CosineAnnealingLR(o, T_max=20), m.ExponentialLR(o, gamma=0.9)],
        milestones=[5, 25])),
    "ChainedScheduler": ("SGD", {}, lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.95)])),
}


def step_both(ours, theirs, steps):
    """optimizer.step() then scheduler.step() in both libraries; the snapshots after each."""
    mine, reference = [], []
    for _ in range(steps):
        for opt, sched, out in ((ours[0], ours[1], mine), (theirs[0], theirs[1], reference)):
            opt.step()
            sched.step()
            out.append(snapshot(opt, sched))
    return mine, reference


def make(name):
    optimizer, options, build = SCHEDULES[name]
    ours_opt, their_opt = pair(optimizer, **options)
    return (ours_opt, build(lr_scheduler, ours_opt)), (their_opt,
                                                       build(torch.optim.lr_scheduler, their_opt))


@pytest.mark.parametrize("name", SCHEDULES)
def test_learning_rates_equal_torchs(name):
    ours, theirs = make(name)
    assert snapshot(*ours) == snapshot(*theirs)   # epoch 0, set by the constructor
    for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
        assert [g.get(key) for g in ours[0].param_groups] == \
            [g.get(key) for g in theirs[0].param_groups], key
    steps = STEPS - 1 if name.startswith("OneCycleLR") else STEPS
    mine, reference = step_both(ours, theirs, steps)
    assert mine == reference
    assert len({lrs[0][0] for lrs, _ in mine}) > 1, "the schedule should move"


@pytest.mark.parametrize("name", SCHEDULES)
def test_state_dict_mid_run_continues_the_same(name):
    ours, theirs = make(name)
    step_both(ours, theirs, 17)
    optimizer_state, scheduler_state = ours[0].state_dict(), ours[1].state_dict()
    assert "optimizer" not in scheduler_state
    # Through JSON as a checkpoint stores it (LambdaLR's functions are not in it).
    scheduler_state = json.loads(json.dumps(scheduler_state))
    resumed, _ = make(name)
    resumed[0].load_state_dict(optimizer_state)
    resumed[1].load_state_dict(scheduler_state)
    # ... and from torch's own state_dict of the same run (plain numbers and lists).
    from_torch, _ = make(name)
    from_torch[0].load_state_dict(optimizer_state)
    from_torch[1].load_state_dict(_torch_state(theirs[1]))
    rest = STEPS - 18 if name.startswith("OneCycleLR") else STEPS - 17
    expected, reference = step_both(ours, theirs, rest)
    assert expected == reference
    for other in (resumed, from_torch):
        got = []
        for _ in range(rest):
            other[0].step()
            other[1].step()
            got.append(snapshot(*other))
        assert got == expected


def _torch_state(scheduler):
    state = scheduler.state_dict()
    if "_schedulers" in state:
        state["_schedulers"] = [dict(s) for s in state["_schedulers"]]
    return state


def test_cosine_warm_restarts_with_fractional_epochs():
    for t_mult in (1, 3):
        ours_opt, their_opt = pair()
        ours = lr_scheduler.CosineAnnealingWarmRestarts(ours_opt, T_0=3, T_mult=t_mult,
                                                        eta_min=0.001)
        theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(their_opt, T_0=3,
                                                                      T_mult=t_mult,
                                                                      eta_min=0.001)
        iters = 7
        for epoch in range(8):
            for i in range(iters):
                ours_opt.step()
                their_opt.step()
                ours.step(epoch + i / iters)
                theirs.step(epoch + i / iters)
                assert snapshot(ours_opt, ours) == snapshot(their_opt, theirs)
                assert (ours.T_cur, ours.T_i, ours.last_epoch) == \
                    (theirs.T_cur, theirs.T_i, theirs.last_epoch)


def test_closed_form_when_an_epoch_is_given():
    for name in ("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR"):
        ours, theirs = make(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 11, 7, 30):
                for opt, sched in (ours, theirs):
                    opt.step()
                    sched.step(epoch)
                assert snapshot(*ours) == snapshot(*theirs), (name, epoch)


METRICS = [1.0, 0.9, 0.91, 0.92, 0.9, 0.95, 0.899, 0.85, 0.86, 0.86, 0.87, 0.88, 0.89, 0.9,
           0.91, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77, 0.69, 0.7, 0.7, 0.7, 0.7, 0.7,
           0.7, 0.71, 0.72, 0.73, 0.7, 0.7, 0.7, 0.7, 0.7]


@pytest.mark.parametrize("kwargs", [
    dict(), dict(mode="max", factor=0.5, patience=1), dict(patience=2, cooldown=2,
                                                            threshold=0.05),
    dict(patience=0, threshold_mode="abs", threshold=0.01, min_lr=[0.01, 0.005]),
    dict(patience=1, factor=0.5, min_lr=0.019, eps=1e-3)], ids=str)
def test_reduce_lr_on_plateau(kwargs):
    ours_opt, their_opt = pair()
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(their_opt, **kwargs)
    seen = set()
    for i, metric in enumerate(METRICS):
        ours_opt.step()
        their_opt.step()
        ours.step(gc.tensor(metric) if i % 2 else metric)
        theirs.step(torch.tensor(metric) if i % 2 else metric)
        assert snapshot(ours_opt, ours) == snapshot(their_opt, theirs)
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == \
            (theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter)
        seen.add(ours_opt.param_groups[0]["lr"])
        if i == 12:
            state = json.loads(json.dumps(ours.state_dict()))
            ours = lr_scheduler.ReduceLROnPlateau(ours_opt)
            ours.load_state_dict(state)
    assert len(seen) > 1


def test_one_cycle_refuses_to_step_past_total_steps_as_torch():
    ours, theirs = make("OneCycleLR-cos-SGD")
    step_both(ours, theirs, STEPS)   # last_epoch == total_steps is still allowed
    for opt, sched in (ours, theirs):
        opt.step()
        with pytest.raises(ValueError, match=f"Tried to step {STEPS + 1} times. The specified "
                                             f"number of total steps is {STEPS}"):
            sched.step()


def test_lambda_lr_state_dict_leaves_functions_out_but_keeps_callable_objects():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    ours_opt, _ = pair()
    sched = lr_scheduler.LambdaLR(ours_opt, [lambda e: 1.0, Decay(0.5)])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"rate": 0.5}]
    state["lr_lambdas"][1]["rate"] = 0.25
    other = lr_scheduler.LambdaLR(pair()[0], [lambda e: 1.0, Decay(0.5)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].rate == 0.25


def test_initial_lr_and_resuming_with_last_epoch():
    ours_opt, their_opt = pair()
    ours = lr_scheduler.StepLR(ours_opt, step_size=2)
    theirs = torch.optim.lr_scheduler.StepLR(their_opt, step_size=2)
    assert [g["initial_lr"] for g in ours_opt.param_groups] == [0.1, 0.02] == ours.base_lrs
    for _ in range(5):
        for opt, sched in ((ours_opt, ours), (their_opt, theirs)):
            opt.step()
            sched.step()
    resumed = lr_scheduler.StepLR(ours_opt, step_size=2, last_epoch=ours.last_epoch)
    resumed_torch = torch.optim.lr_scheduler.StepLR(their_opt, step_size=2,
                                                    last_epoch=theirs.last_epoch)
    assert snapshot(ours_opt, resumed) == snapshot(their_opt, resumed_torch)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(pair()[0], step_size=2, last_epoch=3)


def test_scheduler_step_before_optimizer_step_warns_as_torch():
    ours_opt, _ = pair()
    sched = lr_scheduler.ExponentialLR(ours_opt, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    ours_opt, _ = pair()
    sched = lr_scheduler.ExponentialLR(ours_opt, gamma=0.5)
    ours_opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_load_state_dict_refuses_unknown_keys_and_changes_nothing():
    ours, _ = make("SequentialLR")
    step_both(ours, make("SequentialLR")[1], 3)
    before = ours[1].state_dict()
    bad = ours[1].state_dict()
    bad["_schedulers"][1]["T_maxx"] = 3
    bad["last_epoch"] = 99
    with pytest.raises(ValueError, match="unexpected keys \\['T_maxx'\\]"):
        ours[1].load_state_dict(bad)
    assert ours[1].state_dict() == before
    with pytest.raises(ValueError, match="_schedulers must hold 3"):
        ours[1].load_state_dict({**before, "_schedulers": before["_schedulers"][:2]})


@pytest.mark.parametrize("build, error, match", [
    (lambda o: lr_scheduler.StepLR(object(), 3), TypeError, "not an Optimizer"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1), ValueError, "total_steps OR"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
     ValueError, "pct_start"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=[0.1], total_steps=10), ValueError,
     "max_lr must have the same length"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10,
                                       anneal_strategy="cosine"), ValueError, "anneal_strategy"),
    (lambda o: lr_scheduler.OneCycleLR(optim.Adagrad(o.param_groups[0]["params"]), max_lr=0.1,
                                       total_steps=10), ValueError, "momentum or beta1"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), ValueError,
     "T_mult"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "Starting"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=2), ValueError, "between 0 and 1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="low"), ValueError, "mode low"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "min_lrs"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], milestones=[3]),
     ValueError, "one more than the number of milestone"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2),
                                             lr_scheduler.StepLR(pair()[0], 2)], [3]),
     ValueError, "same optimizer"),
    (lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(o)]), ValueError,
     "ReduceLROnPlateau")])
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build(pair()[0])


def test_schedule_drives_the_updates():
    """The lr a scheduler sets is the one the next optimizer step uses."""
    param = gc.nn.Parameter(np.zeros(1, np.float32))
    sgd = optim.SGD([param], lr=1.0)
    sched = lr_scheduler.StepLR(sgd, step_size=1, gamma=0.5)
    total = 0.0
    for _ in range(4):
        param.grad = gc.ones(1)
        total += sgd.param_groups[0]["lr"]
        sgd.step()
        sched.step()
    assert math.isclose(float(param.numpy()[0]), -total) and total == 1.875
