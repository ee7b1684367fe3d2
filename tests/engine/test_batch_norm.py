"""F.batch_norm, nn.BatchNorm1d and nn.BatchNorm2d against PyTorch computing in float64 on the
same inputs: outputs, the gradients of input, weight and bias, the running statistics and
num_batches_tracked over several steps, state dicts both ways, reprs, and bad input.

The checks are functions of the device: tests/cudasim/test_batch_norm_sim.py runs them on
"cuda" under the simulator.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gpucnn as gc
import gpucnn.nn.functional as F
from tests.helpers import assert_close

TOL = 2e-5        # outputs and running statistics (float32 against float64)
GRAD_TOL = 1e-4   # gradients: sums over the batch

# (N, C), (N, C, L), (N, C, H, W) and a 5-D input (F.batch_norm takes any rank >= 2).
SHAPES = [(4, 3), (4, 3, 7), (3, 5, 7, 9), (2, 3, 2, 3, 4)]
SHAPE_IDS = ["nc", "ncl", "nchw", "5d"]


def _pair(rng, shape, requires_grad, device, low=-1.0, high=1.0):
    """(gpucnn float32 tensor on device, torch float64 tensor) holding the same values."""
    host = rng.uniform(low, high, size=shape).astype(np.float32)
    return (gc.tensor(host, device=device, requires_grad=requires_grad),
            torch.tensor(host.astype(np.float64), requires_grad=requires_grad))


def _compare_grads(pairs):
    for name, g, t in pairs:
        if t is None:
            continue
        assert g.grad is not None, f"{name} got no gradient"
        assert g.grad.device == g.device
        assert_close(g.grad.numpy(), t.grad.numpy(), GRAD_TOL, f"gradient of {name}")


def run_functional(device, shape, training, running, affine, momentum=0.1, eps=1e-5, seed=0):
    """F.batch_norm against torch's: output, gradients, running statistics after."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    x, tx = _pair(rng, shape, True, device)
    w, tw = _pair(rng, (c,), True, device) if affine in ("both", "weight") else (None, None)
    b, tb = _pair(rng, (c,), True, device) if affine in ("both", "bias") else (None, None)
    rm, trm = _pair(rng, (c,), False, device) if running else (None, None)
    rv, trv = _pair(rng, (c,), False, device, 0.5, 1.5) if running else (None, None)
    out = F.batch_norm(x, rm, rv, w, b, training, momentum, eps)
    expected = TF.batch_norm(tx, trm, trv, tw, tb, training, momentum, eps)
    assert out.shape == tuple(expected.shape) and out.device == device
    assert_close(out.numpy(), expected.detach().numpy(), TOL, "output")
    if running:
        assert rm.device == device and rv.device == device
        assert_close(rm.numpy(), trm.numpy(), TOL, "running_mean")
        assert_close(rv.numpy(), trv.numpy(), TOL, "running_var")
    upstream = rng.uniform(-1.0, 1.0, size=shape)
    out.backward(gc.tensor(upstream.astype(np.float32), device=device))
    expected.backward(torch.tensor(upstream))
    _compare_grads([("input", x, tx), ("weight", w, tw), ("bias", b, tb)])


def run_module_steps(device, cls_name, shape, steps=3, seed=0, **kwargs):
    """A gpucnn layer and torch's (float64) from one state: `steps` training steps, then one in
    evaluation, comparing outputs, gradients, buffers and state dicts at every step."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    torch_layer = getattr(torch.nn, cls_name)(c, **kwargs).double()
    if torch_layer.affine:
        with torch.no_grad():
            torch_layer.weight.uniform_(0.5, 1.5)
            if torch_layer.bias is not None:
                torch_layer.bias.uniform_(-0.5, 0.5)
    layer = getattr(gc.nn, cls_name)(c, **kwargs)
    layer.load_state_dict(torch_layer.state_dict())
    layer.to(device)
    assert repr(layer) == repr(torch_layer)
    for step in range(steps + 1):
        if step == steps:
            layer.eval()
            torch_layer.eval()
        x, tx = _pair(rng, shape, True, device, -2.0, 3.0)
        layer.zero_grad()
        torch_layer.zero_grad()
        y, ty = layer(x), torch_layer(tx)
        assert y.device == device
        assert_close(y.numpy(), ty.detach().numpy(), TOL, f"output at step {step}")
        upstream = rng.uniform(-1.0, 1.0, size=shape)
        y.backward(gc.tensor(upstream.astype(np.float32), device=device))
        ty.backward(torch.tensor(upstream))
        _compare_grads([("input", x, tx), ("weight", layer.weight, torch_layer.weight),
                        ("bias", layer.bias, torch_layer.bias)])
        compare_state_dicts(layer.state_dict(), torch_layer.state_dict(), device)
    return layer, torch_layer


def compare_state_dicts(ours, theirs, device):
    assert list(ours) == list(theirs)
    for key, value in ours.items():
        expected = theirs[key]
        assert value.device == device, key
        assert tuple(value.shape) == tuple(expected.shape), key
        if expected.dtype == torch.int64:
            assert value.dtype == gc.int64 and value.item() == expected.item(), key
        else:
            assert_close(value.numpy(), expected.numpy(), TOL, key)


MODULE_CASES = [
    ("2d-default", "BatchNorm2d", (4, 3, 5, 6), {}),
    ("2d-momentum-none", "BatchNorm2d", (3, 4, 3, 5), {"momentum": None}),
    ("2d-momentum-0.3-eps", "BatchNorm2d", (2, 3, 4, 4), {"momentum": 0.3, "eps": 1e-3}),
    ("2d-affine-false", "BatchNorm2d", (3, 2, 4, 5), {"affine": False}),
    ("2d-no-bias", "BatchNorm2d", (3, 2, 4, 5), {"bias": False}),
    ("2d-untracked", "BatchNorm2d", (4, 3, 3, 3), {"track_running_stats": False}),
    ("2d-untracked-momentum-none", "BatchNorm2d", (2, 3, 3, 4),
     {"track_running_stats": False, "momentum": None, "affine": False}),
    ("1d-2d-input", "BatchNorm1d", (6, 5), {}),
    ("1d-2d-input-momentum-none", "BatchNorm1d", (5, 4), {"momentum": None}),
    ("1d-3d-input", "BatchNorm1d", (4, 3, 7), {}),
    ("1d-3d-input-untracked", "BatchNorm1d", (4, 3, 7), {"track_running_stats": False}),
]
MODULE_IDS = [c[0] for c in MODULE_CASES]


@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_functional_training_with_running_stats(shape, affine):
    run_functional("cpu", shape, True, True, affine)


@pytest.mark.parametrize("affine", ["both", "none"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_functional_training_without_running_stats(shape, affine):
    run_functional("cpu", shape, True, False, affine, momentum=0.5)


@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_functional_eval(shape, affine):
    run_functional("cpu", shape, False, True, affine, eps=1e-3)


def test_functional_large_offset_and_large_batch():
    """Values 100 +- 2 over a batch split into many chunks: the variance must not cancel."""
    rng = np.random.default_rng(1)
    host = (100.0 + rng.uniform(-2, 2, (16, 3, 40, 40))).astype(np.float32)
    rm, rv = gc.zeros(3), gc.ones(3)
    out = F.batch_norm(gc.tensor(host), rm, rv, training=True)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    expected = TF.batch_norm(torch.tensor(host.astype(np.float64)), trm, trv, training=True)
    assert_close(out.numpy(), expected.numpy(), 1e-4, "output")
    assert_close(rv.numpy(), trv.numpy(), 1e-5, "running_var")


@pytest.mark.parametrize("case", MODULE_CASES, ids=MODULE_IDS)
def test_module_steps_match_torch(case):
    _, cls_name, shape, kwargs = case
    run_module_steps("cpu", cls_name, shape, **kwargs)


def test_buffers_and_parameters_as_torch():
    layer, torch_layer = gc.nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in layer.named_buffers()] == [n for n, _ in torch_layer.named_buffers()]
    assert layer.num_batches_tracked.shape == () and layer.num_batches_tracked.dtype == gc.int64
    assert layer.weight.requires_grad and not layer.running_mean.requires_grad
    compare_state_dicts(layer.state_dict(), torch_layer.state_dict(), "cpu")
    untracked = gc.nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert untracked.weight is None and untracked.bias is None
    assert untracked.running_mean is None and untracked.running_var is None
    assert untracked.num_batches_tracked is None
    assert list(untracked.state_dict()) == [] and list(untracked.parameters()) == []


def test_torch_state_dict_loads_and_ours_loads_into_torch():
    rng = np.random.default_rng(2)
    torch_layer = torch.nn.BatchNorm2d(3)
    for _ in range(3):
        torch_layer(torch.tensor(rng.uniform(-1, 2, (4, 3, 5, 5)).astype(np.float32)))
    with torch.no_grad():
        torch_layer.weight.uniform_(0.5, 1.5)
        torch_layer.bias.uniform_(-0.5, 0.5)
    layer = gc.nn.BatchNorm2d(3)
    result = layer.load_state_dict(torch_layer.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert layer.num_batches_tracked.item() == 3 and layer.num_batches_tracked.dtype == gc.int64
    compare_state_dicts(layer.state_dict(), torch_layer.state_dict(), "cpu")
    layer.eval()
    torch_layer.eval()
    x = rng.uniform(-1, 2, (2, 3, 4, 4)).astype(np.float32)
    assert_close(layer(gc.tensor(x)).numpy(), torch_layer(torch.tensor(x)).detach().numpy(), TOL)

    back = torch.nn.BatchNorm2d(3)
    back.load_state_dict({k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()})
    assert back.num_batches_tracked.item() == 3
    assert torch.equal(back.running_var, torch_layer.running_var)


def test_extra_repr_matches_torch():
    for kwargs in ({}, {"momentum": None}, {"eps": 1e-3, "affine": False},
                   {"track_running_stats": False}, {"bias": False}):
        assert repr(gc.nn.BatchNorm2d(7, **kwargs)) == repr(torch.nn.BatchNorm2d(7, **kwargs))
        assert repr(gc.nn.BatchNorm1d(7, **kwargs)) == repr(torch.nn.BatchNorm1d(7, **kwargs))


def test_reset_running_stats_and_parameters():
    layer = gc.nn.BatchNorm1d(3)
    layer(gc.tensor(np.random.default_rng(3).uniform(1, 2, (5, 3)).astype(np.float32)))
    with gc.no_grad():
        layer.weight.mul_(3.0)
    layer.reset_parameters()
    compare_state_dicts(layer.state_dict(), torch.nn.BatchNorm1d(3).state_dict(), "cpu")


def test_empty_batch_as_torch():
    for device in ("cpu",):
        rm, rv = gc.zeros(3, device=device), gc.ones(3, device=device)
        w = gc.ones(3, device=device, requires_grad=True)
        x = gc.zeros(0, 3, 4, device=device, requires_grad=True)
        y = F.batch_norm(x, rm, rv, w, None, True)
        assert y.shape == (0, 3, 4)
        y.sum().backward()
        assert x.grad.shape == (0, 3, 4)
        assert w.grad.numpy().tolist() == [0.0, 0.0, 0.0]
        assert rm.numpy().tolist() == [0.0] * 3 and rv.numpy().tolist() == [1.0] * 3


def test_running_stats_changed_in_place_before_backward_is_an_error_as_in_torch():
    layer = gc.nn.BatchNorm2d(3)
    x = gc.tensor(np.random.default_rng(4).uniform(-1, 1, (2, 3, 4, 4)).astype(np.float32),
                  requires_grad=True)
    y = layer(x)          # training: the batch's statistics, later updates do not matter
    layer(x * 2)
    y.sum().backward()
    layer.eval()
    y = layer(x)          # evaluation: backward reads the running statistics
    with gc.no_grad():
        layer.running_var.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_bad_input_is_refused_with_clear_errors():
    bn2, bn1 = gc.nn.BatchNorm2d(4), gc.nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input"):
        bn2(gc.zeros(2, 4, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D input"):
        bn1(gc.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input with 4 channels "
                                         r"\(num_features\).*\(2, 5, 3, 3\)"):
        bn2(gc.zeros(2, 5, 3, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected input with 4 channels"):
        bn1(gc.zeros(3, 6))
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size gpucnn.Size\(\[1, 4, 1, 1\]\)"):
        bn2(gc.zeros(1, 4, 1, 1))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn1(gc.zeros(1, 4))
    with pytest.raises(TypeError, match="BatchNorm2d: input must be a gpucnn Tensor"):
        bn2(np.zeros((2, 4, 3, 3), np.float32))
    bn2.eval()
    assert bn2(gc.zeros(1, 4, 1, 1)).shape == (1, 4, 1, 1)   # one value is fine in eval
    x = gc.zeros(2, 3, 4)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="must either both be None or neither be None"):
        F.batch_norm(x, gc.zeros(3), None, training=True)
    with pytest.raises(ValueError, match=r"running_mean should contain 3 elements .*not 4"):
        F.batch_norm(x, gc.zeros(4), gc.ones(4), training=True)
    with pytest.raises(ValueError, match=r"weight should contain 3 elements .*not 2"):
        F.batch_norm(x, None, None, gc.ones(2), training=True)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        F.batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="eps must be non-negative"):
        F.batch_norm(x, gc.zeros(3), gc.ones(3), eps=-1.0)
    with pytest.raises(TypeError, match="momentum must be a float, got None"):
        F.batch_norm(x, gc.zeros(3), gc.ones(3), training=True, momentum=None)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.batch_norm(gc.zeros(3), gc.zeros(3), gc.ones(3))
    with pytest.raises(TypeError, match="must be a float tensor"):
        F.batch_norm(gc.zeros(2, 3, dtype=gc.int64), gc.zeros(3), gc.ones(3))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        gc.nn.BatchNorm2d(0)
    with pytest.raises(TypeError, match="float32"):
        gc.nn.BatchNorm2d(3, dtype=gc.int64)


def test_strided_running_statistics_are_updated_in_place():
    rng = np.random.default_rng(5)
    host = rng.uniform(-1, 1, (4, 3, 5)).astype(np.float32)
    stats = gc.zeros(3, 2)
    with gc.no_grad():
        stats[:, 1] = 1.0
    tstats = torch.zeros(3, 2, dtype=torch.float64)
    tstats[:, 1] = 1.0
    F.batch_norm(gc.tensor(host), stats[:, 0], stats[:, 1], training=True, momentum=0.25)
    TF.batch_norm(torch.tensor(host.astype(np.float64)), tstats[:, 0], tstats[:, 1],
                  training=True, momentum=0.25)
    assert_close(stats.numpy(), tstats.numpy(), TOL, "running statistics")
