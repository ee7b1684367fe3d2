"""Dropout and Dropout2d: PyTorch's semantics (train/eval, scaling, channel masks), and masks
reproducible from gc.manual_seed."""
import numpy as np
import pytest
import torch

import gpucnn as gc
import gpucnn.nn as nn
import gpucnn.nn.functional as F


def _input(shape, device="cpu"):
    values = np.random.default_rng(0).uniform(0.5, 1.5, shape).astype(np.float32)
    return gc.tensor(values, device=device, requires_grad=True)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_zeroes_a_fraction_p_and_scales_the_rest(p):
    x = _input((200, 300))
    gc.manual_seed(1)
    y = F.dropout(x, p)
    kept = y.numpy() != 0
    assert abs(1 - kept.mean() - p) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], x.detach().numpy()[kept] / (1 - p), rtol=1e-6)
    y.backward(gc.ones_like(y) * 3)
    np.testing.assert_allclose(x.grad.numpy(), kept * 3 / (1 - p), rtol=1e-6)


def test_dropout2d_zeroes_whole_channels():
    x = _input((16, 32, 5, 7))
    gc.manual_seed(2)
    y = nn.Dropout2d(0.5)(x).numpy()
    planes = y.reshape(16, 32, -1)
    dropped = (planes == 0).all(axis=2)
    assert ((planes != 0).all(axis=2) | dropped).all()   # a channel is all kept or all dropped
    assert 0.4 < dropped.mean() < 0.6
    kept = ~dropped
    np.testing.assert_allclose(planes[kept], x.detach().numpy().reshape(16, 32, -1)[kept] * 2,
                               rtol=1e-6)


def test_dropout2d_on_3d_input_is_channelwise_1d_as_pytorch():
    x = _input((6, 40, 9))
    gc.manual_seed(0)
    with pytest.warns(UserWarning, match="3D input"):
        y = F.dropout2d(x, 0.5).numpy()
    dropped = (y == 0).all(axis=2)
    assert ((y != 0).all(axis=2) | dropped).all() and dropped.any() and not dropped.all()


def test_eval_mode_and_p_zero_are_the_identity():
    x = _input((2, 4, 3, 5))
    for layer in (nn.Dropout(0.5), nn.Dropout2d(0.3)):
        layer.eval()
        assert layer(x) is x
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.9, training=False) is x


def test_p_one_drops_everything():
    y = F.dropout(_input((3, 4)), 1.0)
    assert (y.numpy() == 0).all()


def test_same_seed_same_mask_new_draws_differ():
    x = _input((50, 50))
    gc.manual_seed(7)
    first, second = F.dropout(x).numpy(), F.dropout(x).numpy()
    gc.manual_seed(7)
    assert np.array_equal(F.dropout(x).numpy(), first)
    assert not np.array_equal(first, second)


def test_modules_follow_train_and_eval_and_repr_like_torch():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.25), nn.Dropout2d(), nn.ReLU(inplace=True))
    reference = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.25),
                                    torch.nn.Dropout2d(), torch.nn.ReLU(inplace=True))
    assert repr(model) == repr(reference)
    model.eval()
    assert not model[1].training and not model[2].training
    model.train()
    assert model[1].training


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_bad_probability_is_refused(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(_input((2, 2)), p)


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match="dropout"):
        F.dropout(gc.arange(6), 0.5)
