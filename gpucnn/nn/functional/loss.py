"""Losses, with torch.nn.functional's signatures and semantics.

    cross_entropy     logits (C), (N, C) or (N, C, d1, ...) against class indices (int64;
                      int32 is accepted too) or class probabilities (a float target of the
                      input's shape); weight, ignore_index, label_smoothing, reduction
    nll_loss          log-probabilities against class indices; weight, ignore_index, reduction
    mse_loss, l1_loss (optional per-element weight), smooth_l1_loss (beta), huber_loss (delta,
                      optional weight)
    binary_cross_entropy               probabilities in [0, 1]; logs clamped at -100
    binary_cross_entropy_with_logits   logits; weight, pos_weight; stable for any logit size

The common case of cross_entropy -- (N, C) logits, integer labels, no weight, no smoothing,
reduction "mean" and no ignored label present -- is one fused kernel pair
(ops/loss.py's CrossEntropy). Every other case is composed of Tensor ops, each a kernel with
its CPU twin, so its gradient comes from autograd; ops/loss.py adds the two pieces that need
gradients of their own (BCE's, finite at 0 and 1, and log-sigmoid's).

Shapes follow PyTorch: the regression losses broadcast a target of another shape, with
PyTorch's UserWarning; both binary cross-entropies refuse one (ValueError). Class labels
outside [0, C) other than ignore_index are a ValueError, checked on the host before any kernel
runs. With reduction "mean" and every target ignored, the loss is NaN and the gradient zero,
as PyTorch's. The deprecated size_average / reduce arguments become `reduction` as PyTorch
turns them (with its warning).
"""
import math
import numbers
import warnings

from ... import dtypes
from ...factories import arange
from ...functions import where
from ...ops import _arrays
from ...ops import loss as loss_ops
from ...tensor import Tensor
from ._checks import check_tensor

REDUCTIONS = ("none", "mean", "sum")


# ================================================================ arguments

def legacy_reduction(size_average, reduce, emit_warning=True) -> str:
    """PyTorch's mapping of the deprecated size_average / reduce flags to `reduction`."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "mean" if size_average and reduce else ("sum" if reduce else "none")
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{result}' instead.", stacklevel=4)
    return result


def checked_reduction(op, reduction, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use "
                      "reduction='mean' instead.", stacklevel=3)
        return "mean"
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; give "
                         f"'none', 'mean' or 'sum'")
    return reduction


def _tensor(op, name, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a gpucnn Tensor, got {type(value).__name__}")
    return value


def _number(op, name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def _same_device(op, input, **others):
    for name, t in others.items():
        if t is not None and t.device != input.device:
            raise ValueError(f"{op}: {name} {tuple(t.shape)} is on {t.device} but input "
                             f"{tuple(input.shape)} is on {input.device}; move it with "
                             f".to('{input.device}')")


def _class_weight(op, weight, classes, input):
    """A (C,) float tensor of per-class weights, or None."""
    if weight is None:
        return None
    check_tensor(op, "weight", weight)
    if weight.ndim != 1 or weight.shape[0] != classes:
        raise ValueError(f"{op}: weight should hold one value per class, {classes} for input "
                         f"of shape {tuple(input.shape)}; got weight of shape "
                         f"{tuple(weight.shape)}")
    _same_device(op, input, weight=weight)
    return weight


def _class_targets(op, input, target, ignore_index, probabilities_allowed=False) -> int:
    """Checks integer class labels against input ((C,) with a 0-d target, (N, C, d...) with
    (N, d...)); returns how many labels equal ignore_index."""
    if target.dtype not in (dtypes.int64, dtypes.int32):
        also = (f", or class probabilities of the input's shape {tuple(input.shape)}"
                if probabilities_allowed else "")
        raise TypeError(f"{op}: target must hold integer class labels{also}; got "
                        f"{target.dtype} of shape {tuple(target.shape)}")
    expected = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: expected target of shape {expected} for input of shape "
                         f"{tuple(input.shape)}, got {tuple(target.shape)} "
                         f"({target.numel()} labels)")
    _same_device(op, input, target=target)
    labels = target._host_values()
    classes = input.shape[0 if input.ndim == 1 else 1]
    ignored = labels == ignore_index
    bad = ((labels < 0) | (labels >= classes)) & ~ignored
    if bad.any():
        raise ValueError(f"{op}: labels must lie in [0, {classes}) for input of shape "
                         f"{tuple(input.shape)} (or equal ignore_index={ignore_index}); found "
                         f"{labels[bad][:5].tolist()}")
    return int(ignored.sum())


def _ignore_index(op, ignore_index) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{op}: ignore_index must be an int, got {ignore_index!r}")
    return int(ignore_index)


# ================================================================ shared pieces

def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _nan_with_zero_gradient(x):
    """PyTorch's mean over no targets: NaN, with a zero gradient (not 0 / 0's NaN)."""
    return x.sum() * 0.0 + math.nan


def _nll(logp, target, weight, ignore_index, reduction, n_ignored, label_smoothing=0.0):
    """Negative log-likelihood of log-probabilities logp (N, C, d...) at checked int64 labels
    target (N, d...), with torch's label smoothing term when label_smoothing > 0.

    The label's entry of each row is picked by a one-hot mask (labels == arange(C)) and
    `where`, not a product, so that a -inf log-probability of another class stays out."""
    classes = logp.shape[1]
    class_shape = (1, classes) + (1,) * (logp.ndim - 2)
    picked = target.unsqueeze(1) == arange(classes, device=logp.device).view(class_shape)
    kept = target != ignore_index if n_ignored else None
    if kept is not None and 0 <= ignore_index < classes:
        picked = picked & kept.unsqueeze(1)     # an ignored label that is also a class
    class_weight = weight.view(class_shape) if weight is not None else None
    chosen = where(picked, logp, 0.0)
    if class_weight is not None:
        chosen = chosen * class_weight
    loss = -chosen.sum(1)
    smooth = None
    if label_smoothing > 0:
        smooth = -(logp * class_weight if class_weight is not None else logp).sum(1)
        if kept is not None:
            smooth = where(kept, smooth, 0.0)

    def combined(nll_part, smooth_part):
        if smooth is None:
            return nll_part
        return nll_part * (1.0 - label_smoothing) + smooth_part * (label_smoothing / classes)

    if reduction == "none":
        return combined(loss, smooth)
    if reduction == "sum":
        return combined(loss.sum(), smooth.sum() if smooth is not None else None)
    if target.numel() == n_ignored:
        return _nan_with_zero_gradient(logp)
    # mean: divided by the summed weights of the labels that count (their number, unweighted)
    if class_weight is not None:
        total = (picked.float() * class_weight).sum()
        return combined(loss.sum() / total, smooth.sum() / total if smooth is not None else None)
    count = float(target.numel() - n_ignored)
    return combined(loss.sum() / count, smooth.sum() / count if smooth is not None else None)


def _unbatched(input, target):
    """(C,) input and 0-d target as a batch of one."""
    return input.unsqueeze(0), target.reshape(1)


# ================================================================ classification

def cross_entropy(input, target, weight=None, size_average=None,  # noqa: A002
                  ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0):
    op = "cross_entropy"
    reduction = checked_reduction(op, reduction, size_average, reduce)
    check_tensor(op, "input", input)
    _tensor(op, "target", target)
    ignore_index = _ignore_index(op, ignore_index)
    label_smoothing = _number(op, "label_smoothing", label_smoothing)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must be (C), (N, C) or (N, C, d1, ...) logits, got a "
                         f"0-D tensor")
    if label_smoothing > 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    weight = _class_weight(op, weight, classes, input)
    if target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape):
        _same_device(op, input, target=target)
        if ignore_index >= 0:
            raise ValueError(f"{op}: ignore_index={ignore_index} is not supported for class-"
                             f"probability (float) targets; it applies to class indices")
        return _probability_cross_entropy(input, target, weight, reduction, label_smoothing)
    n_ignored = _class_targets(op, input, target, ignore_index, probabilities_allowed=True)
    target = target if target.dtype is dtypes.int64 else target.long()
    if input.ndim == 2 and weight is None and label_smoothing <= 0 and reduction == "mean" \
            and n_ignored == 0 and input.shape[0] > 0:
        return loss_ops.CrossEntropy.apply(input, target)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = _unbatched(input, target)
    loss = _nll(input.log_softmax(1), target, weight, ignore_index, reduction, n_ignored,
                label_smoothing)
    return loss.squeeze(0) if unbatched and reduction == "none" else loss


def _probability_cross_entropy(input, target, weight, reduction, label_smoothing):
    """-sum_c target_c log_softmax(input)_c per sample (PyTorch's class-probability form):
    smoothing mixes the target with the uniform distribution; "mean" divides by the number of
    samples (numel / C), not by the weights."""
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    logp = input.log_softmax(class_dim)
    if label_smoothing > 0:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    term = logp * target
    if weight is not None:
        term = term * (weight if input.ndim == 1 else
                       weight.view((1, classes) + (1,) * (input.ndim - 2)))
    if reduction == "none":
        return -term.sum(class_dim)
    if reduction == "sum":
        return -term.sum()
    if input.numel() == 0:
        return _nan_with_zero_gradient(input)
    return -term.sum() / (input.numel() / classes)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100,  # noqa: A002
             reduce=None, reduction="mean"):
    op = "nll_loss"
    reduction = checked_reduction(op, reduction, size_average, reduce)
    check_tensor(op, "input", input)
    _tensor(op, "target", target)
    ignore_index = _ignore_index(op, ignore_index)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must be (C), (N, C) or (N, C, d1, ...) "
                         f"log-probabilities, got a 0-D tensor")
    classes = input.shape[0 if input.ndim == 1 else 1]
    weight = _class_weight(op, weight, classes, input)
    n_ignored = _class_targets(op, input, target, ignore_index)
    target = target if target.dtype is dtypes.int64 else target.long()
    unbatched = input.ndim == 1
    if unbatched:
        input, target = _unbatched(input, target)
    loss = _nll(input, target, weight, ignore_index, reduction, n_ignored)
    return loss.squeeze(0) if unbatched and reduction == "none" else loss


# ================================================================ regression

def _regression_operands(op, input, target, weight=None):
    """input and target as PyTorch takes them: a target of another shape is broadcast, with
    PyTorch's warning; a weight must have the input's shape."""
    check_tensor(op, "input", input)
    _tensor(op, "target", target)
    if target.dtype is dtypes.bool:
        raise TypeError(f"{op}: target must be a number tensor, got bool (shape "
                        f"{tuple(target.shape)}); convert it with .float()")
    _same_device(op, input, target=target, weight=weight)
    if tuple(target.shape) != tuple(input.shape):
        _arrays.broadcast_shapes(op, input.shape, target.shape)   # the error names the op
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      f"to broadcasting. Please ensure they have the same size.", stacklevel=3)
    if weight is not None:
        check_tensor(op, "weight", weight)
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError(f"{op}: weight and input must have the same size, got weight "
                             f"{tuple(weight.shape)} and input {tuple(input.shape)}")


def _weighted(loss, weight, reduction, mean_over_weights):
    """PyTorch's weighted regression losses: "mean" divides by the sum of the weights
    (mse, l1) or by the number of elements (huber)."""
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    if reduction == "mean" and mean_over_weights:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _distance_loss(op, distance):
    """mse_loss and l1_loss: distance(input - target), optionally weighted per element. Made
    by a factory, not sharing a helper, so that the warnings' stacklevel still names the
    caller's line."""
    def loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
             weight=None):
        reduction = checked_reduction(op, reduction, size_average, reduce)
        _regression_operands(op, input, target, weight)
        return _weighted(distance(input - target), weight, reduction, mean_over_weights=True)
    loss.__name__ = loss.__qualname__ = op
    return loss


mse_loss = _distance_loss("mse_loss", Tensor.square)
l1_loss = _distance_loss("l1_loss", Tensor.abs)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
                   beta=1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere; beta = 0 is l1_loss."""
    op = "smooth_l1_loss"
    reduction = checked_reduction(op, reduction, size_average, reduce)
    beta = _number(op, "beta", beta)
    if beta < 0:
        raise ValueError(f"{op}: beta must be >= 0 (the loss does not support negative "
                         f"values for beta), got {beta}")
    _regression_operands(op, input, target)
    diff = input - target
    size = diff.abs()
    if beta == 0.0:
        return _reduce(size, reduction)
    loss = where(size < beta, diff.square() * (0.5 / beta), size - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""
    op = "huber_loss"
    reduction = checked_reduction(op, reduction)
    delta = _number(op, "delta", delta)
    if delta <= 0:
        raise ValueError(f"{op}: delta must be > 0 (the loss does not support non-positive "
                         f"values for delta), got {delta}")
    _regression_operands(op, input, target, weight)
    diff = input - target
    size = diff.abs()
    loss = where(size < delta, diff.square() * 0.5, (size - 0.5 * delta) * delta)
    return _weighted(loss, weight, reduction, mean_over_weights=False)


# ================================================================ binary classification

def _binary_operands(op, input, target, reduction_args, **weights):
    check_tensor(op, "input", input)
    check_tensor(op, "target", target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} must have the input's "
                         f"shape {tuple(input.shape)} (PyTorch refuses a different size here)")
    for name, w in weights.items():
        if w is None:
            continue
        check_tensor(op, name, w)
        shape = _arrays.broadcast_shapes(op, input.shape, w.shape)
        if shape != tuple(input.shape):
            raise ValueError(f"{op}: {name} of shape {tuple(w.shape)} must broadcast to the "
                             f"input's shape {tuple(input.shape)}, not to {shape}")
    _same_device(op, input, target=target, **weights)
    return checked_reduction(op, *reduction_args)


def _check_probabilities(op, name, t):
    inside = ((t >= 0) & (t <= 1)).all()   # False for NaN too
    if not bool(inside):
        raise ValueError(f"{op}: all elements of {name} should be between 0 and 1, got values "
                         f"from {t.amin().item():g} to {t.amax().item():g}" +
                         (" (probabilities: apply sigmoid first, or use "
                          "binary_cross_entropy_with_logits)" if name == "input" else ""))


def binary_cross_entropy(input, target, weight=None, size_average=None,  # noqa: A002
                         reduce=None, reduction="mean"):
    """-weight (t log x + (1 - t) log(1 - x)), each log clamped at -100 (PyTorch's floor), so
    x = 0 or 1 gives a finite loss and gradient."""
    op = "binary_cross_entropy"
    reduction = _binary_operands(op, input, target, (reduction, size_average, reduce),
                                 weight=weight)
    _check_probabilities(op, "input", input)
    _check_probabilities(op, "target", target)
    loss = loss_ops.binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None,  # noqa: A002
                                     size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """(1 - t) x - l log(sigmoid(x)), l = 1 + (pos_weight - 1) t (PyTorch's form): log-sigmoid
    never exponentiates a large number, so logits of +-1e4 give finite values and gradients."""
    op = "binary_cross_entropy_with_logits"
    reduction = _binary_operands(op, input, target, (reduction, size_average, reduce),
                                 weight=weight, pos_weight=pos_weight)
    log_sigmoid = loss_ops.log_sigmoid(input)
    if pos_weight is not None:
        log_sigmoid = log_sigmoid * ((pos_weight - 1.0) * target + 1.0)
    loss = (1.0 - target) * input - log_sigmoid
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
