"""A LeNet-5 whose weights come from PyTorch gives the same logits and, after several
SGD-momentum and Adam steps on the same batches, the same weights."""
import numpy as np
import pytest
import torch

import gpucnn as gc
import gpucnn.nn.functional as F
from tests.engine.op_cases import lenet_pair
from tests.helpers import assert_close


def batches(steps, n=8, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.uniform(0, 1, (n, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, n))
            for _ in range(steps)]


def test_same_logits_as_torch():
    model, reference = lenet_pair()
    x = batches(1)[0][0]
    assert_close(model(gc.tensor(x)).numpy(), reference(torch.tensor(x)).detach().numpy(), 1e-4)


def test_state_dict_keys_and_shapes_match_torch():
    model, reference = lenet_pair()
    ours = model.state_dict()
    theirs = reference.state_dict()
    assert list(ours) == list(theirs)
    for key in ours:
        assert ours[key].shape == tuple(theirs[key].shape)
        assert isinstance(ours[key], gc.Tensor) and not ours[key].requires_grad


@pytest.mark.parametrize("make_opts", [
    lambda p, q: (gc.optim.SGD(p, lr=0.05, momentum=0.9), torch.optim.SGD(q, lr=0.05, momentum=0.9)),
    lambda p, q: (gc.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
                  torch.optim.SGD(q, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    lambda p, q: (gc.optim.SGD(p, lr=0.1), torch.optim.SGD(q, lr=0.1)),
    lambda p, q: (gc.optim.Adam(p, lr=1e-3), torch.optim.Adam(q, lr=1e-3)),
    lambda p, q: (gc.optim.Adam(p, lr=2e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2),
                  torch.optim.Adam(q, lr=2e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2)),
], ids=["sgd_momentum", "sgd_nesterov_wd", "sgd_plain", "adam", "adam_wd"])
def test_training_trajectory_matches_torch(make_opts):
    model, reference = lenet_pair(seed=1)
    opt, ref_opt = make_opts(model.parameters(), reference.parameters())
    for x, y in batches(4):
        opt.zero_grad()
        loss = F.cross_entropy(model(gc.tensor(x)), gc.tensor(y))
        loss.backward()
        opt.step()
        ref_opt.zero_grad()
        ref_loss = torch.nn.functional.cross_entropy(reference(torch.tensor(x)), torch.tensor(y))
        ref_loss.backward()
        ref_opt.step()
        assert abs(loss.item() - ref_loss.item()) <= 1e-4 * abs(ref_loss.item())
    theirs = reference.state_dict()
    for key, value in model.state_dict().items():
        assert_close(value, theirs[key].numpy(), 1e-3, key)
