"""The same model in PyTorch: a torch.nn.Sequential mirroring a gpucnn one, same weights.

gpucnn's Sequential and layers use PyTorch's constructor arguments and state_dict keys, so the
mirror is a layer-by-layer translation followed by load_state_dict. The bench's model check
(one step's loss equal within 1e-4) then confirms the two really compute the same function.
"""
from collections import OrderedDict

import numpy as np

from .. import nn


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
    if isinstance(module, nn.ReLU):
        return tnn.ReLU()
    if isinstance(module, nn.Flatten):
        return tnn.Flatten(module.start_dim, module.end_dim)
    raise NotImplementedError(f"no torch mirror for {type(module).__name__}")


def mirror(torch, model, device: str):
    """A torch model computing what `model` computes, with a copy of its weights, on `device`."""
    twin = mirror_module(torch, model)
    state = OrderedDict((k, torch.from_numpy(np.ascontiguousarray(v)))
                        for k, v in model.state_dict().items())
    twin.load_state_dict(state, strict=True)
    return twin.to(device)
