"""gpucnn.optim against torch.optim: trajectories of every optimizer and option combination
(parameters and state after every step, torch in float32 on the same gradients), two groups
with different options, state_dict round trips (in memory, through gpucnn.save / load, from
torch's own state_dict), and what the optimizers refuse."""
import json
import math

import numpy as np
import pytest
import torch

import gpucnn as gc
from gpucnn import optim
from gpucnn.optim.state_arrays import state_dict_from_arrays, state_dict_to_arrays
from tests.helpers import assert_close

SHAPES = [(3, 5), (7,), (2, 3, 3)]
STEPS = 6
# Both sides compute in float32; torch fuses some multiply-adds that gpucnn does not, so they
# drift apart by a few ulps over the steps (kernel tests: at most 2e-6 relative seen).
TOL = 4e-6

CASES = {
    "SGD": [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9,
                                                            dampening=0.3),
            dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-2),
            dict(lr=0.05, momentum=0.7, dampening=0.1, weight_decay=1e-2, maximize=True),
            dict(lr=0.1, weight_decay=0.1, maximize=True), dict()],
    "Adam": [dict(), dict(lr=1e-2, weight_decay=1e-2), dict(lr=1e-2, amsgrad=True),
             dict(lr=1e-2, maximize=True), dict(lr=0.1, betas=(0.0, 0.5), eps=1e-3),
             dict(lr=1e-2, betas=(0.3, 0.9), amsgrad=True, weight_decay=0.1, maximize=True),
             dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)],
    "AdamW": [dict(), dict(lr=1e-2, weight_decay=0.1, amsgrad=True),
              dict(lr=1e-2, weight_decay=0.0, maximize=True)],
    "RMSprop": [dict(), dict(momentum=0.9), dict(centered=True),
                dict(lr=1e-2, alpha=0.3, momentum=0.5, centered=True, weight_decay=1e-2),
                dict(weight_decay=0.1, maximize=True)],
    "Adagrad": [dict(), dict(lr=0.1, lr_decay=0.3), dict(lr=0.1, initial_accumulator_value=0.5),
                dict(lr=0.1, lr_decay=0.1, weight_decay=1e-2, initial_accumulator_value=0.1,
                     maximize=True)],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=1e-2),
                 dict(maximize=True)],
}
ALL_CASES = [(name, hp) for name, cases in CASES.items() for hp in cases]


def case_id(case):
    name, hp = case
    return name + "".join(f"-{k}{v}" for k, v in hp.items())


def make_params(device, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    starts = [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]
    return ([gc.nn.Parameter(gc.tensor(s, device=device)) for s in starts],
            [torch.nn.Parameter(torch.tensor(s)) for s in starts])


def gradients(seed, steps=STEPS, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [[rng.uniform(-1, 1, s).astype(np.float32) for s in shapes] for _ in range(steps)]


def set_grads(ours, theirs, grads, skip=None):
    for i, (p, q, g) in enumerate(zip(ours, theirs, grads)):
        p.grad = None if i == skip else gc.tensor(g, device=p.device)
        q.grad = None if i == skip else torch.tensor(g)


def assert_same_state(mine, torch_opt, ours, theirs, what, tol=TOL):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        assert_close(p.numpy(), q.detach().numpy(), tol, f"{what}: parameter {i}")
        expected = torch_opt.state.get(q, {})
        got = mine.state.get(p, {})
        assert sorted(got) == sorted(expected), f"{what}: parameter {i} state keys"
        for key, value in expected.items():
            if key == "step":
                assert float(got[key]) == float(value), f"{what}: parameter {i} step"
            else:
                assert got[key].device == p.device
                assert_close(got[key].numpy(), value.numpy(), tol, f"{what}: {i} {key}")


def step_beside_torch(mine, reference, ours, theirs, all_grads, what, skip_at=None):
    """Steps both optimizers on the same gradients (parameter 1 has none at step skip_at,
    counted from 0) and compares parameters and state after every step."""
    for step, grads in enumerate(all_grads):
        set_grads(ours, theirs, grads, skip=1 if step == skip_at else None)
        mine.step()
        reference.step()
        assert_same_state(mine, reference, ours, theirs, f"{what} step {step + 1}")


def run_trajectory(name, hp, device="cpu", steps=STEPS, seed=0):
    """Steps both optimizers on the same gradients (parameter 1 has none at step 2) and
    compares parameters and state after every step."""
    ours, theirs = make_params(device, seed)
    mine = getattr(optim, name)(ours, **hp)
    reference = getattr(torch.optim, name)(theirs, **hp)
    step_beside_torch(mine, reference, ours, theirs, gradients(seed + 1, steps), name, skip_at=2)
    return mine, ours


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_trajectory_matches_torch(case):
    run_trajectory(*case)


GROUP_CASES = {
    "SGD": ([dict(lr=0.05, momentum=0.9), dict(lr=0.1, nesterov=True, momentum=0.5,
                                               weight_decay=1e-2)], dict(lr=0.01)),
    "Adam": ([dict(lr=1e-2, amsgrad=True), dict(betas=(0.5, 0.9), maximize=True)],
             dict(lr=3e-3)),
    "AdamW": ([dict(weight_decay=0.5), dict(lr=1e-2, weight_decay=0.0)], dict(lr=1e-3)),
    "RMSprop": ([dict(centered=True), dict(momentum=0.9, alpha=0.9)], dict(lr=5e-3)),
    "Adagrad": ([dict(lr_decay=0.5), dict(lr=0.2, weight_decay=0.1)], dict(lr=0.05)),
    "Adadelta": ([dict(rho=0.5), dict(lr=0.3, maximize=True)], dict(lr=1.0)),
}


@pytest.mark.parametrize("name", GROUP_CASES)
def test_two_groups_with_different_options(name):
    options, defaults = GROUP_CASES[name]
    ours, theirs = make_params("cpu", 3)
    mine = getattr(optim, name)([{"params": ours[:1], **options[0]},
                                 {"params": ours[1:], **options[1]}], **defaults)
    reference = getattr(torch.optim, name)([{"params": theirs[:1], **options[0]},
                                            {"params": theirs[1:], **options[1]}], **defaults)
    assert [len(g["params"]) for g in mine.param_groups] == [1, 2]
    for ours_group, their_group in zip(mine.param_groups, reference.param_groups):
        assert {k: v for k, v in ours_group.items() if k != "params"} == \
            {k: v for k, v in their_group.items() if k != "params"}
    step_beside_torch(mine, reference, ours, theirs, gradients(4), name)


def test_add_param_group_later():
    ours, theirs = make_params("cpu", 5)
    mine = optim.Adagrad(ours[:2], lr=0.1, initial_accumulator_value=0.3)
    reference = torch.optim.Adagrad(theirs[:2], lr=0.1, initial_accumulator_value=0.3)
    assert sorted(mine.state[ours[0]]) == ["step", "sum"]   # made at construction, as torch
    assert float(mine.state[ours[0]]["step"]) == 0.0
    mine.add_param_group({"params": ours[2], "lr": 0.2, "initial_accumulator_value": 1.0})
    reference.add_param_group({"params": theirs[2], "lr": 0.2, "initial_accumulator_value": 1.0})
    step_beside_torch(mine, reference, ours, theirs, gradients(6), "Adagrad")


def test_state_is_keyed_by_the_parameter_and_step_counts_like_torch():
    mine, ours = run_trajectory("Adam", dict(lr=1e-2), steps=3)
    state = mine.state[ours[0]]
    assert isinstance(state["step"], gc.Tensor) and state["step"].dtype == gc.float32
    assert float(state["step"]) == 3.0 and float(mine.state[ours[1]]["step"]) == 2.0
    assert isinstance(state["exp_avg"], gc.Tensor) and state["exp_avg"].shape == ours[0].shape
    sgd = optim.SGD(ours, lr=0.1)   # momentum 0: no state at all, as torch's SGD
    set_grads(ours, make_params("cpu")[1], gradients(1)[0])
    sgd.step()
    assert sgd.state_dict()["state"] == {}


# ---------------------------------------------------------------- state dicts

def continue_together(runs, seed, steps=3):
    """Step every (optimizer, params) on the same gradients: they must stay bit-identical."""
    for grads in gradients(seed, steps):
        for opt, params in runs:
            for p, g in zip(params, grads):
                p.grad = gc.tensor(g, device=p.device)
            opt.step()
        for _, params in runs[1:]:
            for p, q in zip(runs[0][1], params):
                np.testing.assert_array_equal(p.numpy(), q.numpy())


def copies(params):
    return [gc.nn.Parameter(gc.tensor(p.numpy(), device=p.device)) for p in params]


@pytest.mark.parametrize("case", [(n, CASES[n][i]) for n, i in
                                  [("SGD", 3), ("Adam", 5), ("AdamW", 1), ("RMSprop", 3),
                                   ("Adagrad", 3), ("Adadelta", 1)]], ids=case_id)
def test_state_dict_round_trip_continues_exactly(case, tmp_path):
    name, hp = case
    mine, ours = run_trajectory(name, hp, steps=3)
    saved = mine.state_dict()
    assert set(saved) == {"state", "param_groups"}
    assert saved["param_groups"][0]["params"] == [0, 1, 2]
    in_memory_params = copies(ours)
    in_memory = getattr(optim, name)(in_memory_params, **hp)
    in_memory.load_state_dict(saved)
    # Through a file: flat arrays and the groups as JSON metadata.
    arrays, groups = state_dict_to_arrays(saved)
    gc.save(arrays, tmp_path / "opt.safetensors", metadata={"param_groups": groups})
    loaded, metadata = gc.load(tmp_path / "opt.safetensors", with_metadata=True)
    from_file_params = copies(ours)
    from_file = getattr(optim, name)(from_file_params, lr=0.5)   # options come from the file
    from_file.load_state_dict(state_dict_from_arrays(loaded,
                                                     json.loads(metadata["param_groups"])))
    assert from_file.param_groups == [{**g, "params": p} for g, p in
                                      zip(mine.param_groups, [from_file_params])]
    continue_together([(mine, ours), (in_memory, in_memory_params),
                       (from_file, from_file_params)], seed=7)


def test_state_dict_is_a_snapshot():
    mine, ours = run_trajectory("SGD", dict(lr=0.1, momentum=0.9), steps=2)
    saved = mine.state_dict()
    before = saved["state"][0]["momentum_buffer"].numpy()
    for p, g in zip(ours, gradients(9)[0]):
        p.grad = gc.tensor(g)
    mine.step()
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"].numpy(), before)


def to_gpucnn(value):
    """A torch state_dict with its tensors converted to gpucnn tensors."""
    if isinstance(value, torch.Tensor):
        return gc.tensor(value.numpy())
    if isinstance(value, dict):
        return {k: to_gpucnn(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_gpucnn(v) for v in value]
    return value


@pytest.mark.parametrize("case", [(n, CASES[n][i]) for n, i in
                                  [("SGD", 4), ("Adam", 5), ("AdamW", 1), ("RMSprop", 3),
                                   ("Adagrad", 3), ("Adadelta", 1)]], ids=case_id)
def test_a_torch_state_dict_loads(case):
    name, hp = case
    _, theirs = make_params("cpu", 11)
    reference = getattr(torch.optim, name)(theirs, **hp)
    for grads in gradients(12, 3):
        set_grads(make_params("cpu")[0], theirs, grads)
        reference.step()
    ours = [gc.nn.Parameter(q.detach().numpy()) for q in theirs]
    mine = getattr(optim, name)(ours, lr=0.77)
    mine.load_state_dict(to_gpucnn(reference.state_dict()))
    assert mine.param_groups[0]["lr"] == reference.param_groups[0]["lr"]
    step_beside_torch(mine, reference, ours, theirs, gradients(13, 3), "after loading,")


class TestLoadStateDictRefuses:
    def optimizer(self):
        mine, ours = run_trajectory("Adam", dict(lr=1e-2, amsgrad=True), steps=2)
        return mine, ours, mine.state_dict()

    def unchanged(self, mine, bad, match):
        before = mine.state_dict()
        with pytest.raises(ValueError, match=match):
            mine.load_state_dict(bad)
        after = mine.state_dict()
        assert after["param_groups"] == before["param_groups"]
        for index, values in before["state"].items():
            for key, value in values.items():
                np.testing.assert_array_equal(after["state"][index][key].numpy(), value.numpy())

    def test_a_misshaped_buffer(self):
        mine, _, good = self.optimizer()
        bad = {"state": {k: dict(v) for k, v in good["state"].items()},
               "param_groups": [{**good["param_groups"][0], "lr": 0.5}]}
        bad["state"][2]["exp_avg"] = gc.zeros(7)
        self.unchanged(mine, bad, r"state 'exp_avg' of parameter 2 has shape \(7,\)")

    def test_an_unknown_state_name(self):
        mine, _, good = self.optimizer()
        bad = {"state": {**good["state"], 1: {**good["state"][1], "momentum_buffer": gc.zeros(7)}},
               "param_groups": good["param_groups"]}
        self.unchanged(mine, bad, "unexpected state")

    def test_state_the_options_need_is_missing(self):
        mine, _, good = self.optimizer()
        state = {k: {n: v for n, v in values.items() if n != "max_exp_avg_sq"}
                 for k, values in good["state"].items()}
        self.unchanged(mine, {"state": state, "param_groups": good["param_groups"]},
                       "lacks .'max_exp_avg_sq'.")

    def test_a_bad_step(self):
        mine, _, good = self.optimizer()
        for step in (-1, 2.5, float("nan"), gc.zeros(2)):
            bad = {"state": {**good["state"], 0: {**good["state"][0], "step": step}},
                   "param_groups": good["param_groups"]}
            self.unchanged(mine, bad, "step")

    def test_groups_that_do_not_fit(self):
        mine, _, good = self.optimizer()
        group = good["param_groups"][0]
        for groups, match in (([group, group], "2 parameter groups saved, 1 here"),
                              ([{**group, "params": [0, 1]}], "has 2 parameters"),
                              ([{**group, "params": [0, 0, 1]}], "distinct"),
                              ([{**group, "lr": -1.0}], "learning rate"),
                              ([{**group, "betas": (0.9, 1.5)}], "betas"),
                              ([{**group, "momentum": 0.9}], "unknown options")):
            self.unchanged(mine, {"state": good["state"], "param_groups": groups}, match)

    def test_a_bad_implementation_switch(self):
        mine, _, good = self.optimizer()
        before = mine.state_dict()
        for option, value in (("foreach", "yes"), ("fused", 1), ("capturable", None)):
            groups = [{**good["param_groups"][0], option: value}]
            with pytest.raises(TypeError, match=option):
                mine.load_state_dict({"state": good["state"], "param_groups": groups})
            assert mine.state_dict()["param_groups"] == before["param_groups"]

    def test_state_for_a_parameter_no_group_holds(self):
        mine, _, good = self.optimizer()
        self.unchanged(mine, {"state": {**good["state"], 5: good["state"][0]},
                              "param_groups": good["param_groups"]}, "no saved group holds")

    def test_not_a_state_dict(self):
        mine, _, good = self.optimizer()
        self.unchanged(mine, {"state": good["state"]}, "'state' and 'param_groups'")
        self.unchanged(mine, {**good, "extra": 1}, "'state' and 'param_groups'")


def test_checkpoint_state_of_the_earlier_flat_format_loads():
    """Checkpoints written before the PyTorch-shaped state_dict: "<index>.<name>" arrays (SGD
    with a step count) and one group without "params"."""
    from gpucnn.training.checkpoint import optimizer_state_dict
    ours, _ = make_params("cpu")
    buffers = [np.full(p.shape, 0.5, np.float32) for p in ours]
    arrays = {f"{i}.{name}": value for i, b in enumerate(buffers)
              for name, value in (("step", np.array(4, np.int64)), ("momentum_buffer", b))}
    groups = [{"lr": 0.03, "momentum": 0.9, "weight_decay": 0.0, "nesterov": False}]
    sgd = optim.SGD(ours, lr=0.1, momentum=0.9)
    sgd.load_state_dict(optimizer_state_dict(arrays, groups, "sgd"))
    assert sgd.param_groups[0]["lr"] == 0.03 and sgd.param_groups[0]["dampening"] == 0
    np.testing.assert_array_equal(sgd.state[ours[2]]["momentum_buffer"].numpy(), buffers[2])
    adam_arrays = {"0.step": np.array(3, np.int64), "0.exp_avg": buffers[0],
                   "0.exp_avg_sq": buffers[0]}
    adam = optim.Adam(ours[:1])
    adam.load_state_dict(optimizer_state_dict(adam_arrays, [{"lr": 1e-3, "betas": [0.9, 0.999],
                                                             "eps": 1e-8, "weight_decay": 0.0}],
                                              "adam"))
    assert float(adam.state[ours[0]]["step"]) == 3.0 and adam.param_groups[0]["betas"] == \
        (0.9, 0.999)


# ---------------------------------------------------------------- the rest of the API

def test_defaults_and_signatures_match_torch():
    import inspect
    for name in CASES:
        ours = inspect.signature(getattr(optim, name).__init__).parameters
        theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
        assert list(ours) == list(theirs), name
        for arg in theirs:
            assert ours[arg].kind == theirs[arg].kind, (name, arg)
            assert ours[arg].default == theirs[arg].default, (name, arg)
        params = make_params("cpu")
        ours_groups = getattr(optim, name)(params[0]).param_groups[0]
        their_groups = getattr(torch.optim, name)(params[1]).param_groups[0]
        assert {k: v for k, v in ours_groups.items() if k != "params"} == \
            {k: v for k, v in their_groups.items() if k != "params"}, name


# torch's implementation switches: accepted, with torch's groups and torch's numbers. torch
# runs capturable=True on the CPU only with fused=True; gpucnn's result is compared with
# torch's without it there (the same update either way).
SWITCHES = [("SGD", dict(lr=0.05, momentum=0.9, foreach=True)),
            ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, fused=True)),
            ("SGD", dict(lr=0.1, foreach=False, fused=False)),
            ("Adam", dict(lr=1e-2, foreach=True)), ("Adam", dict(lr=1e-2, fused=True)),
            ("Adam", dict(lr=1e-2, capturable=True, amsgrad=True)),
            ("Adam", dict(lr=1e-2, fused=True, capturable=True, weight_decay=0.1)),
            ("AdamW", dict(lr=1e-2, fused=True, amsgrad=True)),
            ("AdamW", dict(lr=1e-2, foreach=True, capturable=True, maximize=True)),
            ("RMSprop", dict(foreach=True, centered=True, momentum=0.5)),
            ("RMSprop", dict(capturable=True, foreach=False)),
            ("Adagrad", dict(lr=0.1, fused=True)), ("Adagrad", dict(lr=0.1, foreach=True,
                                                                    lr_decay=0.1)),
            ("Adadelta", dict(foreach=True)), ("Adadelta", dict(capturable=True, rho=0.5))]


@pytest.mark.parametrize("case", SWITCHES, ids=case_id)
def test_implementation_switches_give_torchs_groups_and_numbers(case):
    name, hp = case
    ours, theirs = make_params("cpu", 21)
    mine = getattr(optim, name)(ours, **hp)
    their_groups = getattr(torch.optim, name)(make_params("cpu")[1], **hp).param_groups
    assert [{k: v for k, v in g.items() if k != "params"} for g in mine.state_dict()
            ["param_groups"]] == [{k: v for k, v in g.items() if k != "params"}
                                  for g in their_groups]
    runnable = {k: v for k, v in hp.items() if k != "capturable" or hp.get("fused")}
    reference = getattr(torch.optim, name)(theirs, **runnable)
    step_beside_torch(mine, reference, ours, theirs, gradients(22), name, skip_at=1)


@pytest.mark.parametrize("name, kwargs, match", [
    ("SGD", dict(fused=True, foreach=True), "`fused` and `foreach` cannot be `True` together"),
    ("Adam", dict(fused=True, differentiable=True), "`fused` does not support `differentiable`"),
    ("Adagrad", dict(fused=True, foreach=True), "`fused` and `foreach` cannot be `True`"),
    ("AdamW", dict(fused=True, differentiable=True, foreach=True), "`fused` does not support")])
def test_fused_combinations_torch_refuses_are_refused(name, kwargs, match):
    with pytest.raises(RuntimeError, match=match):
        getattr(torch.optim, name)(make_params("cpu")[1], **kwargs)
    with pytest.raises(RuntimeError, match=match):
        getattr(optim, name)(make_params("cpu")[0], **kwargs)


@pytest.mark.parametrize("name, option, value", [
    ("SGD", "foreach", "yes"), ("Adam", "fused", 1), ("RMSprop", "capturable", None),
    ("Adadelta", "differentiable", "no"), ("Adagrad", "foreach", 0)])
def test_bad_implementation_switches_are_refused(name, option, value):
    with pytest.raises(TypeError, match=f"{name}: {option} must be"):
        getattr(optim, name)(make_params("cpu")[0], **{option: value})


@pytest.mark.parametrize("name", list(CASES))
def test_differentiable_steps_parameters_without_grad_as_torch(name):
    ours, theirs = make_params("cpu", 23)
    for p, q in zip(ours, theirs):
        p.requires_grad_(False)
        q.requires_grad_(False)
    mine = getattr(optim, name)(ours, differentiable=True)
    reference = getattr(torch.optim, name)(theirs, differentiable=True)
    assert mine.param_groups[0]["differentiable"] is True
    step_beside_torch(mine, reference, ours, theirs, gradients(24, 3), name)


@pytest.mark.parametrize("name", list(CASES))
def test_differentiable_with_parameters_that_require_grad_fails_as_in_torch(name):
    ours, theirs = make_params("cpu", 25)
    grads = gradients(26, 1)[0]
    set_grads(ours, theirs, grads)
    reference = getattr(torch.optim, name)(theirs, differentiable=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        reference.step()
    mine = getattr(optim, name)(ours, differentiable=True)
    before = [p.numpy().copy() for p in ours]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        mine.step()
    for p, b in zip(ours, before):   # refused before any update
        np.testing.assert_array_equal(p.numpy(), b)


def test_what_differentiable_would_need_gradients_through_is_refused_clearly():
    x = gc.nn.Parameter(gc.tensor(np.random.default_rng(27).uniform(-1, 1, 4)))
    with pytest.raises(ValueError, match="non-leaf Tensor.*differentiable=True"):
        optim.SGD([x * 2], lr=0.1, differentiable=True)
    y = gc.nn.Parameter(gc.tensor(np.random.default_rng(28).uniform(-1, 1, 4)))
    y.requires_grad_(False)
    y.grad = x * 3   # a gradient with history: torch would record the update
    with pytest.raises(RuntimeError, match="gradient of parameter 0 .* requires grad"):
        optim.Adam([y], differentiable=True).step()


@pytest.mark.parametrize("name, kwargs, match", [
    ("SGD", dict(dampening=float("nan")), "dampening"),
    ("SGD", dict(momentum=0.9, dampening=0.5, nesterov=True), "zero dampening"),
    ("SGD", dict(maximize="yes"), "maximize must be a bool"),
    ("Adam", dict(amsgrad=2), "amsgrad must be a bool"),
    ("RMSprop", dict(alpha=-0.1), "alpha"), ("RMSprop", dict(momentum=float("inf")), "momentum"),
    ("Adagrad", dict(lr_decay=-1.0), "lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    ("Adadelta", dict(rho=1.5), "rho"), ("Adadelta", dict(eps=float("nan")), "eps"),
    ("AdamW", dict(weight_decay=-1.0), "weight_decay")])
def test_bad_options(name, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        getattr(optim, name)(make_params("cpu")[0], **kwargs)


def test_unknown_group_options_are_refused_but_scheduler_keys_kept():
    params = make_params("cpu")[0]
    with pytest.raises(ValueError, match=r"unknown options \['momentun'\]"):
        optim.SGD([{"params": params, "momentun": 0.9}])
    sgd = optim.SGD([{"params": params, "initial_lr": 0.5}], lr=0.1)
    assert sgd.param_groups[0]["initial_lr"] == 0.5


def test_named_parameters_give_param_names():
    model = gc.nn.Linear(3, 2)
    sgd = optim.SGD(model.named_parameters(), lr=0.1)
    assert sgd.param_groups[0]["param_names"] == ["weight", "bias"]
    assert sgd.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    with pytest.raises(ValueError, match="with/without names"):
        sgd.add_param_group({"params": [gc.nn.Parameter(np.ones(2, np.float32))]})


def test_zero_grad_and_closure():
    ours, _ = make_params("cpu")
    sgd = optim.SGD(ours, lr=0.1)
    for p in ours:
        p.grad = gc.ones(p.shape)
    sgd.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in ours)
    sgd.zero_grad()
    assert all(p.grad is None for p in ours)

    def closure():
        sgd.zero_grad()
        loss = sum((p * p).sum() for p in ours)
        loss.backward()
        return loss

    before = [p.numpy() for p in ours]
    loss = sgd.step(closure)
    assert math.isclose(float(loss), sum(float((b * b).sum()) for b in before), rel_tol=1e-5)
    for p, b in zip(ours, before):
        np.testing.assert_allclose(p.numpy(), b - 0.1 * 2 * b, rtol=1e-6)


def test_a_bad_gradient_stops_the_step_before_any_update():
    ours, _ = make_params("cpu")
    adam = optim.Adam(ours, lr=0.1)
    before = [p.numpy() for p in ours]
    ours[0].grad = gc.ones(ours[0].shape)
    ours[2].grad = gc.ones(4)
    with pytest.raises(ValueError, match="parameter 2"):
        adam.step()
    for p, b in zip(ours, before):
        np.testing.assert_array_equal(p.numpy(), b)
    assert not adam.state
    ours[2].grad = gc.ones(ours[2].shape, dtype=gc.int64)
    with pytest.raises(TypeError, match="float32"):
        adam.step()


def test_a_strided_gradient_is_read_correctly():
    param = gc.nn.Parameter(np.ones((3, 4), np.float32))
    grad = gc.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    param.grad = grad.t()
    optim.SGD([param], lr=1.0).step()
    np.testing.assert_array_equal(param.numpy(), 1.0 - np.arange(12).reshape(4, 3).T)


def test_repr_lists_each_group():
    text = repr(optim.SGD(make_params("cpu")[0], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9\n" in text
