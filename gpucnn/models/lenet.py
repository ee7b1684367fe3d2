"""LeNet-5 for 28x28 images (MNIST, Fashion-MNIST), in its modern ReLU + max-pool form."""
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
