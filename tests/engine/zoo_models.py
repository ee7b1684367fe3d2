"""The architectures of the common CIFAR model zoo, each written once as a function of the
library: `build(nn, F, lib)` with (torch.nn, torch.nn.functional, torch) builds the PyTorch
model and with (gpucnn.nn, gpucnn.nn.functional, gpucnn) the gpucnn one, from the identical
code (a model file with its imports renamed). Scaled down (narrow, few blocks) so a test is
quick, with every structural feature kept: grouped and depthwise convolutions, feature maps
joined by cat, channel slicing, squeeze-excitation, bottlenecks, empty Sequential shortcuts,
children registered and fetched by built names (self.__setattr__ / self.__getattr__), pooling
with the zoo's options. Widths are keyword arguments so the simulator tests can make them tiny.

Each builder takes (nn, F, lib, **config) and returns the model; ZOO names the builders
with the input size they expect.
"""
import math

import numpy as np


def lenet(nn, F, lib, size=32):
    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            side = ((size - 4) // 2 - 4) // 2
            self.fc1 = nn.Linear(16 * side * side, 24)
            self.fc2 = nn.Linear(24, 16)
            self.fc3 = nn.Linear(16, 10)

        def forward(self, x):
            out = F.relu(self.conv1(x))
            out = F.max_pool2d(out, 2)
            out = F.relu(self.conv2(out))
            out = F.max_pool2d(out, 2)
            out = out.view(out.size(0), -1)
            out = F.relu(self.fc1(out))
            out = F.relu(self.fc2(out))
            return self.fc3(out)
    return LeNet()


def vgg(nn, F, lib, cfg=(8, "M", 16, "M", 16, 16, "M", 24, "M", 24, 24, "M")):
    class VGG(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = self._make_layers(cfg)
            self.classifier = nn.Linear(cfg[-2], 10)

        def forward(self, x):
            out = self.features(x)
            out = out.view(out.size(0), -1)
            return self.classifier(out)

        def _make_layers(self, cfg):
            layers, in_channels = [], 3
            for x in cfg:
                if x == "M":
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
                else:
                    layers += [nn.Conv2d(in_channels, x, kernel_size=3, padding=1),
                               nn.BatchNorm2d(x), nn.ReLU(inplace=True)]
                    in_channels = x
            layers += [nn.AvgPool2d(kernel_size=1, stride=1)]
            return nn.Sequential(*layers)
    return VGG()


def _basic_block(nn, F):
    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                                   bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != self.expansion * planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                              bias=False),
                    nn.BatchNorm2d(self.expansion * planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            return F.relu(out)
    return BasicBlock


def _bottleneck(nn, F):
    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1,
                                   bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, self.expansion * planes, kernel_size=1, bias=False)
            self.bn3 = nn.BatchNorm2d(self.expansion * planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != self.expansion * planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                              bias=False),
                    nn.BatchNorm2d(self.expansion * planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = F.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            out += self.shortcut(x)
            return F.relu(out)
    return Bottleneck


def _resnet(nn, F, block, num_blocks, widths, stem):
    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.in_planes = stem
            self.conv1 = nn.Conv2d(3, stem, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(stem)
            self.layer1 = self._make_layer(block, widths[0], num_blocks[0], stride=1)
            self.layer2 = self._make_layer(block, widths[1], num_blocks[1], stride=2)
            self.layer3 = self._make_layer(block, widths[2], num_blocks[2], stride=2)
            self.layer4 = self._make_layer(block, widths[3], num_blocks[3], stride=2)
            self.linear = nn.Linear(widths[3] * block.expansion, 10)

        def _make_layer(self, block, planes, num_blocks, stride):
            layers = []
            for stride in [stride] + [1] * (num_blocks - 1):
                layers.append(block(self.in_planes, planes, stride))
                self.in_planes = planes * block.expansion
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
            out = F.avg_pool2d(out, 4)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return ResNet()


def resnet_basic(nn, F, lib):
    return _resnet(nn, F, _basic_block(nn, F), (2, 1, 1, 1), (8, 12, 16, 24), stem=8)


def resnet_bottleneck(nn, F, lib):
    return _resnet(nn, F, _bottleneck(nn, F), (1, 1, 1, 1), (4, 6, 8, 8), stem=8)


def preact_resnet(nn, F, lib):
    class PreActBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.bn1 = nn.BatchNorm2d(in_planes)
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                                   bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
            if stride != 1 or in_planes != self.expansion * planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                              bias=False))

        def forward(self, x):
            out = F.relu(self.bn1(x))
            shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
            out = self.conv1(out)
            out = self.conv2(F.relu(self.bn2(out)))
            out += shortcut
            return out

    class PreActBottleneck(nn.Module):
        expansion = 4

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.bn1 = nn.BatchNorm2d(in_planes)
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1,
                                   bias=False)
            self.bn3 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, self.expansion * planes, kernel_size=1, bias=False)
            if stride != 1 or in_planes != self.expansion * planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                              bias=False))

        def forward(self, x):
            out = F.relu(self.bn1(x))
            shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
            out = self.conv1(out)
            out = self.conv2(F.relu(self.bn2(out)))
            out = self.conv3(F.relu(self.bn3(out)))
            out += shortcut
            return out

    class PreActResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.in_planes = 8
            self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
            self.layer1 = self._make_layer(PreActBlock, 8, 2, stride=1)
            self.layer2 = self._make_layer(PreActBlock, 12, 1, stride=2)
            self.layer3 = self._make_layer(PreActBottleneck, 4, 2, stride=2)
            self.layer4 = self._make_layer(PreActBlock, 16, 1, stride=2)
            self.linear = nn.Linear(16, 10)

        def _make_layer(self, block, planes, num_blocks, stride):
            layers = []
            for stride in [stride] + [1] * (num_blocks - 1):
                layers.append(block(self.in_planes, planes, stride))
                self.in_planes = planes * block.expansion
            return nn.Sequential(*layers)

        def forward(self, x):
            out = self.conv1(x)
            out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
            out = F.avg_pool2d(out, 4)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return PreActResNet()


def googlenet(nn, F, lib):
    class Inception(nn.Module):
        def __init__(self, in_planes, n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_planes):
            super().__init__()
            self.b1 = nn.Sequential(nn.Conv2d(in_planes, n1x1, kernel_size=1),
                                    nn.BatchNorm2d(n1x1), nn.ReLU(True))
            self.b2 = nn.Sequential(nn.Conv2d(in_planes, n3x3red, kernel_size=1),
                                    nn.BatchNorm2d(n3x3red), nn.ReLU(True),
                                    nn.Conv2d(n3x3red, n3x3, kernel_size=3, padding=1),
                                    nn.BatchNorm2d(n3x3), nn.ReLU(True))
            self.b3 = nn.Sequential(nn.Conv2d(in_planes, n5x5red, kernel_size=1),
                                    nn.BatchNorm2d(n5x5red), nn.ReLU(True),
                                    nn.Conv2d(n5x5red, n5x5, kernel_size=3, padding=1),
                                    nn.BatchNorm2d(n5x5), nn.ReLU(True),
                                    nn.Conv2d(n5x5, n5x5, kernel_size=3, padding=1),
                                    nn.BatchNorm2d(n5x5), nn.ReLU(True))
            self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                    nn.Conv2d(in_planes, pool_planes, kernel_size=1),
                                    nn.BatchNorm2d(pool_planes), nn.ReLU(True))

        def forward(self, x):
            return lib.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)

    class GoogLeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.pre_layers = nn.Sequential(nn.Conv2d(3, 12, kernel_size=3, padding=1),
                                            nn.BatchNorm2d(12), nn.ReLU(True))
            self.a3 = Inception(12, 4, 4, 6, 2, 3, 3)      # -> 16
            self.b3 = Inception(16, 6, 4, 6, 2, 4, 4)      # -> 20
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            self.a4 = Inception(20, 6, 4, 8, 2, 4, 4)      # -> 22
            self.a5 = Inception(22, 8, 6, 8, 2, 4, 4)      # -> 24
            self.avgpool = nn.AvgPool2d(8, stride=1)
            self.linear = nn.Linear(24, 10)

        def forward(self, x):
            out = self.b3(self.a3(self.pre_layers(x)))
            out = self.a4(self.maxpool(out))
            out = self.a5(self.maxpool(out))
            out = self.avgpool(out)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return GoogLeNet()


def densenet(nn, F, lib):
    class Bottleneck(nn.Module):
        def __init__(self, in_planes, growth_rate):
            super().__init__()
            self.bn1 = nn.BatchNorm2d(in_planes)
            self.conv1 = nn.Conv2d(in_planes, 4 * growth_rate, kernel_size=1, bias=False)
            self.bn2 = nn.BatchNorm2d(4 * growth_rate)
            self.conv2 = nn.Conv2d(4 * growth_rate, growth_rate, kernel_size=3, padding=1,
                                   bias=False)

        def forward(self, x):
            out = self.conv1(F.relu(self.bn1(x)))
            out = self.conv2(F.relu(self.bn2(out)))
            return lib.cat([out, x], 1)

    class Transition(nn.Module):
        def __init__(self, in_planes, out_planes):
            super().__init__()
            self.bn = nn.BatchNorm2d(in_planes)
            self.conv = nn.Conv2d(in_planes, out_planes, kernel_size=1, bias=False)

        def forward(self, x):
            out = self.conv(F.relu(self.bn(x)))
            return F.avg_pool2d(out, 2)

    class DenseNet(nn.Module):
        def __init__(self, nblocks=(2, 2, 1, 1), growth_rate=4, reduction=0.5):
            super().__init__()
            self.growth_rate = growth_rate
            num_planes = 2 * growth_rate
            self.conv1 = nn.Conv2d(3, num_planes, kernel_size=3, padding=1, bias=False)
            for i, n in enumerate(nblocks):
                setattr(self, f"dense{i + 1}", self._make_dense_layers(num_planes, n))
                num_planes += n * growth_rate
                if i < len(nblocks) - 1:
                    out_planes = int(math.floor(num_planes * reduction))
                    setattr(self, f"trans{i + 1}", Transition(num_planes, out_planes))
                    num_planes = out_planes
            self.bn = nn.BatchNorm2d(num_planes)
            self.linear = nn.Linear(num_planes, 10)

        def _make_dense_layers(self, in_planes, nblock):
            layers = []
            for _ in range(nblock):
                layers.append(Bottleneck(in_planes, self.growth_rate))
                in_planes += self.growth_rate
            return nn.Sequential(*layers)

        def forward(self, x):
            out = self.conv1(x)
            out = self.trans1(self.dense1(out))
            out = self.trans2(self.dense2(out))
            out = self.trans3(self.dense3(out))
            out = self.dense4(out)
            out = F.avg_pool2d(F.relu(self.bn(out)), 4)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return DenseNet()


def resnext(nn, F, lib):
    class Block(nn.Module):
        """Grouped convolution block: cardinality groups of bottleneck_width channels."""
        expansion = 2

        def __init__(self, in_planes, cardinality, bottleneck_width, stride):
            super().__init__()
            group_width = cardinality * bottleneck_width
            self.conv1 = nn.Conv2d(in_planes, group_width, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm2d(group_width)
            self.conv2 = nn.Conv2d(group_width, group_width, kernel_size=3, stride=stride,
                                   padding=1, groups=cardinality, bias=False)
            self.bn2 = nn.BatchNorm2d(group_width)
            self.conv3 = nn.Conv2d(group_width, self.expansion * group_width, kernel_size=1,
                                   bias=False)
            self.bn3 = nn.BatchNorm2d(self.expansion * group_width)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != self.expansion * group_width:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion * group_width, kernel_size=1,
                              stride=stride, bias=False),
                    nn.BatchNorm2d(self.expansion * group_width))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = F.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            out += self.shortcut(x)
            return F.relu(out)

    class ResNeXt(nn.Module):
        def __init__(self, num_blocks=(2, 1, 1), cardinality=4, bottleneck_width=2):
            super().__init__()
            self.cardinality, self.bottleneck_width = cardinality, bottleneck_width
            self.in_planes = 8
            self.conv1 = nn.Conv2d(3, 8, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.layer1 = self._make_layer(num_blocks[0], 1)
            self.layer2 = self._make_layer(num_blocks[1], 2)
            self.layer3 = self._make_layer(num_blocks[2], 2)
            self.linear = nn.Linear(cardinality * bottleneck_width * 8, 10)

        def _make_layer(self, num_blocks, stride):
            layers = []
            for stride in [stride] + [1] * (num_blocks - 1):
                layers.append(Block(self.in_planes, self.cardinality, self.bottleneck_width,
                                    stride))
                self.in_planes = Block.expansion * self.cardinality * self.bottleneck_width
            self.bottleneck_width *= 2
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer3(self.layer2(self.layer1(out)))
            out = F.avg_pool2d(out, 8)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return ResNeXt()


def mobilenet(nn, F, lib):
    class Block(nn.Module):
        """Depthwise conv + pointwise conv."""

        def __init__(self, in_planes, out_planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, in_planes, kernel_size=3, stride=stride,
                                   padding=1, groups=in_planes, bias=False)
            self.bn1 = nn.BatchNorm2d(in_planes)
            self.conv2 = nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=1, padding=0,
                                   bias=False)
            self.bn2 = nn.BatchNorm2d(out_planes)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(out)))

    class MobileNet(nn.Module):
        cfg = [12, (16, 2), 16, (24, 2), 24, (32, 2), (32, 2)]

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.layers = self._make_layers(in_planes=8)
            self.linear = nn.Linear(32, 10)

        def _make_layers(self, in_planes):
            layers = []
            for x in self.cfg:
                out_planes = x if isinstance(x, int) else x[0]
                stride = 1 if isinstance(x, int) else x[1]
                layers.append(Block(in_planes, out_planes, stride))
                in_planes = out_planes
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layers(out)
            out = F.avg_pool2d(out, 2)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return MobileNet()


def mobilenetv2(nn, F, lib, size=32, cfg=((1, 8, 1, 1), (3, 12, 2, 1), (3, 16, 2, 2),
                                             (3, 24, 1, 2), (2, 24, 1, 2)),
                stem=8, head=32):
    class Block(nn.Module):
        """Expand + depthwise + pointwise; an identity shortcut is an empty Sequential."""

        def __init__(self, in_planes, out_planes, expansion, stride):
            super().__init__()
            self.stride = stride
            planes = expansion * in_planes
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, stride=1, padding=0,
                                   bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1,
                                   groups=planes, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, out_planes, kernel_size=1, stride=1, padding=0,
                                   bias=False)
            self.bn3 = nn.BatchNorm2d(out_planes)
            self.shortcut = nn.Sequential()
            if stride == 1 and in_planes != out_planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=1, padding=0,
                              bias=False),
                    nn.BatchNorm2d(out_planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = F.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            out = out + self.shortcut(x) if self.stride == 1 else out
            return out

    class MobileNetV2(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, stem, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(stem)
            self.layers = self._make_layers(in_planes=stem)
            self.conv2 = nn.Conv2d(cfg[-1][1], head, kernel_size=1, stride=1, padding=0,
                                   bias=False)
            self.bn2 = nn.BatchNorm2d(head)
            self.linear = nn.Linear(head, 10)

        def _make_layers(self, in_planes):
            layers = []
            for expansion, out_planes, num_blocks, stride in cfg:
                for stride in [stride] + [1] * (num_blocks - 1):
                    layers.append(Block(in_planes, out_planes, expansion, stride))
                    in_planes = out_planes
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layers(out)
            out = F.relu(self.bn2(self.conv2(out)))
            out = F.avg_pool2d(out, out.size(2))
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return MobileNetV2()


def shufflenetv2(nn, F, lib, out_channels=(16, 24, 32, 48), num_blocks=(2, 1, 1), stem=8):
    class ShuffleBlock(nn.Module):
        def __init__(self, groups=2):
            super().__init__()
            self.groups = groups

        def forward(self, x):
            """[N,C,H,W] -> [N,g,C/g,H,W] -> [N,C/g,g,H,W] -> [N,C,H,W]"""
            N, C, H, W = x.size()
            g = self.groups
            return x.view(N, g, int(C / g), H, W).permute(0, 2, 1, 3, 4).reshape(N, C, H, W)

    class SplitBlock(nn.Module):
        """The channel split three ways: slicing (the zoo's), chunk, split."""

        def __init__(self, ratio, how):
            super().__init__()
            self.ratio, self.how = ratio, how

        def forward(self, x):
            c = int(x.size(1) * self.ratio)
            if self.how == "chunk":
                return x.chunk(2, dim=1)
            if self.how == "split":
                return lib.split(x, [c, x.size(1) - c], dim=1)
            return x[:, :c, :, :], x[:, c:, :, :]

    class BasicBlock(nn.Module):
        def __init__(self, in_channels, how, split_ratio=0.5):
            super().__init__()
            self.split = SplitBlock(split_ratio, how)
            in_channels = int(in_channels * split_ratio)
            self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm2d(in_channels)
            self.conv2 = nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=1, padding=1,
                                   groups=in_channels, bias=False)
            self.bn2 = nn.BatchNorm2d(in_channels)
            self.conv3 = nn.Conv2d(in_channels, in_channels, kernel_size=1, bias=False)
            self.bn3 = nn.BatchNorm2d(in_channels)
            self.shuffle = ShuffleBlock()

        def forward(self, x):
            x1, x2 = self.split(x)
            out = F.relu(self.bn1(self.conv1(x2)))
            out = self.bn2(self.conv2(out))
            out = F.relu(self.bn3(self.conv3(out)))
            out = lib.cat([x1, out], 1)
            return self.shuffle(out)

    class DownBlock(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            mid_channels = out_channels // 2
            self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=2, padding=1,
                                   groups=in_channels, bias=False)
            self.bn1 = nn.BatchNorm2d(in_channels)
            self.conv2 = nn.Conv2d(in_channels, mid_channels, kernel_size=1, bias=False)
            self.bn2 = nn.BatchNorm2d(mid_channels)
            self.conv3 = nn.Conv2d(in_channels, mid_channels, kernel_size=1, bias=False)
            self.bn3 = nn.BatchNorm2d(mid_channels)
            self.conv4 = nn.Conv2d(mid_channels, mid_channels, kernel_size=3, stride=2,
                                   padding=1, groups=mid_channels, bias=False)
            self.bn4 = nn.BatchNorm2d(mid_channels)
            self.conv5 = nn.Conv2d(mid_channels, mid_channels, kernel_size=1, bias=False)
            self.bn5 = nn.BatchNorm2d(mid_channels)
            self.shuffle = ShuffleBlock()

        def forward(self, x):
            out1 = self.bn1(self.conv1(x))
            out1 = F.relu(self.bn2(self.conv2(out1)))
            out2 = F.relu(self.bn3(self.conv3(x)))
            out2 = self.bn4(self.conv4(out2))
            out2 = F.relu(self.bn5(self.conv5(out2)))
            return self.shuffle(lib.cat([out1, out2], 1))

    class ShuffleNetV2(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, stem, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(stem)
            self.in_channels = stem
            self.splits, self.blocks = ("slice", "chunk", "split"), 0   # each split in turn
            self.layer1 = self._make_layer(out_channels[0], num_blocks[0])
            self.layer2 = self._make_layer(out_channels[1], num_blocks[1])
            self.layer3 = self._make_layer(out_channels[2], num_blocks[2])
            self.conv2 = nn.Conv2d(out_channels[2], out_channels[3], kernel_size=1, stride=1,
                                   padding=0, bias=False)
            self.bn2 = nn.BatchNorm2d(out_channels[3])
            self.linear = nn.Linear(out_channels[3], 10)

        def _make_layer(self, out_channels, num_blocks):
            layers = [DownBlock(self.in_channels, out_channels)]
            for _ in range(num_blocks):
                layers.append(BasicBlock(out_channels, self.splits[self.blocks % 3]))
                self.blocks += 1
                self.in_channels = out_channels
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer3(self.layer2(self.layer1(out)))
            out = F.relu(self.bn2(self.conv2(out)))
            out = F.avg_pool2d(out, out.size(2))
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return ShuffleNetV2()


def senet(nn, F, lib, widths=(16, 16, 32, 48), stem=16, pool=4):
    class BasicBlock(nn.Module):
        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                                   bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes))
            self.fc1 = nn.Conv2d(planes, planes // 16, kernel_size=1)   # SE as 1x1 convs
            self.fc2 = nn.Conv2d(planes // 16, planes, kernel_size=1)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            w = F.avg_pool2d(out, out.size(2))          # squeeze
            w = F.relu(self.fc1(w))
            w = F.sigmoid(self.fc2(w))
            out = out * w                                # excitation, broadcast
            out += self.shortcut(x)
            return F.relu(out)

    class PreActBlock(nn.Module):
        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.bn1 = nn.BatchNorm2d(in_planes)
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                                   bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
            if stride != 1 or in_planes != planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False))
            self.fc1 = nn.Conv2d(planes, planes // 16, kernel_size=1)
            self.fc2 = nn.Conv2d(planes // 16, planes, kernel_size=1)

        def forward(self, x):
            out = F.relu(self.bn1(x))
            shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
            out = self.conv1(out)
            out = self.conv2(F.relu(self.bn2(out)))
            w = F.avg_pool2d(out, out.size(2))
            w = F.relu(self.fc1(w))
            w = F.sigmoid(self.fc2(w))
            out = out * w
            out += shortcut
            return out

    class SENet(nn.Module):
        def __init__(self):
            super().__init__()
            self.in_planes = stem
            self.conv1 = nn.Conv2d(3, stem, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(stem)
            self.layer1 = self._make_layer(BasicBlock, widths[0], 1, stride=1)
            self.layer2 = self._make_layer(PreActBlock, widths[1], 2, stride=2)
            self.layer3 = self._make_layer(PreActBlock, widths[2], 1, stride=2)
            self.layer4 = self._make_layer(BasicBlock, widths[3], 1, stride=2)
            self.linear = nn.Linear(widths[3], 10)

        def _make_layer(self, block, planes, num_blocks, stride):
            layers = []
            for stride in [stride] + [1] * (num_blocks - 1):
                layers.append(block(self.in_planes, planes, stride))
                self.in_planes = planes
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
            out = F.avg_pool2d(out, pool)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return SENet()


def regnet(nn, F, lib):
    class SE(nn.Module):
        def __init__(self, in_planes, se_planes):
            super().__init__()
            self.se1 = nn.Conv2d(in_planes, se_planes, kernel_size=1, bias=True)
            self.se2 = nn.Conv2d(se_planes, in_planes, kernel_size=1, bias=True)

        def forward(self, x):
            out = F.adaptive_avg_pool2d(x, (1, 1))
            out = F.relu(self.se1(out))
            out = self.se2(out).sigmoid()
            return x * out

    class Block(nn.Module):
        def __init__(self, w_in, w_out, stride, group_width, bottleneck_ratio, se_ratio):
            super().__init__()
            w_b = int(round(w_out * bottleneck_ratio))
            self.conv1 = nn.Conv2d(w_in, w_b, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm2d(w_b)
            num_groups = w_b // group_width
            self.conv2 = nn.Conv2d(w_b, w_b, kernel_size=3, stride=stride, padding=1,
                                   groups=num_groups, bias=False)
            self.bn2 = nn.BatchNorm2d(w_b)
            self.with_se = se_ratio > 0
            if self.with_se:
                self.se = SE(w_b, int(round(w_in * se_ratio)))
            self.conv3 = nn.Conv2d(w_b, w_out, kernel_size=1, bias=False)
            self.bn3 = nn.BatchNorm2d(w_out)
            self.shortcut = nn.Sequential()
            if stride != 1 or w_in != w_out:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(w_in, w_out, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(w_out))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = F.relu(self.bn2(self.conv2(out)))
            if self.with_se:
                out = self.se(out)
            out = self.bn3(self.conv3(out))
            out += self.shortcut(x)
            return F.relu(out)

    class RegNet(nn.Module):
        cfg = {"depths": [1, 2, 1, 1], "widths": [8, 16, 24, 32], "strides": [1, 2, 2, 2],
               "group_width": 4, "bottleneck_ratio": 1, "se_ratio": 0.25}

        def __init__(self):
            super().__init__()
            self.in_planes = 8
            self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.layer1 = self._make_layer(0)
            self.layer2 = self._make_layer(1)
            self.layer3 = self._make_layer(2)
            self.layer4 = self._make_layer(3)
            self.linear = nn.Linear(self.cfg["widths"][-1], 10)

        def _make_layer(self, idx):
            cfg = self.cfg
            layers = []
            for i in range(cfg["depths"][idx]):
                stride = cfg["strides"][idx] if i == 0 else 1
                layers.append(Block(self.in_planes, cfg["widths"][idx], stride,
                                    cfg["group_width"], cfg["bottleneck_ratio"],
                                    cfg["se_ratio"]))
                self.in_planes = cfg["widths"][idx]
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
            out = F.adaptive_avg_pool2d(out, (1, 1))
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return RegNet()


def efficientnet(nn, F, lib, seed=0):
    """The zoo's drop connect scales each sample's residual branch in place by a random keep
    mask (x.div_, x.mul_ inside autograd, as here); its mask comes from mask.bernoulli_, here
    from a NumPy generator that each model owns, seeded alike, so the torch and gpucnn models
    draw the same masks (their own random streams differ). The drop rate grows with the block
    index, so later blocks drop. The classifier's dropout is left out for the same reason as
    bernoulli_. The first block (expand_ratio 1) skips its expansion conv, whose parameters
    so get no gradient, as in the zoo."""
    rng = np.random.default_rng(seed)

    def swish(x):
        return x * x.sigmoid()

    def drop_connect(x, drop_ratio):
        keep_ratio = 1.0 - drop_ratio
        keep = rng.uniform(size=(x.shape[0], 1, 1, 1)) < keep_ratio
        mask = lib.tensor(keep.astype(np.float32), device=x.device).to(x.dtype)
        x.div_(keep_ratio)
        x.mul_(mask)
        return x

    class SE(nn.Module):
        def __init__(self, in_channels, se_channels):
            super().__init__()
            self.se1 = nn.Conv2d(in_channels, se_channels, kernel_size=1, bias=True)
            self.se2 = nn.Conv2d(se_channels, in_channels, kernel_size=1, bias=True)

        def forward(self, x):
            out = F.adaptive_avg_pool2d(x, (1, 1))
            out = swish(self.se1(out))
            out = self.se2(out).sigmoid()
            return x * out

    class Block(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride, expand_ratio=1,
                     se_ratio=0.0, drop_rate=0.0):
            super().__init__()
            self.stride, self.drop_rate, self.expand_ratio = stride, drop_rate, expand_ratio
            channels = expand_ratio * in_channels
            self.conv1 = nn.Conv2d(in_channels, channels, kernel_size=1, stride=1, padding=0,
                                   bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, kernel_size=kernel_size, stride=stride,
                                   padding=(1 if kernel_size == 3 else 2), groups=channels,
                                   bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.se = SE(channels, max(1, int(in_channels * se_ratio)))
            self.conv3 = nn.Conv2d(channels, out_channels, kernel_size=1, stride=1, padding=0,
                                   bias=False)
            self.bn3 = nn.BatchNorm2d(out_channels)
            self.has_skip = (stride == 1) and (in_channels == out_channels)

        def forward(self, x):
            out = x if self.expand_ratio == 1 else swish(self.bn1(self.conv1(x)))
            out = swish(self.bn2(self.conv2(out)))
            out = self.se(out)
            out = self.bn3(self.conv3(out))
            if self.has_skip:
                if self.training and self.drop_rate > 0:
                    out = drop_connect(out, self.drop_rate)
                out = out + x
            return out

    class EfficientNet(nn.Module):
        cfg = {"num_blocks": [1, 2, 2, 1], "expansion": [1, 3, 3, 3],
               "out_channels": [8, 12, 16, 24], "kernel_size": [3, 3, 5, 3],
               "stride": [1, 2, 2, 2], "drop_connect_rate": 0.5}

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.layers = self._make_layers(in_channels=8)
            self.linear = nn.Linear(self.cfg["out_channels"][-1], 10)

        def _make_layers(self, in_channels):
            layers = []
            cfg = [self.cfg[k] for k in ["expansion", "out_channels", "num_blocks",
                                         "kernel_size", "stride"]]
            b, blocks = 0, sum(self.cfg["num_blocks"])
            for expansion, out_channels, num_blocks, kernel_size, stride in zip(*cfg):
                for stride in [stride] + [1] * (num_blocks - 1):
                    drop_rate = self.cfg["drop_connect_rate"] * b / blocks
                    layers.append(Block(in_channels, out_channels, kernel_size, stride,
                                        expansion, se_ratio=0.25, drop_rate=drop_rate))
                    in_channels = out_channels
                    b += 1
            return nn.Sequential(*layers)

        def forward(self, x):
            out = swish(self.bn1(self.conv1(x)))
            out = self.layers(out)
            out = F.adaptive_avg_pool2d(out, 1)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return EfficientNet()


def dla(nn, F, lib, widths=(8, 8, 12, 16, 16, 24), levels=(1, 2, 2, 1), pool=4):
    BasicBlock = _basic_block(nn, F)

    class Root(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size=1):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=1,
                                  padding=(kernel_size - 1) // 2, bias=False)
            self.bn = nn.BatchNorm2d(out_channels)

        def forward(self, xs):
            return F.relu(self.bn(self.conv(lib.cat(xs, 1))))

    class Tree(nn.Module):
        def __init__(self, block, in_channels, out_channels, level=1, stride=1):
            super().__init__()
            self.level = level
            if level == 1:
                self.root = Root(2 * out_channels, out_channels)
                self.left_node = block(in_channels, out_channels, stride=stride)
                self.right_node = block(out_channels, out_channels, stride=1)
            else:
                self.root = Root((level + 1) * out_channels, out_channels)
                for i in reversed(range(1, level)):
                    subtree = Tree(block, in_channels, out_channels, level=i, stride=stride)
                    self.__setattr__("level_%d" % i, subtree)
                self.left_node = block(out_channels, out_channels, stride=1)
                self.right_node = block(out_channels, out_channels, stride=1)

        def forward(self, x):
            xs = []
            for i in reversed(range(1, self.level)):
                level_i = self.__getattr__("level_%d" % i)
                x = level_i(x)
                xs.append(x)
            x = self.left_node(x)
            xs.append(x)
            x = self.right_node(x)
            xs.append(x)
            return self.root(xs)

    class DLA(nn.Module):
        def __init__(self, block=BasicBlock):
            super().__init__()
            self.base = nn.Sequential(
                nn.Conv2d(3, widths[0], kernel_size=3, stride=1, padding=1, bias=False),
                nn.BatchNorm2d(widths[0]), nn.ReLU(True))
            self.layer1 = nn.Sequential(
                nn.Conv2d(widths[0], widths[1], kernel_size=3, stride=1, padding=1, bias=False),
                nn.BatchNorm2d(widths[1]), nn.ReLU(True))
            self.trees = len(levels)
            in_channels = widths[1]
            for i, level in enumerate(levels):
                stride = 1 if i == 0 else 2
                setattr(self, "layer%d" % (i + 2),
                        Tree(block, in_channels, widths[i + 2], level=level, stride=stride))
                in_channels = widths[i + 2]
            self.linear = nn.Linear(in_channels, 10)

        def forward(self, x):
            out = self.layer1(self.base(x))
            for i in range(self.trees):
                out = self.__getattr__("layer%d" % (i + 2))(out)
            out = F.avg_pool2d(out, pool)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return DLA()


def dpn(nn, F, lib):
    class Bottleneck(nn.Module):
        def __init__(self, last_planes, in_planes, out_planes, dense_depth, stride, first_layer):
            super().__init__()
            self.out_planes, self.dense_depth = out_planes, dense_depth
            self.conv1 = nn.Conv2d(last_planes, in_planes, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm2d(in_planes)
            self.conv2 = nn.Conv2d(in_planes, in_planes, kernel_size=3, stride=stride, padding=1,
                                   groups=4, bias=False)
            self.bn2 = nn.BatchNorm2d(in_planes)
            self.conv3 = nn.Conv2d(in_planes, out_planes + dense_depth, kernel_size=1,
                                   bias=False)
            self.bn3 = nn.BatchNorm2d(out_planes + dense_depth)
            self.shortcut = nn.Sequential()
            if first_layer:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(last_planes, out_planes + dense_depth, kernel_size=1,
                              stride=stride, bias=False),
                    nn.BatchNorm2d(out_planes + dense_depth))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = F.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            x = self.shortcut(x)
            d = self.out_planes
            out = lib.cat([x[:, :d, :, :] + out[:, :d, :, :], x[:, d:, :, :], out[:, d:, :, :]],
                          1)
            return F.relu(out)

    class DPN(nn.Module):
        cfg = {"in_planes": (8, 8, 12, 16), "out_planes": (8, 12, 16, 16),
               "num_blocks": (2, 1, 2, 1), "dense_depth": (2, 4, 4, 6)}

        def __init__(self):
            super().__init__()
            cfg = self.cfg
            self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.last_planes = 8
            for i, stride in enumerate((1, 2, 2, 2)):
                setattr(self, "layer%d" % (i + 1), self._make_layer(
                    cfg["in_planes"][i], cfg["out_planes"][i], cfg["num_blocks"][i],
                    cfg["dense_depth"][i], stride))
            self.linear = nn.Linear(
                cfg["out_planes"][3] + (cfg["num_blocks"][3] + 1) * cfg["dense_depth"][3], 10)

        def _make_layer(self, in_planes, out_planes, num_blocks, dense_depth, stride):
            layers = []
            for i, stride in enumerate([stride] + [1] * (num_blocks - 1)):
                layers.append(Bottleneck(self.last_planes, in_planes, out_planes, dense_depth,
                                         stride, i == 0))
                self.last_planes = out_planes + (i + 2) * dense_depth
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
            out = F.avg_pool2d(out, 4)
            out = out.view(out.size(0), -1)
            return self.linear(out)
    return DPN()


def pnasnet(nn, F, lib):
    class SepConv(nn.Module):
        """Separable convolution: groups=in_planes, out_planes a multiple of in_planes."""

        def __init__(self, in_planes, out_planes, kernel_size, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size, stride,
                                   padding=(kernel_size - 1) // 2, bias=False, groups=in_planes)
            self.bn1 = nn.BatchNorm2d(out_planes)

        def forward(self, x):
            return self.bn1(self.conv1(x))

    class CellA(nn.Module):
        def __init__(self, in_planes, out_planes, stride=1):
            super().__init__()
            self.stride = stride
            self.sep_conv1 = SepConv(in_planes, out_planes, kernel_size=7, stride=stride)
            if stride == 2:
                self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=1, padding=0,
                                       bias=False)
                self.bn1 = nn.BatchNorm2d(out_planes)

        def forward(self, x):
            y1 = self.sep_conv1(x)
            y2 = F.max_pool2d(x, kernel_size=3, stride=self.stride, padding=1)
            if self.stride == 2:
                y2 = self.bn1(self.conv1(y2))
            return F.relu(y1 + y2)

    class CellB(nn.Module):
        def __init__(self, in_planes, out_planes, stride=1):
            super().__init__()
            self.stride = stride
            self.sep_conv1 = SepConv(in_planes, out_planes, kernel_size=7, stride=stride)
            self.sep_conv2 = SepConv(in_planes, out_planes, kernel_size=3, stride=stride)
            self.sep_conv3 = SepConv(in_planes, out_planes, kernel_size=5, stride=stride)
            if stride == 2:
                self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=1, padding=0,
                                       bias=False)
                self.bn1 = nn.BatchNorm2d(out_planes)
            self.conv2 = nn.Conv2d(2 * out_planes, out_planes, kernel_size=1, stride=1,
                                   padding=0, bias=False)
            self.bn2 = nn.BatchNorm2d(out_planes)

        def forward(self, x):
            y1 = self.sep_conv1(x)
            y2 = self.sep_conv2(x)
            y3 = F.max_pool2d(x, kernel_size=3, stride=self.stride, padding=1)
            if self.stride == 2:
                y3 = self.bn1(self.conv1(y3))
            y4 = self.sep_conv3(x)
            b1 = F.relu(y1 + y2)
            b2 = F.relu(y3 + y4)
            y = lib.cat([b1, b2], 1)
            return F.relu(self.bn2(self.conv2(y)))

    class PNASNet(nn.Module):
        """CellB in the stages, CellA for the first downsampling: both cells' features."""

        def __init__(self, num_planes=8):
            super().__init__()
            self.in_planes = num_planes
            self.conv1 = nn.Conv2d(3, num_planes, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(num_planes)
            self.layer1 = self._make_layer(CellB, num_planes, num_cells=2)
            self.layer2 = self._downsample(CellA, num_planes * 2)
            self.layer3 = self._make_layer(CellA, num_planes * 2, num_cells=1)
            self.layer4 = self._downsample(CellB, num_planes * 4)
            self.layer5 = self._make_layer(CellB, num_planes * 4, num_cells=1)
            self.linear = nn.Linear(num_planes * 4, 10)

        def _make_layer(self, cell, planes, num_cells):
            layers = []
            for _ in range(num_cells):
                layers.append(cell(self.in_planes, planes, stride=1))
                self.in_planes = planes
            return nn.Sequential(*layers)

        def _downsample(self, cell, planes):
            layer = cell(self.in_planes, planes, stride=2)
            self.in_planes = planes
            return layer

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer5(self.layer4(self.layer3(self.layer2(self.layer1(out)))))
            out = F.avg_pool2d(out, 8)
            out = self.linear(out.view(out.size(0), -1))
            return out
    return PNASNet()


# name -> (builder, input side): batch x 3 x side x side
ZOO = {
    "lenet": (lenet, 32),
    "vgg": (vgg, 32),
    "resnet_basic": (resnet_basic, 32),
    "resnet_bottleneck": (resnet_bottleneck, 32),
    "preact_resnet": (preact_resnet, 32),
    "googlenet": (googlenet, 32),
    "densenet": (densenet, 32),
    "resnext": (resnext, 32),
    "mobilenet": (mobilenet, 32),
    "mobilenetv2": (mobilenetv2, 32),
    "shufflenetv2": (shufflenetv2, 32),
    "senet": (senet, 32),
    "regnet": (regnet, 32),
    "efficientnet": (efficientnet, 32),
    "dla": (dla, 32),
    "dpn": (dpn, 32),
    "pnasnet": (pnasnet, 32),
}
