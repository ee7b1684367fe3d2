"""The op sweep shared by the CPU tests and the simulator ("cuda") tests."""
import numpy as np
import torch
import torch.nn.functional as TF

import gpucnn.nn.functional as F
from tests.helpers import rand


def distinct(rng, *shape):
    """Values at least 0.1 apart: a finite-difference step cannot change which one is the max."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) * 0.1 - size * 0.05).astype(np.float32)


def op_cases(small=False):
    """(id, gpucnn fn, torch fn or None when the gpucnn lambda also runs on torch tensors,
    input factory) for every op; `small` keeps shapes tiny."""
    n = 2 if small else 3
    hw = 6 if small else 9
    cases = [
        ("add", lambda a, b: a + b, None, lambda r: [rand(r, 3, 5), rand(r, 3, 5)]),
        ("sub", lambda a, b: a - b, None, lambda r: [rand(r, 4, 3), rand(r, 4, 3)]),
        ("mul", lambda a, b: a * b, None, lambda r: [rand(r, 7), rand(r, 7)]),
        ("scalar_ops", lambda a: (2.0 - a) * 0.5 + 3.0 - (-a) / 4.0, None,
         lambda r: [rand(r, 2, 3, 4)]),
        ("shared_input", lambda a: a * a + a, None, lambda r: [rand(r, 5, 2)]),
        ("sum", lambda a: a.sum(), None, lambda r: [rand(r, 3, 4, 5)]),
        ("mean", lambda a: a.mean(), None, lambda r: [rand(r, 6, 7)]),
        ("reshape", lambda a: a.reshape(4, -1) * 2.0, None, lambda r: [rand(r, 2, 6)]),
        ("flatten", lambda a: a.flatten(1) * 1.5, None, lambda r: [rand(r, 2, 3, 2, 2)]),
        ("relu", F.relu, TF.relu, lambda r: [rand(r, 4, 9)]),
        ("linear", F.linear, TF.linear, lambda r: [rand(r, 5, 7), rand(r, 3, 7), rand(r, 3)]),
        ("linear_nobias", F.linear, TF.linear, lambda r: [rand(r, 1, 4), rand(r, 6, 4)]),
        ("conv2d", F.conv2d, TF.conv2d,
         lambda r: [rand(r, n, 3, hw, hw), rand(r, 4, 3, 3, 3), rand(r, 4)]),
        ("conv2d_stride_pad", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
         lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1),
         lambda r: [rand(r, n, 2, hw, hw - 1), rand(r, 3, 2, 3, 2), rand(r, 3)]),
        ("conv2d_dilation_groups", lambda x, w: F.conv2d(x, w, dilation=2, groups=2, padding=2),
         lambda x, w: TF.conv2d(x, w, dilation=2, groups=2, padding=2),
         lambda r: [rand(r, n, 4, hw, hw), rand(r, 6, 2, 3, 3)]),
        ("conv2d_depthwise_same", lambda x, w: F.conv2d(x, w, padding="same", groups=3),
         lambda x, w: TF.conv2d(x, w, padding="same", groups=3),
         lambda r: [rand(r, 1, 3, hw, hw), rand(r, 3, 1, 4, 2)]),
        ("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2),
         lambda r: [(distinct if small else rand)(r, n, 2, hw, hw)]),
        ("max_pool2d_overlap_ceil", lambda x: F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True),
         lambda x: TF.max_pool2d(x, 3, 2, padding=1, ceil_mode=True),
         lambda r: [(distinct if small else rand)(r, n, 2, hw + 1, hw)]),
        ("cross_entropy", F.cross_entropy, TF.cross_entropy,
         lambda r: [rand(r, 5, 4) * 5, r.integers(0, 4, size=5)]),
    ]
    return cases


def lenet_pair(seed=0):
    """A gpucnn LeNet-5 and the same torch Sequential with the torch weights loaded into it."""
    import gpucnn as gc
    torch.manual_seed(seed)
    reference = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))
    model = gc.nn.Sequential(
        gc.nn.Conv2d(1, 6, 5, padding=2), gc.nn.ReLU(), gc.nn.MaxPool2d(2),
        gc.nn.Conv2d(6, 16, 5), gc.nn.ReLU(), gc.nn.MaxPool2d(2), gc.nn.Flatten(),
        gc.nn.Linear(400, 120), gc.nn.ReLU(), gc.nn.Linear(120, 84), gc.nn.ReLU(),
        gc.nn.Linear(84, 10))
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return model, reference
