"""ResNets for 32x32 images, in the two layouts PyTorch CIFAR code most often uses, with the
same module names, so their state_dicts load into these with no renaming:

    resnet20   He et al.'s CIFAR ResNet (3 stages of 3 basic blocks, 16/32/64 channels,
               0.27 M parameters), as in the widely used pytorch_resnet_cifar10: keys
               conv1, bn1, layer1.0.conv1, ..., linear; option-A shortcuts (a strided
               identity padded with zero channels: no parameters)
    resnet18   the ImageNet ResNet-18 adapted to 32x32 (3x3 stem, no max-pool, 4 stages of 2
               blocks, 64..512 channels, 11.2 M parameters), as in pytorch-cifar: shortcuts
               are 1x1 convolution + BatchNorm when the shape changes

A block computes relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
"""
from .. import nn
from ..nn import functional as F


class ZeroPadShortcut(nn.Module):
    """Option A: x[:, :, ::2, ::2] with planes // 4 zero channels on each side. No
    parameters; gradients flow to the kept pixels."""

    def __init__(self, planes):
        super().__init__()
        self.pad = planes // 4

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))

    def extra_repr(self):
        return f"pad={self.pad}"


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1, shortcut="B"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = (ZeroPadShortcut(planes) if shortcut == "A" else
                             nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride,
                                                     bias=False), nn.BatchNorm2d(planes)))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """conv 3x3 -> BN -> ReLU -> stages of BasicBlocks -> global average pool -> linear."""

    def __init__(self, widths, blocks, in_channels=3, num_classes=10, shortcut="B"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        in_planes = widths[0]
        for stage, (width, count) in enumerate(zip(widths, blocks)):
            layers = []
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                layers.append(BasicBlock(in_planes, width, stride, shortcut))
                in_planes = width
            setattr(self, f"layer{stage + 1}", nn.Sequential(*layers))
        self.stages = len(widths)
        self.linear = nn.Linear(in_planes, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        for stage in range(self.stages):
            out = getattr(self, f"layer{stage + 1}")(out)
        out = out.mean((2, 3))     # global average pool over the final map
        return self.linear(out)


def resnet20(in_channels: int = 3, num_classes: int = 10) -> CifarResNet:
    """ResNet-20 for CIFAR (pytorch_resnet_cifar10's layout and init: Kaiming-normal weights
    for convolutions and the linear layer)."""
    model = CifarResNet((16, 32, 64), (3, 3, 3), in_channels, num_classes, shortcut="A")
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight)
    return model


def resnet18(in_channels: int = 3, num_classes: int = 10) -> CifarResNet:
    """ResNet-18 for 32x32 inputs (pytorch-cifar's layout, PyTorch's default init)."""
    return CifarResNet((64, 128, 256, 512), (2, 2, 2, 2), in_channels, num_classes,
                       shortcut="B")
