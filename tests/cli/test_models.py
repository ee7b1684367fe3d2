"""The ready-made models: torch-identical state_dict keys and shapes, output shapes, registry."""
import numpy as np
import pytest
import torch
from torch import nn as tnn

import gpucnn as gc
from gpucnn.bench.torch_mirror import torch_cifar_resnet
from gpucnn.models import DEFAULT_MODELS, MODELS, default_model, get_model, model_spec


def torch_lenet5():
    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
        tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))


def torch_digits_cnn():
    return tnn.Sequential(
        tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(),
        tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
        tnn.Linear(512, 64), tnn.ReLU(), tnn.Linear(64, 10))


def torch_convnet():
    return tnn.Sequential(
        tnn.Conv2d(3, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(64, 128, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
        tnn.Linear(2048, 256), tnn.ReLU(), tnn.Linear(256, 10))


def torch_bn_cnn():
    return tnn.Sequential(
        tnn.Conv2d(1, 8, 3, padding=1, bias=False), tnn.BatchNorm2d(8), tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(8, 16, 3, padding=1, bias=False), tnn.BatchNorm2d(16), tnn.ReLU(),
        tnn.MaxPool2d(2), tnn.Flatten(), tnn.Dropout(0.25),
        tnn.Linear(784, 64, bias=False), tnn.BatchNorm1d(64), tnn.ReLU(), tnn.Dropout(0.25),
        tnn.Linear(64, 10))


TORCH_TWINS = {"lenet5": torch_lenet5, "digits_cnn": torch_digits_cnn, "convnet": torch_convnet,
               "bn_cnn": torch_bn_cnn,
               "resnet20": lambda: torch_cifar_resnet(torch, (16, 32, 64), (3, 3, 3), "A"),
               "resnet18": lambda: torch_cifar_resnet(torch, (64, 128, 256, 512),
                                                      (2, 2, 2, 2), "B")}


@pytest.mark.parametrize("name", list(MODELS))
def test_state_dict_matches_torch_and_outputs_agree(name):
    gc.manual_seed(0)
    ours = get_model(name)
    twin = TORCH_TWINS[name]()
    rng = np.random.default_rng(2)
    for _, buffer in ours.named_buffers():   # running statistics away from their 0 / 1 start
        if buffer.dtype == gc.float32:
            buffer.copy_(gc.tensor(rng.uniform(0.5, 1.5, tuple(buffer.shape))))
    ours_state, twin_state = ours.state_dict(), twin.state_dict()
    assert list(ours_state) == list(twin_state)
    for key in twin_state:
        assert ours_state[key].shape == tuple(twin_state[key].shape), key
    # Same weights, same input: same logits (so the layer order matches too, not just keys).
    twin.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours_state.items()})
    spec = model_spec(name)
    shape = (4, spec.in_channels) + spec.input_size
    x = np.random.default_rng(1).uniform(0, 1, shape).astype(np.float32)
    ours.eval(), twin.eval()   # running statistics, no dropout: a deterministic function
    with gc.no_grad():
        logits = ours(gc.tensor(x)).numpy()
    with torch.no_grad():
        expected = twin(torch.from_numpy(x)).numpy()
    assert logits.shape == (4, 10)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)


def test_channels_and_classes_are_parameters():
    model = get_model("convnet", in_channels=1, num_classes=7)
    state = model.state_dict()
    assert state["0.weight"].shape == (32, 1, 3, 3)
    assert state["12.weight"].shape == (7, 256) and state["12.bias"].shape == (7,)
    with gc.no_grad():
        assert model(gc.tensor(np.zeros((2, 1, 32, 32), np.float32))).shape == (2, 7)


def test_registry_and_defaults():
    assert default_model("digits") == "digits_cnn"
    assert default_model("mnist") == default_model("fashion-mnist") == "lenet5"
    assert default_model("cifar10") == "convnet"
    assert set(DEFAULT_MODELS.values()) <= set(MODELS)
    assert model_spec("lenet5").input_size == (28, 28)
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        get_model("resnet")
    with pytest.raises(ValueError, match="no default model"):
        default_model("imagenet")


def test_same_seed_same_weights():
    gc.manual_seed(3)
    a = get_model("lenet5").state_dict()
    gc.manual_seed(3)
    b = get_model("lenet5").state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
