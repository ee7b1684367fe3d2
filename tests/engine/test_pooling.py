"""Average and adaptive pooling through the engine against PyTorch in float64: values and
gradients of the functional API and the layers, return_indices, unbatched and empty inputs,
argument errors and reprs. tests/cudasim/test_avg_pool2d_sim.py runs POOL_CASES on "cuda"."""
import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gpucnn as gc
import gpucnn.nn as nn
import gpucnn.nn.functional as F
from tests.helpers import assert_close, check_op, rand

# (id, call(api, x), input shape): `api` is (functional, nn) of gpucnn or of torch, so one
# line states the same call for both.
POOL_CASES = [
    ("avg-2x2", lambda f, m, x: f.avg_pool2d(x, 2), (2, 3, 6, 7)),
    ("avg-3x3s2-pad1-ceil-include", lambda f, m, x: f.avg_pool2d(x, 3, 2, 1, True, True),
     (2, 2, 7, 6)),
    ("avg-3x3s2-pad1-ceil-exclude", lambda f, m, x: f.avg_pool2d(x, 3, 2, 1, True, False),
     (2, 2, 7, 6)),
    ("avg-4x4s3-pad2-ceil-overhang", lambda f, m, x: f.avg_pool2d(x, 4, 3, 2, ceil_mode=True),
     (1, 2, 8, 9)),
    ("avg-2x3-s1x2-divisor", lambda f, m, x: f.avg_pool2d(x, (2, 3), (1, 2), (1, 1),
                                                        divisor_override=3), (2, 2, 5, 6)),
    ("avg-keywords", lambda f, m, x: f.avg_pool2d(x, kernel_size=(3, 2), padding=(1, 0),
                                                count_include_pad=False), (1, 3, 7, 5)),
    ("avg-unbatched", lambda f, m, x: f.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
     (3, 5, 4)),
    ("avg-layer", lambda f, m, x: m.AvgPool2d(3, 2, 1, ceil_mode=True,
                                              count_include_pad=False)(x), (2, 2, 6, 7)),
    ("adaptive-avg-global", lambda f, m, x: f.adaptive_avg_pool2d(x, 1), (2, 3, 5, 4)),
    ("adaptive-avg-divides", lambda f, m, x: f.adaptive_avg_pool2d(x, (3, 2)), (2, 2, 6, 4)),
    ("adaptive-avg-does-not-divide", lambda f, m, x: f.adaptive_avg_pool2d(x, (3, 4)),
     (2, 2, 7, 9)),
    ("adaptive-avg-none", lambda f, m, x: f.adaptive_avg_pool2d(x, (None, 2)), (1, 2, 5, 7)),
    ("adaptive-avg-larger", lambda f, m, x: f.adaptive_avg_pool2d(x, (7, 5)), (2, 2, 4, 3)),
    ("adaptive-avg-unbatched", lambda f, m, x: f.adaptive_avg_pool2d(x, (2, 3)), (3, 5, 7)),
    ("adaptive-avg-layer", lambda f, m, x: m.AdaptiveAvgPool2d((2, None))(x), (2, 2, 5, 3)),
    ("adaptive-max-does-not-divide", lambda f, m, x: f.adaptive_max_pool2d(x, (3, 4)),
     (2, 2, 7, 9)),
    ("adaptive-max-global", lambda f, m, x: f.adaptive_max_pool2d(x, 1), (2, 3, 4, 5)),
    ("adaptive-max-larger", lambda f, m, x: f.adaptive_max_pool2d(x, (6, 5)), (2, 2, 4, 3)),
    ("adaptive-max-unbatched-none", lambda f, m, x: f.adaptive_max_pool2d(x, (None, 2)),
     (3, 4, 5)),
    ("adaptive-max-values-of-pair", lambda f, m, x: f.adaptive_max_pool2d(x, 3, True)[0],
     (2, 2, 7, 5)),
    ("adaptive-max-layer", lambda f, m, x: m.AdaptiveMaxPool2d((3, 2))(x), (2, 2, 5, 5)),
]

GPUCNN_API = (F, nn)
TORCH_API = (TF, torch.nn)


def run_pool_case(case, device, seed=0):
    _, call, shape = case
    x = rand(np.random.default_rng(seed), *shape)
    return check_op(functools.partial(call, *GPUCNN_API), functools.partial(call, *TORCH_API),
                    [x], device=device, tol=1e-5, grad_tol=1e-5, seed=seed)


@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pool_matches_torch(case):
    out = run_pool_case(case, "cpu")
    assert out.device == "cpu"


def check_indices(device):
    x = rand(np.random.default_rng(1), 2, 3, 7, 9)
    for inputs, size in [(x, (3, 4)), (x[1], (None, 5)), (x, 11)]:
        t = gc.tensor(inputs, device=device, requires_grad=True)
        y, idx = F.adaptive_max_pool2d(t, size, return_indices=True)
        expected_y, expected_idx = TF.adaptive_max_pool2d(torch.from_numpy(inputs), size, True)
        assert idx.dtype == gc.int64 and not idx.requires_grad and idx.device == device
        np.testing.assert_array_equal(idx.numpy(), expected_idx.numpy())
        np.testing.assert_array_equal(y.numpy(), expected_y.numpy())
    layer_y, layer_idx = nn.AdaptiveMaxPool2d(3, return_indices=True)(gc.tensor(x, device=device))
    np.testing.assert_array_equal(layer_idx.numpy(),
                                  torch.nn.AdaptiveMaxPool2d(3, True)(torch.from_numpy(x))[1])


def test_return_indices_are_torch_flat_int64_indices():
    check_indices("cpu")


def check_nan_and_ties(device):
    x = np.random.default_rng(2).integers(0, 3, size=(1, 2, 6, 7)).astype(np.float32)
    x[0, 0, 1, 1] = x[0, 0, 2, 3] = np.nan
    upstream = rand(np.random.default_rng(3), 1, 2, 4, 3)
    t = gc.tensor(x, device=device, requires_grad=True)
    y, idx = F.adaptive_max_pool2d(t, (4, 3), return_indices=True)
    y.backward(gc.tensor(upstream, device=device))
    tt = torch.tensor(x, requires_grad=True)
    ty, tidx = TF.adaptive_max_pool2d(tt, (4, 3), return_indices=True)
    ty.backward(torch.from_numpy(upstream))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())   # NaN equals NaN here
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_array_equal(t.grad.numpy(), tt.grad.numpy())


def test_adaptive_max_nan_and_ties_follow_torch():
    check_nan_and_ties("cpu")


def check_strided_input(device):
    # A transposed (non-contiguous) input pools as its contiguous copy would.
    x = rand(np.random.default_rng(4), 2, 3, 6, 7)
    for gc_fn, torch_fn in [
            (lambda t: F.avg_pool2d(t, 3, 2, 1), lambda t: TF.avg_pool2d(t, 3, 2, 1)),
            (lambda t: F.adaptive_avg_pool2d(t, (4, 2)), lambda t: TF.adaptive_avg_pool2d(t, (4, 2))),
            (lambda t: F.adaptive_max_pool2d(t, (4, 2)), lambda t: TF.adaptive_max_pool2d(t, (4, 2)))]:
        check_op(lambda t: gc_fn(t.transpose(2, 3)), lambda t: torch_fn(t.transpose(2, 3)), [x],
                 device=device, tol=1e-5, grad_tol=1e-5)


def test_strided_input():
    check_strided_input("cpu")


def check_empty(device):
    # PyTorch pools an empty batch and adaptive pools give empty outputs for output_size 0.
    for fn, shape in [(lambda f, x: f.avg_pool2d(x, 2, 2, 1, True), (0, 3, 5, 4)),
                      (lambda f, x: f.adaptive_avg_pool2d(x, (2, 3)), (0, 3, 5, 4)),
                      (lambda f, x: f.adaptive_max_pool2d(x, (2, 3)), (0, 3, 5, 4)),
                      (lambda f, x: f.adaptive_avg_pool2d(x, (0, 3)), (2, 3, 5, 4)),
                      (lambda f, x: f.adaptive_max_pool2d(x, 0), (2, 3, 5, 4))]:
        x = rand(np.random.default_rng(5), *shape)
        t = gc.tensor(x, device=device, requires_grad=True)
        y = fn(F, t)
        assert y.shape == tuple(fn(TF, torch.from_numpy(x)).shape)
        y.sum().backward()
        assert t.grad.shape == shape and not np.any(t.grad.numpy())


def test_empty_batch_and_empty_output_like_torch():
    check_empty("cpu")


def test_changed_indices_stop_the_backward():
    t = gc.tensor(rand(np.random.default_rng(6), 1, 2, 6, 6), requires_grad=True)
    y, idx = F.adaptive_max_pool2d(t, 3, return_indices=True)
    idx.zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---------------------------------------------------------------------- arguments and errors

def t(*shape, dtype=np.float32):
    return gc.tensor(np.ones(shape, dtype))


BAD_CALLS = [
    ("avg-rank-2", ValueError, r"avg_pool2d: input must be 3-D \(C, H, W\) or 4-D.*\(4, 8\)",
     lambda: F.avg_pool2d(t(4, 8), 2)),
    ("avg-rank-5", ValueError, r"avg_pool2d: input .*\(1, 1, 1, 4, 4\)",
     lambda: F.avg_pool2d(t(1, 1, 1, 4, 4), 2)),
    ("avg-empty-channels", ValueError, r"avg_pool2d: input .*non-empty C, H and W.*\(2, 0, 4, 4\)",
     lambda: F.avg_pool2d(t(2, 0, 4, 4), 2)),
    ("avg-int-tensor", TypeError, r"avg_pool2d: input must be a float tensor",
     lambda: F.avg_pool2d(t(1, 1, 4, 4, dtype=np.int64), 2)),
    ("avg-not-a-tensor", TypeError, r"avg_pool2d: input must be a gpucnn Tensor",
     lambda: F.avg_pool2d(np.ones((1, 1, 4, 4), np.float32), 2)),
    ("avg-padding>kernel/2", ValueError,
     r"avg_pool2d: padding \(2, 2\) must be at most half the kernel size \(3, 3\).*\(1, 1, 8, 8\)",
     lambda: F.avg_pool2d(t(1, 1, 8, 8), 3, 1, 2)),
    ("avg-kernel>padded-input", ValueError,
     r"avg_pool2d: kernel 6x6 is larger than the padded input 5x5.*\(1, 1, 3, 3\)",
     lambda: F.avg_pool2d(t(1, 1, 3, 3), 6, padding=1)),
    ("avg-stride-0", ValueError, r"avg_pool2d: .*stride \(0, 0\) must be >= 1",
     lambda: F.avg_pool2d(t(1, 1, 4, 4), 2, 0)),
    ("avg-kernel-triple", ValueError, r"avg_pool2d: kernel_size must be an int or a pair",
     lambda: F.avg_pool2d(t(1, 1, 4, 4), (2, 2, 2))),
    ("avg-kernel-float", TypeError, r"avg_pool2d: kernel_size must be an int",
     lambda: F.avg_pool2d(t(1, 1, 4, 4), 2.0)),
    ("avg-divisor-zero", ValueError, r"avg_pool2d: divisor_override must not be zero",
     lambda: F.avg_pool2d(t(1, 1, 4, 4), 2, divisor_override=0)),
    ("avg-divisor-float", TypeError, r"avg_pool2d: divisor_override must be an int or None",
     lambda: F.avg_pool2d(t(1, 1, 4, 4), 2, divisor_override=2.0)),
    ("avg-ceil-mode-int", TypeError, r"avg_pool2d: ceil_mode must be a bool, got 1",
     lambda: F.avg_pool2d(t(1, 1, 4, 4), 2, ceil_mode=1)),
    ("avg-count-include-pad-none", TypeError, r"avg_pool2d: count_include_pad must be a bool",
     lambda: F.avg_pool2d(t(1, 1, 4, 4), 2, count_include_pad=None)),
    ("adaptive-avg-rank-2", ValueError, r"adaptive_avg_pool2d: input must be 3-D .*\(5, 6\)",
     lambda: F.adaptive_avg_pool2d(t(5, 6), 2)),
    ("adaptive-avg-empty-plane", ValueError, r"adaptive_avg_pool2d: input .*\(2, 3, 0, 4\)",
     lambda: F.adaptive_avg_pool2d(t(2, 3, 0, 4), 2)),
    ("adaptive-avg-negative", ValueError, r"adaptive_avg_pool2d: output_size must be >= 0, got -1",
     lambda: F.adaptive_avg_pool2d(t(1, 1, 4, 4), -1)),
    ("adaptive-avg-triple", ValueError, r"adaptive_avg_pool2d: output_size must be an int or a pair",
     lambda: F.adaptive_avg_pool2d(t(1, 1, 4, 4), (2, 3, 4))),
    ("adaptive-avg-one", ValueError, r"adaptive_avg_pool2d: output_size must be an int or a pair",
     lambda: F.adaptive_avg_pool2d(t(1, 1, 4, 4), (None,))),
    ("adaptive-avg-float", TypeError, r"adaptive_avg_pool2d: output_size must be an int",
     lambda: F.adaptive_avg_pool2d(t(1, 1, 4, 4), 2.5)),
    ("adaptive-avg-none", TypeError, r"adaptive_avg_pool2d: output_size must be an int",
     lambda: F.adaptive_avg_pool2d(t(1, 1, 4, 4), None)),
    ("adaptive-max-int-tensor", TypeError, r"adaptive_max_pool2d: input must be a float tensor",
     lambda: F.adaptive_max_pool2d(t(1, 1, 4, 4, dtype=np.int64), 2)),
    ("adaptive-max-rank-5", ValueError, r"adaptive_max_pool2d: input must be 3-D",
     lambda: F.adaptive_max_pool2d(t(1, 1, 1, 4, 4), 2)),
    ("adaptive-max-negative-pair", ValueError, r"adaptive_max_pool2d: output_size must be >= 0",
     lambda: F.adaptive_max_pool2d(t(1, 1, 4, 4), (None, -2))),
]


@pytest.mark.parametrize("name,error,match,call", BAD_CALLS, ids=[b[0] for b in BAD_CALLS])
def test_bad_arguments_raise_clear_errors(name, error, match, call):
    with pytest.raises(error, match=match):
        call()


BAD_LAYERS = [
    ("kernel-0", ValueError, r"AvgPool2d: kernel_size must be >= 1", lambda: nn.AvgPool2d(0)),
    ("stride-0", ValueError, r"AvgPool2d: stride must be >= 1", lambda: nn.AvgPool2d(2, 0)),
    ("padding-negative", ValueError, r"AvgPool2d: padding must be >= 0",
     lambda: nn.AvgPool2d(2, padding=-1)),
    ("kernel-float", TypeError, r"AvgPool2d: kernel_size must be an int", lambda: nn.AvgPool2d(2.5)),
    ("divisor-zero", ValueError, r"AvgPool2d: divisor_override must not be zero",
     lambda: nn.AvgPool2d(2, divisor_override=0)),
    ("adaptive-avg-negative", ValueError, r"AdaptiveAvgPool2d: output_size must be >= 0",
     lambda: nn.AdaptiveAvgPool2d(-1)),
    ("adaptive-avg-float", TypeError, r"AdaptiveAvgPool2d: output_size must be an int",
     lambda: nn.AdaptiveAvgPool2d((2, 1.5))),
    ("adaptive-max-triple", ValueError, r"AdaptiveMaxPool2d: output_size must be an int or a pair",
     lambda: nn.AdaptiveMaxPool2d((1, 2, 3))),
]


@pytest.mark.parametrize("name,error,match,call", BAD_LAYERS, ids=[b[0] for b in BAD_LAYERS])
def test_bad_layer_arguments_raise_at_construction(name, error, match, call):
    with pytest.raises(error, match=match):
        call()


LAYERS = [
    lambda m: m.AvgPool2d(3),
    lambda m: m.AvgPool2d((2, 3), 1, 1, True, False, 4),
    lambda m: m.AvgPool2d(kernel_size=2, stride=(1, 2), padding=(1, 0)),
    lambda m: m.AdaptiveAvgPool2d(1),
    lambda m: m.AdaptiveAvgPool2d((None, 3)),
    lambda m: m.AdaptiveMaxPool2d(2, return_indices=True),
    lambda m: m.AdaptiveMaxPool2d([5, None]),
]


@pytest.mark.parametrize("make", LAYERS)
def test_layers_repr_and_attributes_like_torch(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    for name in ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                 "divisor_override", "output_size", "return_indices"):
        assert getattr(ours, name, None) == getattr(theirs, name, None), name
    assert list(ours.parameters()) == [] and ours.state_dict() == {}


def test_layers_in_a_network_match_torch():
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(),
                                    torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True),
                                    torch.nn.Conv2d(4, 3, 3), torch.nn.AdaptiveMaxPool2d((2, 3)),
                                    torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).double()
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(),
                          nn.AvgPool2d(3, 2, 1, ceil_mode=True),
                          nn.Conv2d(4, 3, 3), nn.AdaptiveMaxPool2d((2, 3)),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten())
    model.load_state_dict({k: v.float().numpy() for k, v in reference.state_dict().items()})
    x = rand(np.random.default_rng(7), 2, 2, 11, 10)
    out = model(gc.tensor(x))
    expected = reference(torch.tensor(x, dtype=torch.float64))
    assert_close(out.numpy(), expected.detach().numpy(), 1e-4, "network output")
    out.sum().backward()
    expected.sum().backward()
    for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        assert_close(p.grad.numpy(), q.grad.numpy(), 1e-4, name)
