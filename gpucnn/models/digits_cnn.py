"""A small CNN for scikit-learn's 8x8 digits: two 3x3 convolutions, one pool, two dense layers."""
from .. import nn


def digits_cnn(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """conv 3x3 16 -> conv 3x3 32 -> pool -> fc 512-64-classes, for 8x8 inputs.

    Padding 1 keeps the 8x8 grid through both convolutions: at this size every border pixel
    is a large share of the digit. One 2x2 pool then gives 32x4x4 = 512 features.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(),                  # 16x8x8
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),          # 32x4x4
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
        nn.Linear(64, num_classes),
    )
