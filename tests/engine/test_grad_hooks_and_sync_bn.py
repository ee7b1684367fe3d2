"""Post-accumulate-grad hooks (what DistributedDataParallel starts its reductions from) and
SyncBatchNorm in a single process (it is BatchNorm there), with its conversion."""
import numpy as np
import pytest

import gpucnn as gc
import gpucnn.nn as nn


def test_post_accumulate_grad_hook_sees_the_final_gradient_once_per_backward():
    w = gc.nn.Parameter(gc.randn(3, 2))
    x = gc.randn(4, 3)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    # w feeds two branches: the hook runs after both have added their part.
    ((x @ w).sum() + (x @ w * 2.0).sum()).backward()
    assert len(seen) == 1
    expected = 3.0 * x.numpy().T @ np.ones((4, 2), np.float32)
    np.testing.assert_allclose(seen[0], expected, rtol=1e-5)
    (x @ w).sum().backward()   # accumulates: the hook sees the sum
    np.testing.assert_allclose(seen[1], expected + expected / 3.0, rtol=1e-5)
    handle.remove()
    (x @ w).sum().backward()
    assert len(seen) == 2


def test_post_accumulate_grad_hook_needs_a_leaf_that_requires_grad():
    w = gc.nn.Parameter(gc.randn(2))
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2.0).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require"):
        gc.randn(2).register_post_accumulate_grad_hook(print)
    with pytest.raises(TypeError, match="callable"):
        w.register_post_accumulate_grad_hook(3)


def _bn_net():
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.Sequential(nn.Flatten(), nn.BatchNorm1d(12), nn.Linear(12, 2)))


def test_convert_sync_batchnorm_keeps_every_parameter_buffer_and_key():
    gc.manual_seed(0)
    net = _bn_net()
    net[1].momentum = None
    net.eval()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    weight = net[1].weight
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert converted is net
    assert type(net[1]) is nn.SyncBatchNorm and type(net[3][1]) is nn.SyncBatchNorm
    assert net[1].weight is weight and net[1].momentum is None and not net[1].training
    after = net.state_dict()
    assert list(after) == list(before)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key].numpy(), value)
    alone = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm2d(4, eps=1e-3))
    assert type(alone) is nn.SyncBatchNorm and alone.eps == 1e-3


def test_sync_batchnorm_without_a_process_group_is_batchnorm():
    gc.manual_seed(1)
    plain = _bn_net()
    gc.manual_seed(1)
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(_bn_net())
    x = np.random.default_rng(2).standard_normal((5, 2, 4, 4)).astype(np.float32)
    for model in (plain, synced):
        out = model(gc.tensor(x))
        out.sum().backward()
    np.testing.assert_array_equal(synced(gc.tensor(x)).detach().numpy(),
                                  plain(gc.tensor(x)).detach().numpy())
    for (name, a), (_, b) in zip(plain.named_parameters(), synced.named_parameters()):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy(), err_msg=name)
    np.testing.assert_array_equal(plain[1].running_var.numpy(), synced[1].running_var.numpy())
    with pytest.raises(ValueError, match="SyncBatchNorm: expected at least 2D"):
        nn.SyncBatchNorm(3)(gc.randn(3))
