"""Ready-made models built from gpucnn.nn, and a registry of them by name.

    from gpucnn.models import get_model
    model = get_model("lenet5", in_channels=1, num_classes=10)

Every model's state_dict keys and shapes equal those of the same model in PyTorch (the small
CNNs are Sequentials; the ResNets follow the common PyTorch CIFAR code), so weights move
between the two with no renaming.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .resnet import resnet18, resnet20
from .small_cnns import bn_cnn, convnet, digits_cnn, lenet5


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[[int, int], object]  # (in_channels, num_classes) -> nn.Sequential
    input_size: tuple[int, int]          # (height, width) the dense layers are sized for
    in_channels: int                      # the usual number of input channels
    description: str


MODELS: dict[str, ModelSpec] = {
    "digits_cnn": ModelSpec("digits_cnn", digits_cnn, (8, 8), 1,
                            "2 conv 3x3 (16, 32) + pool + fc 512-64, for 8x8 digits"),
    "lenet5": ModelSpec("lenet5", lenet5, (28, 28), 1,
                        "LeNet-5: 2 conv 5x5 (6, 16) + pools + fc 400-120-84, for 28x28"),
    "bn_cnn": ModelSpec("bn_cnn", bn_cnn, (28, 28), 1,
                        "2 conv 3x3 (8, 16) + BatchNorm + pools + dropout + fc 784-64, "
                        "for 28x28"),
    "resnet20": ModelSpec("resnet20", resnet20, (32, 32), 3,
                          "ResNet-20 for CIFAR: 3 stages x 3 blocks (16, 32, 64), 0.27 M "
                          "parameters"),
    "resnet18": ModelSpec("resnet18", resnet18, (32, 32), 3,
                          "ResNet-18 for 32x32: 4 stages x 2 blocks (64..512), 11.2 M "
                          "parameters"),
    "convnet": ModelSpec("convnet", convnet, (32, 32), 3,
                         "3 conv 3x3 (32, 64, 128) + pools + fc 2048-256, for 32x32 CIFAR"),
}

# The model `gpucnn train --dataset NAME` uses when no --model is given.
DEFAULT_MODELS: dict[str, str] = {
    "digits": "digits_cnn",
    "mnist": "lenet5",
    "fashion-mnist": "lenet5",
    "cifar10": "convnet",
}


def model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)}") from None


def default_model(dataset: str) -> str:
    """The registry name of the default model for a dataset name."""
    try:
        return DEFAULT_MODELS[dataset]
    except KeyError:
        raise ValueError(f"no default model for dataset {dataset!r}; datasets with one: "
                         f"{', '.join(DEFAULT_MODELS)}") from None


def get_model(name: str, in_channels: int | None = None, num_classes: int = 10):
    """Build model `name` for `in_channels` input channels (default: its usual count) and
    `num_classes` outputs, with fresh weights from gpucnn's generator (see gpucnn.manual_seed)."""
    spec = model_spec(name)
    in_channels = spec.in_channels if in_channels is None else int(in_channels)
    if in_channels < 1 or int(num_classes) < 1:
        raise ValueError(f"{name}: in_channels and num_classes must be >= 1, got "
                         f"{in_channels} and {num_classes}")
    return spec.build(in_channels, int(num_classes))


__all__ = ["MODELS", "DEFAULT_MODELS", "ModelSpec", "model_spec", "default_model", "get_model",
           "lenet5", "digits_cnn", "convnet",
           "bn_cnn", "resnet20", "resnet18"]
