"""ResNet-20 given PyTorch's weights and buffers computes what PyTorch computes: the same
logits in train and eval mode, and after several SGD-momentum and AdamW steps under
OneCycleLR the same weights and running statistics."""
import numpy as np
import pytest
import torch

import gpucnn as gc
from gpucnn.bench.torch_mirror import torch_cifar_resnet
from gpucnn.models import resnet20

BATCH = 8


def _pair(seed=0):
    torch.manual_seed(seed)
    twin = torch_cifar_resnet(torch, (16, 32, 64), (3, 3, 3), "A")
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, buffer in twin.named_buffers():   # running statistics away from 0 / 1
            if buffer.dtype == torch.float32:
                buffer.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, buffer.shape)))
        for name, param in twin.named_parameters():
            if "bn" in name or "shortcut.1" in name:   # BN affine away from 1 / 0
                param.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, param.shape)))
    ours = resnet20()
    result = ours.load_state_dict({k: gc.tensor(v.numpy()) for k, v in twin.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    return ours, twin


def _batch(seed):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 1, (BATCH, 3, 32, 32)).astype(np.float32),
            rng.integers(0, 10, BATCH).astype(np.int64))


def _assert_same_state(ours, twin, rtol, atol):
    theirs = twin.state_dict()
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value.numpy(), theirs[key].numpy(), rtol=rtol, atol=atol,
                                   err_msg=key)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_logits_match_pytorch(mode):
    ours, twin = _pair()
    getattr(ours, mode)(), getattr(twin, mode)()
    x, _ = _batch(1)
    logits = ours(gc.tensor(x))
    expected = twin(torch.from_numpy(x))
    np.testing.assert_allclose(logits.detach().numpy(), expected.detach().numpy(), rtol=1e-4,
                               atol=1e-4)
    # Train mode updates the running statistics from the batch, as PyTorch does.
    _assert_same_state(ours, twin, rtol=1e-5, atol=1e-6)


def _train_step(model, opt, sched, cross_entropy, x, y):
    """One step of either library: model, optimizer, scheduler, loss and batch all its own."""
    opt.zero_grad()
    loss = cross_entropy(model(x), y, label_smoothing=0.1)
    loss.backward()
    opt.step()
    sched.step()
    return loss.item()


# optimizer: (class name in gc.optim and torch.optim, its options, OneCycleLR's max_lr)
OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True), 0.05),
    "adamw": ("AdamW", dict(lr=1e-3, weight_decay=0.05), 3e-3),
}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_training_steps_under_one_cycle_match_pytorch(optimizer):
    ours, twin = _pair(seed=3)
    name, options, max_lr = OPTIMIZERS[optimizer]
    opt = getattr(gc.optim, name)(ours.parameters(), **options)
    topt = getattr(torch.optim, name)(twin.parameters(), **options)
    steps = 5
    sched = gc.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=steps)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=max_lr, total_steps=steps)
    ours.train(), twin.train()
    for step in range(steps):
        x, y = _batch(10 + step)
        loss = _train_step(ours, opt, sched, gc.nn.functional.cross_entropy, gc.tensor(x),
                           gc.tensor(y))
        tloss = _train_step(twin, topt, tsched, torch.nn.functional.cross_entropy,
                            torch.from_numpy(x), torch.from_numpy(y))
        assert abs(loss - tloss) < 1e-3 * max(1.0, abs(tloss))
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    _assert_same_state(ours, twin, rtol=2e-3, atol=2e-4)
    ours.eval(), twin.eval()
    x, _ = _batch(99)
    np.testing.assert_allclose(ours(gc.tensor(x)).detach().numpy(),
                               twin(torch.from_numpy(x)).detach().numpy(), rtol=2e-3, atol=2e-3)
