"""The same model in PyTorch: a torch.nn.Sequential mirroring a gpucnn one (or, for the CIFAR
ResNets, the PyTorch code their layout follows), same weights and buffers.

gpucnn's Sequential and layers use PyTorch's constructor arguments and state_dict keys, so the
mirror is a layer-by-layer translation followed by load_state_dict. The bench's model check
(one step's loss equal within 1e-4) then confirms the two really compute the same function.
"""
from collections import OrderedDict

import numpy as np

from .. import nn
from ..models.resnet import CifarResNet, ZeroPadShortcut


def torch_cifar_resnet(torch, widths, blocks, shortcut, in_channels=3, num_classes=10):
    """The PyTorch CIFAR ResNet that gpucnn.models.resnet follows, written as that code is:
    pytorch_resnet_cifar10's (option-A shortcuts: F.pad of a strided identity) for resnet20,
    pytorch-cifar's (1x1 convolution + BatchNorm shortcuts) for resnet18."""
    tnn, F = torch.nn, torch.nn.functional

    class LambdaLayer(tnn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return self.fn(x)

    class BasicBlock(tnn.Module):
        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = tnn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.conv2 = tnn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.shortcut = tnn.Sequential()
            if stride != 1 or in_planes != planes:
                if shortcut == "A":
                    pad = planes // 4
                    self.shortcut = LambdaLayer(lambda x: F.pad(
                        x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad), "constant", 0))
                else:
                    self.shortcut = tnn.Sequential(
                        tnn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                        tnn.BatchNorm2d(planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            return F.relu(out)

    class ResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=False)
            self.bn1 = tnn.BatchNorm2d(widths[0])
            in_planes = widths[0]
            for stage, (width, count) in enumerate(zip(widths, blocks)):
                layers = []
                for index in range(count):
                    layers.append(BasicBlock(in_planes, width,
                                             2 if stage > 0 and index == 0 else 1))
                    in_planes = width
                setattr(self, f"layer{stage + 1}", tnn.Sequential(*layers))
            self.linear = tnn.Linear(in_planes, num_classes)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            for stage in range(len(widths)):
                out = getattr(self, f"layer{stage + 1}")(out)
            out = F.avg_pool2d(out, out.size()[3])
            return self.linear(out.view(out.size(0), -1))

    return ResNet()


def _torch_padding(padding):
    if isinstance(padding, str) or isinstance(padding, int):
        return padding
    padding = tuple(padding)
    if len(padding) == 4:
        top, bottom, left, right = padding
        if top != bottom or left != right:
            raise NotImplementedError(f"asymmetric padding {padding} has no torch.nn.Conv2d twin")
        return (top, left)
    return padding


def mirror_module(torch, module):
    tnn = torch.nn
    if isinstance(module, CifarResNet):
        widths = [getattr(module, f"layer{i + 1}")[0].conv1.out_channels
                  for i in range(module.stages)]
        blocks = [len(getattr(module, f"layer{i + 1}")) for i in range(module.stages)]
        option = "A" if any(isinstance(m, ZeroPadShortcut) for m in module.modules()) else "B"
        return torch_cifar_resnet(torch, widths, blocks, option, module.conv1.in_channels,
                                  module.linear.out_features)
    if isinstance(module, nn.Sequential) or (module._modules and type(module) is not nn.Sequential
                                             and not module._parameters):
        # A Sequential, or a container whose children run in order: the check catches it if
        # a custom container's forward does something else.
        return tnn.Sequential(OrderedDict((name, mirror_module(torch, child))
                                          for name, child in module._modules.items()))
    if isinstance(module, nn.Conv2d):
        return tnn.Conv2d(module.in_channels, module.out_channels, module.kernel_size,
                          stride=module.stride, padding=_torch_padding(module.padding),
                          dilation=module.dilation, groups=module.groups,
                          bias=module.bias is not None)
    if isinstance(module, nn.Linear):
        return tnn.Linear(module.in_features, module.out_features, bias=module.bias is not None)
    if isinstance(module, nn.MaxPool2d):
        return tnn.MaxPool2d(module.kernel_size, module.stride, module.padding,
                             ceil_mode=module.ceil_mode)
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return getattr(tnn, type(module).__name__)(
            module.num_features, eps=module.eps, momentum=module.momentum, affine=module.affine,
            track_running_stats=module.track_running_stats)
    if isinstance(module, (nn.Dropout, nn.Dropout2d)):
        return getattr(tnn, type(module).__name__)(module.p)
    if isinstance(module, nn.ReLU):
        return tnn.ReLU()
    if isinstance(module, nn.Flatten):
        return tnn.Flatten(module.start_dim, module.end_dim)
    raise NotImplementedError(f"no torch mirror for {type(module).__name__}")


def mirror(torch, model, device: str):
    """A torch model computing what `model` computes, with a copy of its weights, on `device`."""
    twin = mirror_module(torch, model)
    state = OrderedDict((k, torch.from_numpy(np.ascontiguousarray(v.numpy())))
                        for k, v in model.state_dict().items())
    twin.load_state_dict(state, strict=True)
    return twin.to(device)
