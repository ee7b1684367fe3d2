"""The CIFAR-style ConvNet: three conv + ReLU + pool stages of 32, 64, 128 channels."""
from .. import nn


def convnet(in_channels: int = 3, num_classes: int = 10) -> nn.Sequential:
    """(conv 3x3 pad 1 -> ReLU -> pool 2) x 3 with 32, 64, 128 channels -> fc 2048-256-classes.

    Each stage halves 32x32 (32 -> 16 -> 8 -> 4), so 128 maps of 4x4 = 2,048 features reach
    the first dense layer.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32x16x16
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),           # 64x8x8
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),          # 128x4x4
        nn.Flatten(),
        nn.Linear(128 * 4 * 4, 256), nn.ReLU(),
        nn.Linear(256, num_classes),
    )
