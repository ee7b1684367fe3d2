"""Dropout: y = x * mask, the mask drawn from the Philox generator (kernels/random.py).

The mask holds 0 with probability p and 1 / (1 - p) otherwise, one value per element
(dropout) or per (sample, channel) broadcast over the rest (feature dropout, dropout2d).
Philox is counter-based: the mask depends only on (seed, offset, element index), so the same
seed gives the same mask on "cpu" and "cuda", run after run.
"""
from .. import random
from ..kernels import map_ops as M
from . import _arrays as A
from ..autograd import Function


class Dropout(Function):
    name = "dropout"
    strided_inputs = True
    saves = ()   # backward reads only the mask

    def forward(self, x, *, p, mask_shape):
        mask = A.empty(self.kernels, mask_shape)
        seed, offset = random.philox_counters(mask.size)
        self.kernels.dropout_mask(mask, seed, offset, p)
        self.mask = mask
        return A.binary(self.kernels, M.B_MUL, x, mask)

    def backward(self, g):
        return A.binary(self.kernels, M.B_MUL, g, self.mask)
