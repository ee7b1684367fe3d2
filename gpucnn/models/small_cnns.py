"""The small CNNs gpucnn trains out of the box: LeNet-5 (28x28), a BatchNorm + dropout CNN
(28x28), a digits CNN (8x8) and a CIFAR-style convnet (32x32).

Each is a gpucnn.nn.Sequential whose layer indices match the same torch.nn.Sequential, so
state_dict keys ("0.weight", "3.weight", "7.weight", ...) and shapes are interchangeable.
"""
from .. import nn


def lenet5(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """conv 5x5 (pad 2) 6 -> pool -> conv 5x5 16 -> pool -> fc 400-120-84-classes.

    The first convolution pads 28x28 to LeNet's original 32x32 field, so the second one ends
    on 16 maps of 5x5 = 400 features. Layer indices match the same torch.nn.Sequential, so
    state_dict keys ("0.weight", "3.weight", "7.weight", ...) are interchangeable with it.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # 6x14x14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),                      # 16x5x5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def bn_cnn(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """(conv 3x3 pad 1 -> BatchNorm -> ReLU -> pool 2) x 2 with 8, 16 channels -> dropout 0.25
    -> fc 784-64 -> BatchNorm -> ReLU -> dropout 0.25 -> fc 64-classes, for 28x28.

    BatchNorm lets it train at a high rate from the first batch, so a one-cycle schedule of
    three epochs does what LeNet-5 needs four for; dropout keeps the dense layers from
    memorising a small training set. Narrow (8 and 16 channels) so that an epoch costs about
    what LeNet-5's does on a CPU.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d(2),                                                      # 8x14x14
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2),                                                      # 16x7x7
        nn.Flatten(), nn.Dropout(0.25),
        nn.Linear(16 * 7 * 7, 64, bias=False), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(64, num_classes),
    )


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
