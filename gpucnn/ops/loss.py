"""The losses' own ops; everything else a loss needs (log_softmax, masks, weights, reductions)
is composed of the Tensor ops in gpucnn/nn/functional/loss.py, with gradients from autograd.

    CrossEntropy          mean softmax cross-entropy of (N, C) logits and int64 labels in one
                          fused kernel pair (kernels/softmax_xent.py): the common case's fast path
    BinaryCrossEntropy    -(t log x + (1 - t) log(1 - x)) elementwise, each log clamped at -100,
                          with PyTorch's gradient formula (finite at x = 0 and x = 1)
    LogSigmoid            log(sigmoid(x)) = -softplus(-x), finite for logits of any size
"""
from ..autograd import Function
from ..kernels import map_ops as M
from . import _arrays as A

# PyTorch's floor for BCE's logarithms and its guard for the gradient's denominator.
LOG_FLOOR = -100.0
BCE_GRAD_EPSILON = 1e-12
# softplus switches to the identity above this (PyTorch's default threshold): exp would overflow.
SOFTPLUS_THRESHOLD = 20.0


class CrossEntropy(Function):
    name = "cross_entropy"
    float_inputs = False  # logits are float, targets are integer labels; checked in F

    def forward(self, logits, target):
        loss, self.probs = self.kernels.cross_entropy_forward(logits, target)
        self.target = target
        return loss.reshape(())

    def backward(self, g):
        return self.kernels.cross_entropy_backward(self.probs, self.target, g.reshape(1)), None


class BinaryCrossEntropy(Function):
    """Elementwise BCE of probabilities x and targets t of one shape (checked in F), unreduced
    and unweighted. The gradient is PyTorch's closed form, not the chain rule through the
    clamped logarithms: at x = 0 or 1 the chain rule would give 0 / 0."""
    name = "binary_cross_entropy"
    strided_inputs = True

    def forward(self, x, t):
        k = self.kernels
        self.x, self.t = x, t
        log_x = A.unary(k, M.U_MAXIMUM, A.unary(k, M.U_LOG, x), LOG_FLOOR)
        log_1mx = A.unary(k, M.U_MAXIMUM, A.unary(k, M.U_LOG1P, A.unary(k, M.U_NEG, x)),
                          LOG_FLOOR)
        # (t - 1) log(1 - x) - t log(x)
        return A.binary(k, M.B_SUB, A.binary(k, M.B_MUL, A.unary(k, M.U_ADD, t, -1.0), log_1mx),
                        A.binary(k, M.B_MUL, t, log_x))

    def backward(self, g):
        k, x, t = self.kernels, self.x, self.t
        gx = gt = None
        if self.needs_grad[0]:   # g (x - t) / max(x (1 - x), eps)
            spread = A.unary(k, M.U_MAXIMUM,
                             A.binary(k, M.B_MUL, x, A.unary(k, M.U_RSUB, x, 1.0)),
                             BCE_GRAD_EPSILON)
            gx = A.binary(k, M.B_MUL, g, A.binary(k, M.B_DIV, A.binary(k, M.B_SUB, x, t), spread))
        if self.needs_grad[1]:   # g (log(1 - x) - log(x)) = -g logit(x)
            minus_logit = A.binary(k, M.B_SUB, A.unary(k, M.U_LOG1P, A.unary(k, M.U_NEG, x)),
                                   A.unary(k, M.U_LOG, x))
            gt = A.binary(k, M.B_MUL, g, minus_logit)
        return gx, gt


class LogSigmoid(Function):
    """log(sigmoid(x)) as -softplus(-x): no exp of a large number, so logits of +-1e4 give
    finite values and gradients. d/dx = sigmoid(-x), softplus's own gradient at -x."""
    name = "log_sigmoid"
    strided_inputs = True
    saves = ()

    def forward(self, x):
        k = self.kernels
        self.neg_x = A.unary(k, M.U_NEG, x)
        return A.unary(k, M.U_NEG, A.unary(k, M.U_SOFTPLUS, self.neg_x, 1.0, SOFTPLUS_THRESHOLD))

    def backward(self, g):
        return A.binary(self.kernels, M.B_SOFTPLUS_GRAD, g, self.neg_x, 1.0, SOFTPLUS_THRESHOLD)


def binary_cross_entropy(x, t):
    return BinaryCrossEntropy.apply(x, t)


def log_sigmoid(x):
    return LogSigmoid.apply(x)
