"""Losses."""
from ... import dtypes
from ...ops.loss import CrossEntropy
from ._checks import check_tensor


def cross_entropy(logits, target):
    op = "cross_entropy"
    check_tensor(op, "logits", logits, 2)
    check_tensor(op, "target", target, 1, floating=False)
    if target.dtype not in (dtypes.int64, dtypes.int32):
        raise TypeError(f"{op}: target must hold integer class labels, got {target.dtype}")
    if target.shape[0] != logits.shape[0]:
        raise ValueError(f"{op}: {logits.shape[0]} rows of logits {logits.shape} but "
                         f"{target.shape[0]} labels")
    labels = target._host_values()
    classes = logits.shape[1]
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise ValueError(f"{op}: labels must lie in [0, {classes}) for logits {logits.shape}; "
                         f"found {labels[bad][:5].tolist()}")
    return CrossEntropy.apply(logits, target)


def nll_loss(*args, **kwargs):
    raise NotImplementedError('nll_loss: being written')


def mse_loss(*args, **kwargs):
    raise NotImplementedError('mse_loss: being written')


def l1_loss(*args, **kwargs):
    raise NotImplementedError('l1_loss: being written')


def smooth_l1_loss(*args, **kwargs):
    raise NotImplementedError('smooth_l1_loss: being written')


def huber_loss(*args, **kwargs):
    raise NotImplementedError('huber_loss: being written')


def binary_cross_entropy(*args, **kwargs):
    raise NotImplementedError('binary_cross_entropy: being written')


def binary_cross_entropy_with_logits(*args, **kwargs):
    raise NotImplementedError('binary_cross_entropy_with_logits: being written')
