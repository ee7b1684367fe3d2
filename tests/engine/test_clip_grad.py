"""gpucnn.nn.utils.clip_grad_norm_ / clip_grad_value_ (and get_total_norm,
clip_grads_with_norm_) against torch.nn.utils given the same float32 gradients: the same total
norm and the same clipped gradients, for every norm type; PyTorch's edge cases and errors."""
import math

import numpy as np
import pytest
import torch

import gpucnn as gc
from gpucnn.nn import utils

SHAPES = [(3, 4), (5,), (2, 2, 3), (1,)]


def _pairs(scale=1.0, seed=0, shapes=SHAPES, device="cpu"):
    """gpucnn and torch parameters holding the same float32 gradients."""
    rng = np.random.default_rng(seed)
    grads = [(rng.normal(size=s) * scale).astype(np.float32) for s in shapes]
    ours, theirs = [], []
    for g in grads:
        p = gc.zeros(*g.shape, device=device, requires_grad=True)
        p.grad = gc.tensor(g, device=device)
        q = torch.zeros(g.shape, requires_grad=True)
        q.grad = torch.tensor(g)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


def _same_grads(ours, theirs, rtol=1e-6):
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, 0.5, math.inf, "inf", -math.inf])
@pytest.mark.parametrize("max_norm", [0.3, 1e3], ids=["clips", "leaves"])
def test_clip_grad_norm_equals_torch(norm_type, max_norm):
    ours, theirs = _pairs()
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, gc.Tensor) and total.shape == () and total.device == "cpu"
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    _same_grads(ours, theirs)


def test_clip_grad_norm_scales_to_max_norm():
    ours, _ = _pairs(scale=10.0)
    before = utils.clip_grad_norm_(ours, 2.0).item()
    assert before > 2.0
    after = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in ours))
    assert after == pytest.approx(2.0 * before / (before + 1e-6), rel=1e-5)


def test_a_single_tensor_a_generator_and_parameters_without_grad():
    ours, theirs = _pairs()
    ours[1].grad, theirs[1].grad = None, None
    total = utils.clip_grad_norm_((p for p in ours), 0.5)
    expected = torch.nn.utils.clip_grad_norm_((p for p in theirs), 0.5)
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    _same_grads([ours[0], ours[2]], [theirs[0], theirs[2]])
    assert ours[1].grad is None
    single, single_torch = _pairs(shapes=[(4, 4)])
    assert utils.clip_grad_norm_(single[0], 0.1).item() == pytest.approx(
        torch.nn.utils.clip_grad_norm_(single_torch[0], 0.1).item(), rel=1e-6)
    _same_grads(single, single_torch)


def test_no_gradients_give_a_zero_norm_as_torch():
    params = [gc.zeros(3, requires_grad=True)]
    total = utils.clip_grad_norm_(params, 1.0)
    assert total.item() == 0.0 and total.shape == () and params[0].grad is None
    with pytest.warns(UserWarning, match="empty generator"):
        assert utils.clip_grad_norm_((p for p in []), 1.0).item() == 0.0


def test_non_finite_norm():
    ours, theirs = _pairs()
    ours[0].grad = gc.tensor(np.array([[np.nan] * 4] * 3, np.float32))
    theirs[0].grad = torch.full((3, 4), float("nan"))
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert math.isnan(total.item()) and math.isnan(expected.item())
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(np.isnan(p.grad.numpy()), np.isnan(q.grad.numpy()))


@pytest.mark.parametrize("foreach", [None, True, False])
def test_foreach_gives_the_same_result(foreach):
    ours, theirs = _pairs()
    utils.clip_grad_norm_(ours, 0.4, foreach=foreach)
    torch.nn.utils.clip_grad_norm_(theirs, 0.4)
    _same_grads(ours, theirs)
    with pytest.raises(TypeError, match="foreach"):
        utils.clip_grad_norm_(ours, 0.4, foreach="yes")


def test_total_norm_and_clipping_by_a_given_norm_equal_torch():
    ours, theirs = _pairs(seed=3)
    grads = [p.grad for p in ours]
    total = utils.get_total_norm(grads, 3.0)
    expected = torch.nn.utils.get_total_norm([q.grad for q in theirs], 3.0)
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    utils.clip_grads_with_norm_(ours, 0.25, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.25, expected)
    _same_grads(ours, theirs)


def test_deprecated_clip_grad_norm_warns_as_torch():
    ours, theirs = _pairs()
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = utils.clip_grad_norm(ours, 0.5)
    assert total.item() == pytest.approx(
        torch.nn.utils.clip_grad_norm_(theirs, 0.5).item(), rel=1e-6)


@pytest.mark.parametrize("clip_value", [0.25, 1, 10.0])
def test_clip_grad_value_equals_torch(clip_value):
    ours, theirs = _pairs(scale=2.0)
    assert utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    single, single_torch = _pairs(shapes=[(6,)], scale=3.0)
    utils.clip_grad_value_(single[0], 0.5)
    torch.nn.utils.clip_grad_value_(single_torch[0], 0.5)
    np.testing.assert_array_equal(single[0].grad.numpy(), single_torch[0].grad.numpy())


def test_clipping_records_no_graph_and_keeps_training_working():
    model = gc.nn.Linear(4, 3)
    model(gc.ones(2, 4)).sum().backward()
    utils.clip_grad_norm_(model.parameters(), 0.1)
    utils.clip_grad_value_(model.parameters(), 0.01)
    for p in model.parameters():
        assert p.grad.grad_fn is None and not p.grad.requires_grad
        assert np.abs(p.grad.numpy()).max() <= 0.01


def test_bad_parameters_are_refused():
    with pytest.raises(TypeError, match="clip_grad_norm_: expected gpucnn Tensors"):
        utils.clip_grad_norm_([np.zeros(3)], 1.0)
    with pytest.raises(TypeError, match="clip_grad_value_: expected gpucnn Tensors"):
        utils.clip_grad_value_([torch.zeros(3)], 1.0)
