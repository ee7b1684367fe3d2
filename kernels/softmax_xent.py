"""Softmax cross-entropy, averaged over the batch (torch.nn.functional.cross_entropy's default).

    cross_entropy_forward(logits (N, C), labels int64 (N,)) -> (loss (1,), probs (N, C))
        loss = mean_i [ logsumexp(logits[i]) - logits[i, labels[i]] ]
        probs = softmax(logits), kept for the backward pass
    cross_entropy_backward(probs, labels, grad_loss (1,)) -> dlogits (N, C)
        dlogits = (probs - onehot(labels)) * grad_loss[0] / N

Both subtract the row maximum before exponentiating, so logits of any magnitude (±1000 and
beyond) give finite results. `grad_loss` is an array, not a number, because in the engine it
lives on the device and reading it back would cost a synchronisation.

Labels outside [0, C) are never used as an index: such a row yields a NaN loss (and NaN
gradients), so the batch loss turns NaN instead of memory being read out of bounds. The engine
validates labels before calling; this is a safety net, not an error report.

On the GPU the forward pass is one block: each thread takes whole rows (C is a handful of
classes in this engine, so a row is a short loop) and the batch mean is a shared-memory tree
over the block, deterministic and in a single launch. Batches are small (tens to hundreds of
rows); a batch of many thousands would want a grid of blocks and a second reduction pass.
"""
import math

import numpy as np
from numba import cuda, float32, njit, prange

from ._checks import check_array, output, outputs
from ._device_functions import block_tree_sum
from ._registry import Twins, cuda_kernel
from .elementwise import THREADS, grid_1d

VERSIONS = (1,)
DEFAULT_VERSION = 1


@cuda_kernel("void(float32[:, ::1], int64[::1], float32[::1], float32[:, ::1])")
def _cross_entropy_forward_kernel(logits, labels, loss, probs):
    n_rows, n_classes = logits.shape
    tid = cuda.threadIdx.x
    partial = cuda.shared.array(THREADS, float32)
    acc = float32(0.0)
    for i in range(tid, n_rows, THREADS):
        row_max = logits[i, 0]
        for j in range(1, n_classes):
            row_max = max(row_max, logits[i, j])
        total = float32(0.0)
        for j in range(n_classes):
            e = math.exp(logits[i, j] - row_max)
            probs[i, j] = e
            total += e
        inv_total = float32(1.0) / total
        for j in range(n_classes):
            probs[i, j] *= inv_total
        label = labels[i]
        if label >= 0 and label < n_classes:
            acc += math.log(total) - (logits[i, label] - row_max)
        else:
            acc += float32(math.nan)
    partial[tid] = acc
    block_tree_sum(partial, tid, THREADS)
    if tid == 0:
        loss[0] = partial[0] / float32(n_rows)


@cuda_kernel("void(float32[:, ::1], int64[::1], float32[::1], float32[:, ::1])")
def _cross_entropy_backward_kernel(probs, labels, grad_loss, dlogits):
    n_rows, n_classes = probs.shape
    scale = grad_loss[0] / float32(n_rows)
    for idx in range(cuda.grid(1), n_rows * n_classes, cuda.gridsize(1)):
        i = idx // n_classes
        j = idx % n_classes
        label = labels[i]
        if label >= 0 and label < n_classes:
            target = float32(1.0) if j == label else float32(0.0)
            dlogits[i, j] = (probs[i, j] - target) * scale
        else:
            dlogits[i, j] = float32(math.nan)


@njit(parallel=True, cache=True)
def _cross_entropy_forward_njit(logits, labels, loss, probs):
    n_rows, n_classes = logits.shape
    row_loss = np.empty(n_rows, dtype=np.float64)
    for i in prange(n_rows):
        row_max = logits[i, 0]
        for j in range(1, n_classes):
            row_max = max(row_max, logits[i, j])
        total = 0.0
        for j in range(n_classes):
            e = np.exp(np.float64(logits[i, j] - row_max))
            probs[i, j] = e
            total += e
        for j in range(n_classes):
            probs[i, j] = probs[i, j] / total
        label = labels[i]
        if label >= 0 and label < n_classes:
            row_loss[i] = np.log(total) - (logits[i, label] - row_max)
        else:
            row_loss[i] = np.nan
    # Summed after the parallel loop, in row order, so the result does not depend on threads
    # (an array .sum() would itself become a parallel reduction under parallel=True).
    total_loss = 0.0
    for i in range(n_rows):
        total_loss += row_loss[i]
    loss[0] = total_loss / n_rows


@njit(parallel=True, cache=True)
def _cross_entropy_backward_njit(probs, labels, grad_loss, dlogits):
    n_rows, n_classes = probs.shape
    scale = grad_loss[0] / np.float32(n_rows)
    for i in prange(n_rows):
        label = labels[i]
        valid = label >= 0 and label < n_classes
        for j in range(n_classes):
            if not valid:
                dlogits[i, j] = np.nan
            elif j == label:
                dlogits[i, j] = (probs[i, j] - np.float32(1.0)) * scale
            else:
                dlogits[i, j] = probs[i, j] * scale


def _check_logits_labels(op, x_name, x, labels):
    check_array(op, x_name, x, 2)
    check_array(op, "labels", labels, 1, dtype=np.int64)
    if min(x.shape) < 1:
        raise ValueError(f"{op}: {x_name} must be non-empty (N, C), got shape {tuple(x.shape)}")
    if labels.shape[0] != x.shape[0]:
        raise ValueError(f"{op}: labels has shape {tuple(labels.shape)}, expected ({x.shape[0]},) "
                         f"for {x_name} of shape {tuple(x.shape)}")


def _prepare_forward(op, logits, labels, loss_out, probs_out, on_device):
    _check_logits_labels(op, "logits", logits, labels)
    return outputs(op, on_device, (loss_out, (1,), np.float32, "loss_out"),
                   (probs_out, tuple(logits.shape), np.float32, "probs_out"),
                   logits=logits, labels=labels)


def _prepare_backward(op, probs, labels, grad_loss, out, on_device):
    _check_logits_labels(op, "probs", probs, labels)
    check_array(op, "grad_loss", grad_loss, 1)
    if tuple(grad_loss.shape) != (1,):
        raise ValueError(f"{op}: grad_loss has shape {tuple(grad_loss.shape)}, expected (1,)")
    return output(op, on_device, out, tuple(probs.shape), probs=probs, labels=labels,
                  grad_loss=grad_loss)


def cross_entropy_forward_cpu(logits, labels, loss_out=None, probs_out=None):
    """Mean softmax cross-entropy: returns (loss (1,), probs (N, C))."""
    loss, probs = _prepare_forward("cross_entropy_forward_cpu", logits, labels, loss_out,
                                   probs_out, False)
    _cross_entropy_forward_njit(logits, labels, loss, probs)
    return loss, probs


def cross_entropy_forward_cuda(logits, labels, loss_out=None, probs_out=None):
    """Mean softmax cross-entropy: returns (loss (1,), probs (N, C)), one block, deterministic."""
    loss, probs = _prepare_forward("cross_entropy_forward_cuda", logits, labels, loss_out,
                                   probs_out, True)
    _cross_entropy_forward_kernel[1, THREADS](logits, labels, loss, probs)
    return loss, probs


def cross_entropy_backward_cpu(probs, labels, grad_loss, out=None):
    """dlogits = (probs - onehot(labels)) * grad_loss[0] / N; `out` may alias `probs`."""
    out = _prepare_backward("cross_entropy_backward_cpu", probs, labels, grad_loss, out, False)
    _cross_entropy_backward_njit(probs, labels, grad_loss, out)
    return out


def cross_entropy_backward_cuda(probs, labels, grad_loss, out=None):
    """dlogits = (probs - onehot(labels)) * grad_loss[0] / N; `out` may alias `probs`."""
    out = _prepare_backward("cross_entropy_backward_cuda", probs, labels, grad_loss, out, True)
    _cross_entropy_backward_kernel[grid_1d(probs.size), THREADS](probs, labels, grad_loss, out)
    return out


OPS = {
    "cross_entropy_forward": Twins(cross_entropy_forward_cpu, cross_entropy_forward_cuda),
    "cross_entropy_backward": Twins(cross_entropy_backward_cpu, cross_entropy_backward_cuda),
}
