"""Softmax cross-entropy and optimizer launchers against their CPU twins in numba's
simulator, outputs NaN-poisoned so an unwritten element fails."""
import numpy as np
import pytest
from numba import cuda

from gpucnn.kernels import elementwise as ew
from gpucnn.kernels import optim, softmax_xent
from tests.helpers import assert_close, poisoned, rand


@pytest.fixture(params=[False, True], ids=["one-pass", "grid-stride"])
def stride(request, monkeypatch):
    """With MAX_BLOCKS = 2 (grid_1d, which these launchers share with elementwise.py), 600
    elements need the grid-stride loop of every kernel."""
    if request.param:
        monkeypatch.setattr(ew, "MAX_BLOCKS", 2)
    return request.param


def dev(a):
    return cuda.to_device(a)


@pytest.mark.parametrize("n,c,scale", [(1, 1, 1.0), (300, 3, 1.0), (7, 10, 1000.0)],
                         ids=["1x1", "rows-beyond-one-block", "large-logits"])
def test_cross_entropy(n, c, scale, stride):
    rng = np.random.default_rng(n + c)
    logits = (rand(rng, n, c) * scale).astype(np.float32)
    labels = rng.integers(0, c, size=n).astype(np.int64)
    grad = np.array([1.75], np.float32)
    loss_cpu, probs_cpu = softmax_xent.cross_entropy_forward_cpu(logits, labels)
    loss_out, probs_out = dev(poisoned((1,))), dev(poisoned((n, c)))
    loss, probs = softmax_xent.cross_entropy_forward_cuda(dev(logits), dev(labels),
                                                          loss_out=loss_out, probs_out=probs_out)
    assert loss is loss_out and probs is probs_out
    assert_close(loss.copy_to_host(), loss_cpu, what="loss")
    assert_close(probs.copy_to_host(), probs_cpu, what="probs")
    out = dev(poisoned((n, c)))
    assert softmax_xent.cross_entropy_backward_cuda(probs, dev(labels), dev(grad), out=out) is out
    assert_close(out.copy_to_host(),
                 softmax_xent.cross_entropy_backward_cpu(probs_cpu, labels, grad), what="dlogits")


def test_cross_entropy_bad_labels_give_nan():
    logits = rand(np.random.default_rng(3), 4, 3)
    labels = dev(np.array([0, 3, -1, 2], np.int64))
    loss, probs = softmax_xent.cross_entropy_forward_cuda(dev(logits), labels)
    assert np.isnan(loss.copy_to_host()[0])
    dlogits = softmax_xent.cross_entropy_backward_cuda(probs, labels, dev(np.ones(1, np.float32)))
    host = dlogits.copy_to_host()
    assert np.all(np.isnan(host[1:3])) and np.all(np.isfinite(host[[0, 3]]))


def test_cross_entropy_cuda_rejects_bad_arguments():
    logits = dev(np.ones((4, 3), np.float32))
    with pytest.raises(TypeError, match="cross_entropy_forward_cuda"):
        softmax_xent.cross_entropy_forward_cuda(logits, dev(np.zeros(4, np.int32)))
    with pytest.raises(ValueError, match="cross_entropy_backward_cuda"):
        softmax_xent.cross_entropy_backward_cuda(logits, dev(np.zeros(4, np.int64)),
                                                 dev(np.ones(2, np.float32)))


@pytest.mark.parametrize("hp", [dict(lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False),
                                dict(lr=0.05, momentum=0.9, weight_decay=1e-2, nesterov=False),
                                dict(lr=0.05, momentum=0.8, weight_decay=5e-3, nesterov=True)],
                         ids=["plain", "momentum-wd", "nesterov"])
def test_sgd_step(hp, stride):
    rng = np.random.default_rng(4)
    shape = (20, 30)
    param, buf = rand(rng, *shape), rand(rng, *shape)
    d_param, d_buf = dev(param), dev(buf)
    for step in range(3):
        g = rand(rng, *shape)
        optim.sgd_step_cpu(param, g, buf, first_step=step == 0, **hp)
        assert optim.sgd_step_cuda(d_param, dev(g), d_buf, first_step=step == 0, **hp) is d_param
    assert_close(d_param.copy_to_host(), param, what="param")
    assert_close(d_buf.copy_to_host(), buf, what="buf")


@pytest.mark.parametrize("weight_decay", [0.0, 1e-2], ids=["no-wd", "wd"])
def test_adam_step(weight_decay, stride):
    rng = np.random.default_rng(5)
    shape = (600,)
    param = rand(rng, *shape)
    m, v = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    d_param, d_m, d_v = dev(param), dev(m), dev(v)
    hp = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=weight_decay)
    for step in range(1, 4):
        g = rand(rng, *shape)
        optim.adam_step_cpu(param, g, m, v, step=step, **hp)
        optim.adam_step_cuda(d_param, dev(g), d_m, d_v, step=step, **hp)
    assert_close(d_param.copy_to_host(), param, what="param")
    assert_close(d_m.copy_to_host(), m, what="exp_avg")
    assert_close(d_v.copy_to_host(), v, what="exp_avg_sq")


def test_optim_cuda_rejects_bad_arguments():
    x = dev(np.ones(6, np.float32))
    with pytest.raises(ValueError, match="sgd_step_cuda"):
        optim.sgd_step_cuda(x, dev(np.ones(5, np.float32)), x, 0.1, 0.9, 0.0, False, True)
    with pytest.raises(TypeError, match="adam_step_cuda"):
        optim.adam_step_cuda(x, dev(np.ones(6)), x, x, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1)
