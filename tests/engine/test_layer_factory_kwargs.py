"""The layers' factory arguments (device=, dtype=) and reset_parameters() as torch's: called at
construction so that a subclass's override takes effect (airbench's Conv and BatchNorm), the
same default weights for a seed as gpucnn always drew, and the errors for what gpucnn
cannot make."""
import inspect
import math

import numpy as np
import pytest
import torch

import gpucnn as gc
from gpucnn import nn

LAYERS = {
    "Linear": (lambda **kw: nn.Linear(3, 4, **kw), lambda **kw: torch.nn.Linear(3, 4, **kw)),
    "Conv2d": (lambda **kw: nn.Conv2d(2, 3, 3, **kw),
               lambda **kw: torch.nn.Conv2d(2, 3, 3, **kw)),
    "BatchNorm1d": (lambda **kw: nn.BatchNorm1d(5, **kw),
                    lambda **kw: torch.nn.BatchNorm1d(5, **kw)),
    "BatchNorm2d": (lambda **kw: nn.BatchNorm2d(5, **kw),
                    lambda **kw: torch.nn.BatchNorm2d(5, **kw)),
    "SyncBatchNorm": (lambda **kw: nn.SyncBatchNorm(5, **kw),
                      lambda **kw: torch.nn.SyncBatchNorm(5, **kw)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_device_and_dtype_are_taken_as_torchs(name):
    ours, theirs = LAYERS[name]
    for kwargs, torch_kwargs in ((dict(device="cpu", dtype=gc.float32),
                                  dict(device="cpu", dtype=torch.float32)),
                                 (dict(device=gc.device("cpu")), dict(device="cpu")),
                                 (dict(dtype=gc.float), dict(dtype=torch.float))):
        layer, reference = ours(**kwargs), theirs(**torch_kwargs)
        assert sorted(layer.state_dict()) == sorted(reference.state_dict())
        for key, value in layer.state_dict().items():
            assert value.device == "cpu" and value.shape == tuple(reference.state_dict()[key]
                                                                  .shape), key
            assert value.dtype.name == str(reference.state_dict()[key].dtype).split(".")[-1]
    signature = inspect.signature(getattr(nn, name).__init__).parameters
    assert signature["device"].default is None and signature["dtype"].default is None


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("dtype", [gc.float64, gc.float16, gc.int64, np.float64])
def test_a_dtype_gpucnn_cannot_make_is_a_type_error_naming_the_layer(name, dtype):
    with pytest.raises(TypeError, match=f"{name}: dtype .* is not supported"):
        LAYERS[name][0](dtype=dtype)


def test_an_unknown_or_missing_device_is_refused():
    with pytest.raises(ValueError, match="unknown device"):
        nn.Linear(3, 4, device="tpu")
    if not gc.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU is available"):
            nn.Conv2d(1, 1, 1, device="cuda")


def expected_uniform(rng, shape, bound):
    """What the host generator gives: float32 draws in [0, 1) scaled to [-bound, bound)."""
    out = rng.random(shape, dtype=np.float32)
    out *= np.float32(2 * bound)
    out += np.float32(-bound)
    return out


def test_default_weights_are_the_host_streams_as_before():
    gc.manual_seed(123)
    conv = nn.Conv2d(4, 6, (3, 2), groups=2)
    linear = nn.Linear(7, 5)
    no_bias = nn.Linear(2, 3, bias=False)
    rng = np.random.default_rng(123)
    conv_bound = 1 / math.sqrt(2 * 3 * 2)
    for tensor, shape, bound in ((conv.weight, (6, 2, 3, 2), conv_bound),
                                 (conv.bias, (6,), conv_bound),
                                 (linear.weight, (5, 7), 1 / math.sqrt(7)),
                                 (linear.bias, (5,), 1 / math.sqrt(7)),
                                 (no_bias.weight, (3, 2), 1 / math.sqrt(2))):
        np.testing.assert_array_equal(tensor.numpy(), expected_uniform(rng, shape, bound))
    assert no_bias.bias is None


def test_reset_parameters_draws_again_from_the_stream_as_torchs_does():
    gc.manual_seed(5)
    layer = nn.Linear(6, 2)
    first = layer.weight.numpy().copy()
    weight = layer.weight
    layer.reset_parameters()
    assert layer.weight is weight   # in place, the same Parameter
    rng = np.random.default_rng(5)
    expected_uniform(rng, (2, 6), 1 / math.sqrt(6))
    expected_uniform(rng, (2,), 1 / math.sqrt(6))
    np.testing.assert_array_equal(layer.weight.numpy(),
                                  expected_uniform(rng, (2, 6), 1 / math.sqrt(6)))
    assert not np.array_equal(layer.weight.numpy(), first)
    reference = torch.nn.Linear(6, 2)
    assert hasattr(reference, "reset_parameters") and hasattr(layer, "reset_parameters")


def test_a_conv_subclass_override_of_reset_parameters_takes_effect_as_in_airbench():
    def airbench_conv(module, init):
        class Conv(module.nn.Conv2d):
            def __init__(self, in_channels, out_channels):
                super().__init__(in_channels, out_channels, kernel_size=3, padding="same",
                                 bias=False)

            def reset_parameters(self):
                super().reset_parameters()
                if self.bias is not None:
                    self.bias.data.zero_()
                w = self.weight.data
                init.dirac_(w[:w.size(1)])
        return Conv

    ours = airbench_conv(gc, gc.nn.init)(4, 6)
    theirs = airbench_conv(torch, torch.nn.init)(4, 6)
    w, t = ours.weight.numpy(), theirs.weight.detach().numpy()
    np.testing.assert_array_equal(w[:4], t[:4])   # the identity part, as torch's
    assert (w[:4] != 0).sum() == 4
    bound = 1 / math.sqrt(4 * 9)
    assert np.all(np.abs(w[4:]) <= bound) and np.any(w[4:] != 0)   # kaiming for the rest
    x = gc.tensor(np.random.default_rng(8).normal(size=(1, 4, 5, 5)).astype(np.float32))
    np.testing.assert_allclose(ours(x).numpy()[:, :4], x.numpy(), rtol=1e-6, atol=1e-6)


def test_a_batch_norm_subclass_override_of_reset_parameters_takes_effect():
    def subclass(module):
        class BatchNorm(module.nn.BatchNorm2d):
            def __init__(self, num_features, eps=1e-12, weight=False, bias=True):
                super().__init__(num_features, eps=eps)
                self.weight.requires_grad = weight
                self.bias.requires_grad = bias

            def reset_parameters(self):
                super().reset_parameters()
                with module.no_grad():
                    self.weight.fill_(0.25)
                    self.bias.fill_(-1.0)
        return BatchNorm

    ours, theirs = subclass(gc)(3), subclass(torch)(3)
    for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(getattr(ours, name).numpy(),
                                      getattr(theirs, name).detach().numpy(), err_msg=name)
    assert ours.weight.requires_grad is theirs.weight.requires_grad is False


def test_batch_norm_reset_running_stats_and_reset_parameters_as_torchs():
    x = np.random.default_rng(9).normal(size=(6, 3, 2, 2)).astype(np.float32)
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for _ in range(2):
        ours(gc.tensor(x))
        theirs(torch.tensor(x))
    with gc.no_grad(), torch.no_grad():
        ours.weight.mul_(3.0)
        theirs.weight.mul_(3.0)
    ours.reset_running_stats()
    theirs.reset_running_stats()
    for name in ("running_mean", "running_var", "num_batches_tracked", "weight"):
        np.testing.assert_array_equal(getattr(ours, name).numpy(),
                                      getattr(theirs, name).detach().numpy(), err_msg=name)
    ours.reset_parameters()
    theirs.reset_parameters()
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
