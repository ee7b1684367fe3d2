"""Softmax cross-entropy CPU twins against torch.nn.functional.cross_entropy (float64),
forward and gradient, including logits large enough to overflow a naive softmax."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gpucnn.kernels.softmax_xent import (cross_entropy_backward_cpu, cross_entropy_backward_cuda,
                                         cross_entropy_forward_cpu, cross_entropy_forward_cuda)
from tests.helpers import assert_close, rand


def torch_reference(logits, labels, grad):
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(z, torch.tensor(labels))
    (loss * grad).backward()
    probs = torch.softmax(z.detach(), dim=1)
    return loss.item(), probs.numpy(), z.grad.numpy()


@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0], ids=["unit", "x30", "x1000"])
@pytest.mark.parametrize("n,c", [(1, 1), (1, 10), (3, 2), (64, 10), (130, 17), (17, 1000)], ids=str)
def test_cross_entropy_matches_torch(n, c, scale):
    rng = np.random.default_rng(n * 1000 + c)
    logits = (rand(rng, n, c) * scale).astype(np.float32)
    labels = rng.integers(0, c, size=n).astype(np.int64)
    grad = np.float32(rng.uniform(0.5, 2.0))
    expected_loss, expected_probs, expected_grad = torch_reference(logits, labels, float(grad))

    loss, probs = cross_entropy_forward_cpu(logits, labels)
    assert loss.shape == (1,) and loss.dtype == np.float32 and probs.dtype == np.float32
    assert np.isfinite(loss[0]) and np.all(np.isfinite(probs))
    assert_close(loss, np.array([expected_loss]), what="loss")
    assert_close(probs, expected_probs, what="probs")
    dlogits = cross_entropy_backward_cpu(probs, labels, np.array([grad], np.float32))
    assert_close(dlogits, expected_grad, what="dlogits")


def test_large_logits_do_not_overflow():
    logits = np.array([[1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -1001.0]], np.float32)
    labels = np.array([2, 0], np.int64)
    loss, probs = cross_entropy_forward_cpu(logits, labels)
    expected_loss, expected_probs, _ = torch_reference(logits, labels, 1.0)
    assert_close(loss, np.array([expected_loss]))
    assert_close(probs, expected_probs)


def test_outputs_are_written_into_given_buffers():
    rng = np.random.default_rng(5)
    logits, labels = rand(rng, 6, 4), np.array([0, 1, 2, 3, 0, 1], np.int64)
    loss_out, probs_out = np.full(1, np.nan, np.float32), np.full((6, 4), np.nan, np.float32)
    loss, probs = cross_entropy_forward_cpu(logits, labels, loss_out=loss_out, probs_out=probs_out)
    assert loss is loss_out and probs is probs_out
    # The backward pass may overwrite probs with dlogits in place.
    expected = cross_entropy_backward_cpu(probs, labels, np.ones(1, np.float32))
    assert cross_entropy_backward_cpu(probs, labels, np.ones(1, np.float32), out=probs) is probs
    np.testing.assert_array_equal(probs, expected)


def test_labels_out_of_range_give_nan_not_a_crash():
    rng = np.random.default_rng(9)
    logits = rand(rng, 4, 3)
    labels = np.array([0, 3, -1, 2], np.int64)
    loss, probs = cross_entropy_forward_cpu(logits, labels)
    assert np.isnan(loss[0])
    assert np.all(np.isfinite(probs))
    dlogits = cross_entropy_backward_cpu(probs, labels, np.ones(1, np.float32))
    assert np.all(np.isnan(dlogits[1:3])) and np.all(np.isfinite(dlogits[[0, 3]]))


def test_bad_arguments_raise():
    logits, labels = np.ones((4, 3), np.float32), np.zeros(4, np.int64)
    grad = np.ones(1, np.float32)
    for fwd, bwd in ((cross_entropy_forward_cpu, cross_entropy_backward_cpu),
                     (cross_entropy_forward_cuda, cross_entropy_backward_cuda)):
        with pytest.raises(TypeError, match=fwd.__name__):
            fwd(logits, labels.astype(np.int32))
        with pytest.raises(TypeError, match=fwd.__name__):
            fwd(logits.astype(np.float64), labels)
        with pytest.raises(ValueError, match=fwd.__name__):
            fwd(logits, np.zeros(5, np.int64))
        with pytest.raises(ValueError, match=fwd.__name__):
            fwd(logits.ravel(), labels)
        with pytest.raises(ValueError, match=fwd.__name__):
            fwd(np.ones((4, 6), np.float32)[:, ::2], labels)
        with pytest.raises(ValueError, match=bwd.__name__):
            bwd(logits, labels, np.ones(2, np.float32))
        with pytest.raises(ValueError, match=bwd.__name__):
            bwd(logits, labels, grad, out=np.empty((3, 4), np.float32))
    with pytest.raises(ValueError, match="cross_entropy_forward_cpu"):
        cross_entropy_forward_cpu(logits, labels, probs_out=np.empty((4, 2), np.float32))
    with pytest.raises(TypeError, match="device array"):
        cross_entropy_forward_cuda(logits, labels)
