"""The losses against PyTorch in float64 on "cpu": every loss, functional and Module, over its
options (reductions, weights, ignore_index, label smoothing, class-index and probability
targets, 1-D / 2-D / K-D inputs), values and gradients; stability at large logits; PyTorch's
edge cases (every target ignored, empty batches); and the errors for bad input.
LOSS_CASES is shared with tests/cudasim/test_losses_sim.py, which runs them on "cuda"."""
import itertools
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gpucnn as gc
import gpucnn.nn.functional as F
from tests.helpers import assert_close, rand

CLASS_SHAPES = {"2d": (6, 5), "4d": (3, 4, 2, 3), "1d": (5,)}
IGNORES = {"none_ignored": None, "ignored_default": -100, "ignored_class": 2}


def _classes(shape):
    return shape[0] if len(shape) == 1 else shape[1]


def _labels(rng, shape, ignore):
    target_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    labels = rng.integers(0, _classes(shape), size=target_shape).astype(np.int64)
    if ignore is not None:
        labels.flat[0] = ignore
        labels.flat[-1] = ignore
        labels.flat[1] = 3 if ignore == 2 else 2   # at least one label that counts
    return labels


def _class_index_case(loss, shape_id, reduction, weighted, smoothing, ignore_id):
    shape, ignore = CLASS_SHAPES[shape_id], IGNORES[ignore_id]
    kwargs = {"reduction": reduction}
    if loss == "cross_entropy":
        kwargs["label_smoothing"] = smoothing
    if ignore is not None:
        kwargs["ignore_index"] = ignore

    def make(rng):
        scores = rand(rng, *shape) * 3
        if loss == "nll_loss":   # log-probabilities, as nll_loss expects
            scores = torch.log_softmax(torch.tensor(scores), -1 if len(shape) == 1 else 1).numpy()
        arrays = [scores, _labels(rng, shape, ignore)]
        if weighted:
            arrays.append(rng.uniform(0.2, 2.0, _classes(shape)).astype(np.float32))
        return arrays

    def fn(F, x, t, w=None):
        return getattr(F, loss)(x, t, weight=w, **kwargs)

    name = f"{loss}-{shape_id}-{reduction}-{'weight' if weighted else 'noweight'}-" \
           f"ls{smoothing}-{ignore_id}"
    return name, fn, make, (0,)


def _probability_case(shape_id, reduction, weighted, smoothing):
    shape = CLASS_SHAPES[shape_id]

    def make(rng):
        arrays = [rand(rng, *shape) * 3, rng.uniform(0.0, 1.0, shape).astype(np.float32)]
        if weighted:
            arrays.append(rng.uniform(0.2, 2.0, _classes(shape)).astype(np.float32))
        return arrays

    def fn(F, x, t, w=None):
        return F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=smoothing)

    name = f"cross_entropy_probabilities-{shape_id}-{reduction}-" \
           f"{'weight' if weighted else 'noweight'}-ls{smoothing}"
    return name, fn, make, (0, 1)


def _classification_cases():
    cases = []
    for shape_id, reduction, weighted, ignore_id in itertools.product(
            CLASS_SHAPES, ("mean", "sum", "none"), (False, True), IGNORES):
        if shape_id == "1d" and ignore_id != "none_ignored":
            continue   # a single label that is ignored is PyTorch's NaN case, tested apart
        for smoothing in (0.0, 0.15):
            cases.append(_class_index_case("cross_entropy", shape_id, reduction, weighted,
                                           smoothing, ignore_id))
        cases.append(_class_index_case("nll_loss", shape_id, reduction, weighted, 0.0,
                                       ignore_id))
    for shape_id, reduction, weighted, smoothing in itertools.product(
            CLASS_SHAPES, ("mean", "sum", "none"), (False, True), (0.0, 0.2)):
        cases.append(_probability_case(shape_id, reduction, weighted, smoothing))
    return cases


def _pair(rng, shape, spread=2.0):
    return [rand(rng, *shape) * spread, rand(rng, *shape) * spread]


def _regression_cases():
    cases = []
    for reduction in ("mean", "sum", "none"):
        def kw(extra=None, reduction=reduction):
            return {"reduction": reduction, **(extra or {})}
        cases += [
            (f"mse_loss-{reduction}", lambda F, x, t, kw=kw(): F.mse_loss(x, t, **kw),
             lambda r: _pair(r, (4, 7)), (0, 1)),
            (f"mse_loss-{reduction}-weight",
             lambda F, x, t, w, kw=kw(): F.mse_loss(x, t, weight=w, **kw),
             lambda r: _pair(r, (3, 5)) + [r.uniform(0.1, 2, (3, 5)).astype(np.float32)],
             (0, 1, 2)),
            (f"l1_loss-{reduction}", lambda F, x, t, kw=kw(): F.l1_loss(x, t, **kw),
             lambda r: _pair(r, (2, 3, 4)), (0, 1)),
            (f"l1_loss-{reduction}-weight",
             lambda F, x, t, w, kw=kw(): F.l1_loss(x, t, weight=w, **kw),
             lambda r: _pair(r, (6,)) + [r.uniform(0.1, 2, (6,)).astype(np.float32)],
             (0, 1, 2)),
            (f"huber_loss-{reduction}-weight",
             lambda F, x, t, w, kw=kw(): F.huber_loss(x, t, delta=0.7, weight=w, **kw),
             lambda r: _pair(r, (5, 4)) + [r.uniform(0.1, 2, (5, 4)).astype(np.float32)],
             (0, 1, 2)),
        ]
        for beta in (1.0, 0.3, 0.0):
            cases.append((f"smooth_l1_loss-{reduction}-beta{beta}",
                          lambda F, x, t, kw=kw({"beta": beta}): F.smooth_l1_loss(x, t, **kw),
                          lambda r: _pair(r, (5, 6)), (0, 1)))
        for delta in (1.0, 0.4, 2.5):
            cases.append((f"huber_loss-{reduction}-delta{delta}",
                          lambda F, x, t, kw=kw({"delta": delta}): F.huber_loss(x, t, **kw),
                          lambda r: _pair(r, (5, 6)), (0, 1)))
    return cases


def _probabilities(rng, *shape):
    return rng.uniform(0.02, 0.98, shape).astype(np.float32)


def _binary_cases():
    cases = []
    for reduction in ("mean", "sum", "none"):
        cases += [
            (f"binary_cross_entropy-{reduction}",
             lambda F, x, t, red=reduction: F.binary_cross_entropy(x, t, reduction=red),
             lambda r: [_probabilities(r, 4, 5), r.uniform(0, 1, (4, 5)).astype(np.float32)],
             (0, 1)),
            (f"binary_cross_entropy-{reduction}-weight",
             lambda F, x, t, w, red=reduction: F.binary_cross_entropy(x, t, w, reduction=red),
             lambda r: [_probabilities(r, 3, 4), r.integers(0, 2, (3, 4)).astype(np.float32),
                        r.uniform(0.2, 2, (4,)).astype(np.float32)], (0, 1)),
            (f"binary_cross_entropy_with_logits-{reduction}",
             lambda F, x, t, red=reduction: F.binary_cross_entropy_with_logits(
                 x, t, reduction=red),
             lambda r: [rand(r, 4, 5) * 4, r.uniform(0, 1, (4, 5)).astype(np.float32)], (0, 1)),
            (f"binary_cross_entropy_with_logits-{reduction}-weight-pos_weight",
             lambda F, x, t, w, pw, red=reduction: F.binary_cross_entropy_with_logits(
                 x, t, w, reduction=red, pos_weight=pw),
             lambda r: [rand(r, 3, 2, 4) * 4, r.uniform(0, 1, (3, 2, 4)).astype(np.float32),
                        r.uniform(0.2, 2, (2, 4)).astype(np.float32),
                        r.uniform(0.2, 3, (4,)).astype(np.float32)], (0, 1)),
            (f"binary_cross_entropy_with_logits-{reduction}-pos_weight",
             lambda F, x, t, pw, red=reduction: F.binary_cross_entropy_with_logits(
                 x, t, reduction=red, pos_weight=pw),
             lambda r: [rand(r, 6, 3) * 4, r.integers(0, 2, (6, 3)).astype(np.float32),
                        r.uniform(0.2, 3, (3,)).astype(np.float32)], (0, 1)),
        ]
    return cases


LOSS_CASES = _classification_cases() + _regression_cases() + _binary_cases()


def run_loss_case(case, device, seed=0, tol=1e-4):
    """The case's loss on gpucnn float32 tensors on `device` and on torch float64 tensors:
    the same value, and the same gradient for each input in the case's `grad_of`."""
    _, fn, make, grad_of = case
    rng = np.random.default_rng(seed)
    arrays = make(rng)
    ours = [gc.tensor(a, device=device, requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a.astype(np.float64) if a.dtype.kind == "f" else a,
                           requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    out = fn(F, *ours)
    expected = fn(TF, *theirs)
    assert out.device == device
    assert tuple(out.shape) == tuple(expected.shape), (tuple(out.shape), tuple(expected.shape))
    assert_close(out.numpy(), expected.detach().numpy(), tol, "loss")
    upstream = rng.uniform(0.5, 1.5, size=tuple(out.shape))
    out.backward(gc.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    for i in grad_of:
        assert ours[i].grad is not None, f"input {i} got no gradient"
        assert ours[i].grad.device == device
        assert_close(ours[i].grad.numpy(), theirs[i].grad.numpy(), tol, f"gradient of input {i}")
    return out


@pytest.mark.parametrize("case", LOSS_CASES, ids=lambda c: c[0])
def test_loss_matches_torch(case):
    run_loss_case(case, "cpu")


# ================================================================ the fused fast path

def _logits_labels(n=6, c=5, scale=3.0, seed=0):
    rng = np.random.default_rng(seed)
    return (gc.tensor(rand(rng, n, c) * scale, requires_grad=True),
            gc.tensor(rng.integers(0, c, n)))


def test_plain_cross_entropy_takes_the_fused_kernel():
    logits, labels = _logits_labels()
    assert type(F.cross_entropy(logits, labels).grad_fn).__name__ == "CrossEntropy"
    int32_labels = gc.tensor(labels.numpy().astype(np.int32), dtype=gc.int32)
    assert type(F.cross_entropy(logits, int32_labels).grad_fn).__name__ == "CrossEntropy"
    for other in (dict(reduction="sum"), dict(label_smoothing=0.1),
                  dict(weight=gc.ones(5)), dict(ignore_index=int(labels[0]))):
        assert type(F.cross_entropy(logits, labels, **other).grad_fn).__name__ != \
            "CrossEntropy", other


def test_int32_labels_give_the_int64_result():
    logits, labels = _logits_labels()
    as_int32 = gc.tensor(labels.numpy().astype(np.int32), dtype=gc.int32)
    for kwargs in ({}, {"reduction": "none"}, {"label_smoothing": 0.3}):
        np.testing.assert_array_equal(F.cross_entropy(logits, as_int32, **kwargs).numpy(),
                                      F.cross_entropy(logits, labels, **kwargs).numpy())


# ================================================================ stability

@pytest.mark.parametrize("kwargs", [{}, {"reduction": "none"}, {"label_smoothing": 0.1},
                                    {"weight": "w"}, {"ignore_index": 1}],
                         ids=["fused", "none", "smoothing", "weight", "ignore_index"])
def test_cross_entropy_is_stable_at_large_logits(kwargs):
    rng = np.random.default_rng(3)
    x = (rng.choice([-1.0, 1.0], (7, 4)) * rng.uniform(5e3, 1e4, (7, 4))).astype(np.float32)
    y = rng.integers(0, 4, 7)
    y[0] = 1
    if kwargs.get("weight") == "w":
        kwargs = {"weight": rng.uniform(0.5, 2, 4).astype(np.float32)}
    ours_kwargs = {k: gc.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    theirs_kwargs = {k: torch.tensor(v, dtype=torch.float64) if isinstance(v, np.ndarray) else v
                     for k, v in kwargs.items()}
    ours = gc.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = F.cross_entropy(ours, gc.tensor(y), **ours_kwargs)
    expected = TF.cross_entropy(theirs, torch.tensor(y), **theirs_kwargs)
    assert_close(out.numpy(), expected.detach().numpy(), 1e-5, "loss")
    out.sum().backward()
    expected.sum().backward()
    assert_close(ours.grad.numpy(), theirs.grad.numpy(), 1e-5, "gradient")


@pytest.mark.parametrize("pos_weight", [False, True])
def test_bce_with_logits_is_stable_at_large_logits(pos_weight):
    x = np.array([[1e4, -1e4, 30.0], [-30.0, 0.0, 1e4]], np.float32)
    t = np.array([[0.0, 1.0, 0.3], [1.0, 0.5, 1.0]], np.float32)
    pw = np.array([2.0, 0.5, 3.0], np.float32)
    ours = gc.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = F.binary_cross_entropy_with_logits(
        ours, gc.tensor(t), reduction="none", pos_weight=gc.tensor(pw) if pos_weight else None)
    expected = TF.binary_cross_entropy_with_logits(
        theirs, torch.tensor(t, dtype=torch.float64), reduction="none",
        pos_weight=torch.tensor(pw, dtype=torch.float64) if pos_weight else None)
    assert np.all(np.isfinite(out.numpy()))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_binary_cross_entropy_at_zero_and_one_is_finite_as_torch():
    """log is clamped at -100 and the gradient is PyTorch's (x - t) / max(x (1 - x), 1e-12)."""
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.25], np.float32)
    ours = gc.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = F.binary_cross_entropy(ours, gc.tensor(t), reduction="none")
    expected = TF.binary_cross_entropy(theirs, torch.tensor(t, dtype=torch.float64),
                                       reduction="none")
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-6)
    assert out.numpy()[0] == pytest.approx(100.0)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


# ================================================================ PyTorch's edge cases

@pytest.mark.parametrize("loss,kwargs", [("cross_entropy", {}),
                                         ("cross_entropy", {"label_smoothing": 0.2}),
                                         ("cross_entropy", {"weight": True}),
                                         ("nll_loss", {})])
def test_every_target_ignored_gives_nan_and_zero_gradient(loss, kwargs):
    rng = np.random.default_rng(0)
    x = rand(rng, 4, 3)
    weight = rng.uniform(0.5, 2, 3).astype(np.float32)
    ours = gc.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    kwargs = dict(kwargs)
    with_weight = kwargs.pop("weight", False)
    out = getattr(F, loss)(ours, gc.tensor([-100] * 4), **kwargs,
                           weight=gc.tensor(weight) if with_weight else None)
    expected = getattr(TF, loss)(theirs, torch.full((4,), -100), **kwargs,
                                 weight=torch.tensor(weight, dtype=torch.float64)
                                 if with_weight else None)
    assert math.isnan(out.item()) and math.isnan(expected.item())
    out.backward()
    expected.backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert not ours.grad.numpy().any()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("probabilities", [False, True])
def test_empty_batch_as_torch(reduction, probabilities):
    x = np.zeros((0, 3), np.float32)
    t = np.zeros((0, 3), np.float32) if probabilities else np.zeros((0,), np.int64)
    out = F.cross_entropy(gc.tensor(x), gc.tensor(t), reduction=reduction)
    expected = TF.cross_entropy(torch.tensor(x), torch.tensor(t), reduction=reduction)
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_zero_weight_on_every_present_class_gives_nan_as_torch():
    x = rand(np.random.default_rng(1), 4, 3)
    out = F.cross_entropy(gc.tensor(x), gc.tensor([0, 0, 0, 0]), weight=gc.tensor([0.0, 1, 2]))
    assert math.isnan(out.item())


def test_regression_target_of_another_shape_broadcasts_with_torchs_warning():
    rng = np.random.default_rng(2)
    x, t = rand(rng, 4, 1), rand(rng, 4)
    with pytest.warns(UserWarning, match="different to the input size"):
        out = F.mse_loss(gc.tensor(x), gc.tensor(t), reduction="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = TF.mse_loss(torch.tensor(x), torch.tensor(t), reduction="none")
    assert tuple(out.shape) == (4, 4)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


def test_integer_regression_target_is_promoted():
    x = gc.tensor([0.5, 1.5, 2.0])
    assert F.l1_loss(x, gc.tensor([1, 1, 1])).item() == pytest.approx(2.0 / 3)


def test_legacy_size_average_and_reduce_become_reduction():
    x, t = gc.tensor([1.0, 2.0, 4.0]), gc.tensor([0.0, 0.0, 0.0])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.mse_loss(x, t, size_average=False).item() == 21.0
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert F.l1_loss(x, t, reduce=False).shape == (3,)
    with pytest.warns(UserWarning, match="reduction='mean'"):
        loss = gc.nn.CrossEntropyLoss(size_average=True)
    assert loss.reduction == "mean"


# ================================================================ modules

def _module_pairs(rng):
    w = rng.uniform(0.5, 2, 4).astype(np.float32)
    pw = rng.uniform(0.5, 2, 4).astype(np.float32)
    logits = rand(rng, 5, 4) * 3
    labels = rng.integers(0, 4, 5)
    labels[2] = 1
    probs = rng.uniform(0.05, 0.95, (5, 4)).astype(np.float32)
    target = rng.uniform(0, 1, (5, 4)).astype(np.float32)
    return [
        ("CrossEntropyLoss", dict(weight=w, ignore_index=1, label_smoothing=0.1), logits, labels),
        ("CrossEntropyLoss", dict(reduction="sum"), logits, target),
        ("NLLLoss", dict(weight=w, reduction="none"), logits, labels),
        ("MSELoss", dict(), logits, target),
        ("L1Loss", dict(reduction="sum"), logits, target),
        ("SmoothL1Loss", dict(beta=0.5), logits, target),
        ("HuberLoss", dict(delta=0.3, reduction="none"), logits, target),
        ("BCELoss", dict(weight=w), probs, target),
        ("BCEWithLogitsLoss", dict(weight=w, pos_weight=pw), logits, target),
    ]


@pytest.mark.parametrize("index", range(9))
def test_loss_modules_match_torch(index):
    name, kwargs, x, t = _module_pairs(np.random.default_rng(4))[index]
    ours = getattr(gc.nn, name)(**{k: gc.tensor(v) if isinstance(v, np.ndarray) else v
                                   for k, v in kwargs.items()})
    theirs = getattr(torch.nn, name)(**{k: torch.tensor(v, dtype=torch.float64)
                                        if isinstance(v, np.ndarray) else v
                                        for k, v in kwargs.items()})
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    x_ours = gc.tensor(x, requires_grad=True)
    x_theirs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    t_theirs = torch.tensor(t, dtype=torch.float64) if t.dtype.kind == "f" else torch.tensor(t)
    out, expected = ours(x_ours, gc.tensor(t)), theirs(x_theirs, t_theirs)
    assert_close(out.numpy(), expected.detach().numpy(), 1e-5, name)
    out.sum().backward()
    expected.sum().backward()
    assert_close(x_ours.grad.numpy(), x_theirs.grad.numpy(), 1e-5, f"{name} gradient")


def test_loss_weights_are_buffers():
    w, pw = gc.tensor([1.0, 2.0, 3.0]), gc.tensor([0.5, 0.5, 0.5])
    loss = gc.nn.CrossEntropyLoss(weight=w)
    assert loss.weight is w and dict(loss.named_buffers()) == {"weight": w}
    assert list(loss.parameters()) == []
    assert "weight" in loss.state_dict()
    assert gc.nn.NLLLoss().weight is None and "weight" not in gc.nn.NLLLoss().state_dict()
    bce = gc.nn.BCEWithLogitsLoss(pos_weight=pw)
    assert bce.pos_weight is pw and set(dict(bce.named_buffers())) == {"pos_weight"}
    assert gc.nn.BCELoss(weight=w).weight is w
    with pytest.raises(TypeError, match="buffer"):
        gc.nn.CrossEntropyLoss(weight=[1.0, 2.0])


def test_loss_module_attributes_as_torch():
    loss = gc.nn.CrossEntropyLoss(ignore_index=3, label_smoothing=0.2, reduction="sum")
    assert (loss.ignore_index, loss.label_smoothing, loss.reduction) == (3, 0.2, "sum")
    assert gc.nn.SmoothL1Loss(beta=0.5).beta == 0.5
    assert gc.nn.HuberLoss(delta=2.0).delta == 2.0
    assert gc.nn.MSELoss().reduction == "mean"


# ================================================================ bad input

def t(*shape, seed=0):
    return gc.tensor(np.random.default_rng(seed).uniform(0.1, 0.9, shape))


def test_bad_class_targets_are_refused_before_any_kernel(no_kernels):
    with pytest.raises(ValueError, match=r"cross_entropy: labels must lie in \[0, 4\).*\[7\]"):
        F.cross_entropy(t(3, 4), gc.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match=r"nll_loss: labels must lie in \[0, 4\).*\[-1\]"):
        F.nll_loss(t(3, 4), gc.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match=r"expected target of shape \(2, 5\) for input of "
                                         r"shape \(2, 3, 5\), got \(2, 4\)"):
        F.cross_entropy(t(2, 3, 5), gc.tensor(np.zeros((2, 4), np.int64)))
    with pytest.raises(ValueError, match=r"expected target of shape \(\)"):
        F.cross_entropy(t(4), gc.tensor([1]))
    with pytest.raises(TypeError, match="integer class labels, or class probabilities of the "
                                        r"input's shape \(3, 4\)"):
        F.cross_entropy(t(3, 4), t(3, 2))
    with pytest.raises(TypeError, match="nll_loss: target must hold integer class labels"):
        F.nll_loss(t(3, 4), t(3, 4))
    with pytest.raises(TypeError, match="integer class labels"):
        F.cross_entropy(t(3, 4), gc.tensor([True, False, True]))


def test_bad_options_are_refused_before_any_kernel(no_kernels):
    labels = gc.tensor([0, 1, 2])
    with pytest.raises(ValueError, match="cross_entropy: 'avg' is not a valid value for "
                                         "reduction"):
        F.cross_entropy(t(3, 4), labels, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(t(3, 4), labels, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"weight should hold one value per class, 4 .* "
                                         r"got weight of shape \(3,\)"):
        F.cross_entropy(t(3, 4), labels, weight=t(3))
    with pytest.raises(ValueError, match=r"nll_loss: weight should hold one value per class"):
        F.nll_loss(t(3, 4), labels, weight=t(2, 2))
    with pytest.raises(ValueError, match="ignore_index=1 is not supported for class-"
                                         "probability"):
        F.cross_entropy(t(3, 4), t(3, 4), ignore_index=1)
    with pytest.raises(TypeError, match="cross_entropy: input must be a float tensor"):
        F.cross_entropy(gc.tensor([[1, 2]]), gc.tensor([0]))
    with pytest.raises(ValueError, match="cross_entropy: input must be .* got a 0-D tensor"):
        F.cross_entropy(t(), gc.tensor(0))
    with pytest.raises(TypeError, match="target must be a gpucnn Tensor"):
        F.cross_entropy(t(3, 4), [0, 1, 2])
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0"):
        F.smooth_l1_loss(t(3), t(3), beta=-1.0)
    with pytest.raises(ValueError, match="huber_loss: delta must be > 0"):
        F.huber_loss(t(3), t(3), delta=0.0)
    with pytest.raises(ValueError, match=r"mse_loss: weight and input must have the same size"):
        F.mse_loss(t(3, 2), t(3, 2), weight=t(2))
    with pytest.raises(ValueError, match=r"l1_loss: shapes \(3, 2\) and \(3,\) do not "
                                         r"broadcast"):
        F.l1_loss(t(3, 2), t(3))
    with pytest.raises(TypeError, match="mse_loss: target must be a number tensor, got bool"):
        F.mse_loss(t(2), gc.tensor([True, False]))


def test_bad_binary_operands_are_refused_before_any_kernel(no_kernels):
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target of shape \(3,\) must "
                                         r"have the input's shape \(3, 1\)"):
        F.binary_cross_entropy(t(3, 1), t(3))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target of shape"):
        F.binary_cross_entropy_with_logits(t(3, 1), t(3))
    with pytest.raises(ValueError, match=r"weight of shape \(4, 3, 2\) must broadcast to the "
                                         r"input's shape \(3, 2\)"):
        F.binary_cross_entropy(t(3, 2), t(3, 2), weight=t(4, 3, 2))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(4, 3, 2\) must broadcast"):
        F.binary_cross_entropy_with_logits(t(3, 2), t(3, 2), pos_weight=t(4, 3, 2))
    with pytest.raises(TypeError, match="binary_cross_entropy: target must be a float tensor"):
        F.binary_cross_entropy(t(3), gc.tensor([0, 1, 1]))


def test_binary_cross_entropy_refuses_values_outside_zero_one():
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1.*"
                                         "from -0.5 to 0.5.*binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(gc.tensor([0.5, -0.5]), gc.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(gc.tensor([0.5, float("nan")]), gc.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(gc.tensor([0.5, 0.5]), gc.tensor([1.5, 0.5]))
