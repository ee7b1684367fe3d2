"""gpucnn.utils.checkpoint against running without it and against torch.utils.checkpoint:
gradients (inputs and parameters, both variants, several outputs, keyword and nested
inputs, nesting), the dropout masks of the recomputation (preserve_rng_state), BatchNorm's
running statistics, torch 2.13's warnings and errors, and that no activation is kept."""
import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as torch_checkpoint

import gpucnn as gc
from gpucnn.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential
from tests.helpers import assert_close

VARIANTS = [True, False]


def assert_like_torch(ours, theirs, what):
    """float32 sums in another order: relative 1e-4, and absolute 1e-6 for the gradients
    that are zero up to rounding (a convolution's bias ahead of a BatchNorm)."""
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6, err_msg=what)


def block(seed=0, dropout=0.3):
    gc.manual_seed(seed)
    return gc.nn.Sequential(gc.nn.Conv2d(3, 5, 3, padding=1), gc.nn.BatchNorm2d(5),
                            gc.nn.ReLU(), gc.nn.Dropout(dropout), gc.nn.Conv2d(5, 4, 3),
                            gc.nn.ReLU(), gc.nn.Flatten(), gc.nn.Linear(4 * 5 * 3, 6))


def torch_block(ours):
    """torch's twin of block() without the dropout, with ours's weights."""
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3, padding=1), torch.nn.BatchNorm2d(5),
                                 torch.nn.ReLU(), torch.nn.Identity(), torch.nn.Conv2d(5, 4, 3),
                                 torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 5 * 3, 6))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return theirs


def data(seed=1):
    return np.random.default_rng(seed).normal(size=(2, 3, 7, 5)).astype(np.float32)


def gradients(model, x):
    return [p.grad.numpy().copy() for p in model.parameters()], x.grad.numpy().copy()


def run(model, x_array, how, seed=5):
    """Loss and gradients of model on x (grad wanted), run plainly or checkpointed."""
    x = gc.tensor(x_array, requires_grad=True)
    model.zero_grad()
    gc.manual_seed(seed)
    out = model(x) if how is None else checkpoint(model, x, use_reentrant=how)
    loss = (out * out).sum()
    loss.backward()
    return float(loss), *gradients(model, x)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_gradients_equal_those_without_checkpoint_dropout_included(use_reentrant):
    model = block()
    loss, params, grad_x = run(model, data(), None)
    loss_c, params_c, grad_x_c = run(model, data(), use_reentrant)
    assert loss == loss_c
    for a, b in zip(params, params_c):   # the same ops on the same masks: the same bits
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(grad_x, grad_x_c)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_gradients_and_running_statistics_match_torchs(use_reentrant):
    ours = block(dropout=0.0)
    theirs = torch_block(ours)
    x = gc.tensor(data(2), requires_grad=True)
    t = torch.tensor(data(2), requires_grad=True)
    (checkpoint(ours, x, use_reentrant=use_reentrant) ** 2).sum().backward()
    (torch_checkpoint.checkpoint(theirs, t, use_reentrant=use_reentrant) ** 2).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_like_torch(p.grad.numpy(), q.grad.numpy(), name)
    assert_like_torch(x.grad.numpy(), t.grad.numpy(), "input")
    # The forward and the recomputation both update BatchNorm's statistics, in both.
    assert int(ours[1].num_batches_tracked) == int(theirs[1].num_batches_tracked) == 2
    assert_close(ours[1].running_mean.numpy(), theirs[1].running_mean.numpy(), 1e-5, "mean")
    assert_close(ours[1].running_var.numpy(), theirs[1].running_var.numpy(), 1e-5, "var")


def test_the_recomputation_draws_nothing_from_the_random_stream():
    model = block()
    x = gc.tensor(data(), requires_grad=True)
    gc.manual_seed(9)
    (model(x) ** 2).sum().backward()
    after_plain = gc.rand(4).numpy()
    gc.manual_seed(9)
    (checkpoint(model, x, use_reentrant=False) ** 2).sum().backward()
    np.testing.assert_array_equal(gc.rand(4).numpy(), after_plain)


def test_without_preserve_rng_state_the_recomputation_draws_new_masks():
    model = block(dropout=0.5)
    _, params, _ = run(model, data(), None)
    x = gc.tensor(data(), requires_grad=True)
    model.zero_grad()
    gc.manual_seed(5)
    out = checkpoint(model, x, use_reentrant=False, preserve_rng_state=False)
    (out * out).sum().backward()
    assert not np.array_equal(model[0].weight.grad.numpy(), params[0])


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_several_outputs_and_non_tensor_outputs(use_reentrant):
    gc.manual_seed(3)
    layer = gc.nn.Linear(4, 3)
    rng = np.random.default_rng(4)
    a_np, b_np = rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(5, 3))

    def function(a, b):
        h = layer(a).tanh()
        return h * b, (h + b).sum(1), "label", h.argmax(1)

    results = []
    for wrapped in (False, True):
        layer.zero_grad()
        a, b = gc.tensor(a_np, requires_grad=True), gc.tensor(b_np, requires_grad=True)
        outs = checkpoint(function, a, b, use_reentrant=use_reentrant) if wrapped else \
            function(a, b)
        assert outs[2] == "label" and outs[3].dtype == gc.int64 and not outs[3].requires_grad
        ((outs[0] ** 2).sum() + (outs[1] * 3).sum()).backward()
        results.append([a.grad.numpy(), b.grad.numpy(), layer.weight.grad.numpy(),
                        layer.bias.grad.numpy()])
    for plain, checked in zip(*results):
        assert_close(checked, plain, 1e-6, "several outputs")


def test_reentrant_needs_an_input_that_requires_grad_as_torchs():
    ours = gc.nn.Linear(3, 2)
    theirs = torch.nn.Linear(3, 2)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(ours, gc.ones(4, 3), use_reentrant=True)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        their_out = torch_checkpoint.checkpoint(theirs, torch.ones(4, 3), use_reentrant=True)
    assert out.requires_grad is their_out.requires_grad is False
    # Without the reentrant variant the parameters get their gradients all the same.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = checkpoint(ours, gc.ones(4, 3), use_reentrant=False)
    their_out = torch_checkpoint.checkpoint(theirs, torch.ones(4, 3), use_reentrant=False)
    assert out.requires_grad is their_out.requires_grad is True
    out.sum().backward()
    np.testing.assert_array_equal(ours.weight.grad.numpy(), np.full((2, 3), 4.0, np.float32))


def test_keyword_and_nested_inputs_get_gradients_without_reentrant():
    rng = np.random.default_rng(6)
    arrays = [rng.normal(size=(3, 4)).astype(np.float32) for _ in range(3)]

    def function(x, pair, *, scale):
        return (x * pair[0] + pair[1]) * scale

    grads = []
    for wrapped in (False, True):
        x, y, z = (gc.tensor(a, requires_grad=True) for a in arrays)
        scale = gc.tensor(rng.normal(size=(4,)).astype(np.float32), requires_grad=True) \
            if not grads else gc.tensor(grads[0][3], requires_grad=True)
        out = checkpoint(function, x, [y, z], scale=scale, use_reentrant=False) if wrapped \
            else function(x, [y, z], scale=scale)
        (out ** 2).sum().backward()
        grads.append([x.grad.numpy(), y.grad.numpy(), z.grad.numpy(), scale.numpy(),
                      scale.grad.numpy()])
    for plain, checked in zip(*grads):
        np.testing.assert_array_equal(plain, checked)


def test_checkpoint_inside_checkpoint():
    model = block(dropout=0.2)
    first, rest = model[:4], model[4:]
    _, params, grad_x = run(model, data(), None)
    x = gc.tensor(data(), requires_grad=True)
    model.zero_grad()
    gc.manual_seed(5)

    def outer(v):
        return rest(checkpoint(first, v, use_reentrant=False))
    out = checkpoint(outer, x, use_reentrant=False)
    (out * out).sum().backward()
    for a, (_, p) in zip(params, model.named_parameters()):
        np.testing.assert_array_equal(a, p.grad.numpy())
    np.testing.assert_array_equal(grad_x, x.grad.numpy())


def test_no_activation_is_kept_only_the_inputs():
    model = block()
    x = gc.tensor(data(), requires_grad=True)
    out = checkpoint(model, x, use_reentrant=False)
    assert type(out.grad_fn).__name__ == "CheckpointBackward"
    assert out.grad_fn.inputs == [x]   # the graph holds the input, no intermediate tensor
    assert [type(f).__name__ for f, _ in out.grad_fn.next_functions] == ["AccumulateGrad"]


def test_under_no_grad_it_just_runs():
    model = block()
    with gc.no_grad():
        out = checkpoint(model, gc.tensor(data()), use_reentrant=False)
    assert out.grad_fn is None and not out.requires_grad


def test_an_input_changed_in_place_before_backward_is_an_error():
    layer = gc.nn.Linear(3, 2)
    x = gc.tensor(np.random.default_rng(7).normal(size=(2, 3)), requires_grad=True)
    h = x * 2
    out = checkpoint(layer, h, use_reentrant=False)
    with gc.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_a_recomputation_that_differs_is_a_checkpoint_error():
    calls = []

    def changing(x):
        calls.append(1)
        return x * 2 if len(calls) == 1 else (x * 2).sum()
    out = checkpoint(changing, gc.ones(3, requires_grad=True), use_reentrant=False)
    with pytest.raises(CheckpointError, match="recomputed outputs differ"):
        out.sum().backward()
    assert issubclass(CheckpointError, RuntimeError)
    x = gc.ones(3, requires_grad=True)
    checkpoint(lambda v: v * 2, x, use_reentrant=False, determinism_check="none").sum() \
        .backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_use_reentrant_must_be_passed_explicitly_as_torch_2_13_warns():
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed "
                                         "explicitly"):
        torch_checkpoint.checkpoint(torch.nn.Linear(2, 2), torch.ones(1, 2, requires_grad=True))
    with pytest.warns(UserWarning, match="torch.utils.checkpoint: the use_reentrant parameter "
                                         "should be passed explicitly"):
        out = checkpoint(gc.nn.Linear(2, 2), gc.ones(1, 2, requires_grad=True))
    assert out.requires_grad   # and it means use_reentrant=True
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant"):
        checkpoint_sequential(gc.nn.Sequential(gc.nn.Linear(2, 2), gc.nn.ReLU()), 2,
                              gc.ones(1, 2, requires_grad=True))


@pytest.mark.parametrize("call, match", [
    (lambda m, ck: ck.checkpoint(m.nn.Linear(2, 2), m.ones(1, 2), use_reentrant=True, z=1),
     "Unexpected keyword arguments: z"),
    (lambda m, ck: ck.checkpoint(m.nn.Linear(2, 2), m.ones(1, 2), use_reentrant=True,
                                 debug=True), "only supported when use_reentrant=False"),
    (lambda m, ck: ck.checkpoint(m.nn.Linear(2, 2), m.ones(1, 2), use_reentrant=False,
                                 determinism_check="all"), "determinism_check should be one of"),
    (lambda m, ck: ck.checkpoint_sequential(m.nn.Sequential(m.nn.ReLU()), 1, m.ones(2),
                                            use_reentrant=False, y=2),
     "Unexpected keyword arguments: y")])
def test_bad_arguments_are_refused_as_torch_refuses_them(call, match):
    with pytest.raises(ValueError, match=match):
        call(torch, torch_checkpoint)
    import gpucnn.utils.checkpoint as ours
    with pytest.raises(ValueError, match=match):
        call(gc, ours)


def test_context_fn_wraps_the_forward_and_the_recomputation():
    import contextlib
    seen = []

    def context_fn():
        return (contextlib.ExitStack(), contextlib.ExitStack()) if seen else \
            (_note("forward"), _note("recompute"))

    @contextlib.contextmanager
    def _note(what):
        seen.append(what)
        yield
    out = checkpoint(gc.nn.Linear(2, 2), gc.ones(1, 2, requires_grad=True),
                     use_reentrant=False, context_fn=context_fn)
    assert seen == ["forward"]
    out.sum().backward()
    assert seen == ["forward", "recompute"]


@pytest.mark.parametrize("segments", [1, 2, 3])
@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_checkpoint_sequential_gives_the_plain_gradients_and_torchs(segments, use_reentrant):
    ours = block(dropout=0.0)
    theirs = torch_block(ours)
    _, params, grad_x = run(ours, data(3), None)
    x = gc.tensor(data(3), requires_grad=True)
    t = torch.tensor(data(3), requires_grad=True)
    ours.zero_grad()
    out = checkpoint_sequential(ours, segments, x, use_reentrant=use_reentrant)
    (out * out).sum().backward()
    their_out = torch_checkpoint.checkpoint_sequential(theirs, segments, t,
                                                       use_reentrant=use_reentrant)
    (their_out * their_out).sum().backward()
    for a, (name, p), q in zip(params, ours.named_parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), a, err_msg=f"{name}: the plain run")
        assert_like_torch(p.grad.numpy(), q.grad.numpy(), f"{name} against torch")
    assert_like_torch(x.grad.numpy(), t.grad.numpy(), "input against torch")
