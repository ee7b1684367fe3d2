"""Batch normalization: (N, C, *) seen as (N, C, S), statistics per channel over (N, S).

In training the batch's mean and biased variance normalise the input (and, when running
statistics are given, the stats kernel updates them in place in the same pass); in evaluation
the running statistics do, and the backward pass is a plain per-channel scale (they are
constants). Weight and bias are optional inputs: `has_weight` / `has_bias` say which of them
follow x, and backward returns a gradient for each one given, in that order.
"""
import math

from ..autograd import Function
from . import _arrays as A


class BatchNorm(Function):
    name = "batch_norm"

    def forward(self, x, *affine, has_weight, has_bias, running_mean, running_var, training,
                momentum, eps):
        weight = affine[0] if has_weight else None
        bias = affine[-1] if has_bias else None
        self.x_shape, self.n_chan = tuple(x.shape), int(x.shape[1])
        self.has_weight, self.has_bias = has_weight, has_bias
        self.training, self.eps = training, eps
        self.empty = x.size == 0
        if self.empty:   # PyTorch: an empty batch gives an empty result and changes no statistic
            return A.empty(self.kernels, x.shape)
        x3 = x.reshape(self.x_shape[0], self.n_chan, math.prod(self.x_shape[2:]))
        if training:
            mean, var = self.kernels.batch_norm_stats(x3, running_mean, running_var, momentum)
        else:
            mean, var = running_mean, running_var
        self.x3, self.weight, self.mean, self.var = x3, weight, mean, var
        y = self.kernels.batch_norm_forward(x3, mean, var, weight, bias, eps)
        return y.reshape(self.x_shape)

    def backward(self, g):
        if self.empty:
            zeros = A.full(self.kernels, (self.n_chan,), 0.0)
            dx, dweight, dbias = A.empty(self.kernels, self.x_shape), zeros, zeros
        else:
            dx, dweight, dbias = self.kernels.batch_norm_backward(
                g.reshape(self.x3.shape), self.x3, self.mean, self.var, self.weight, self.eps,
                self.training)
            dx = dx.reshape(self.x_shape)
        grads = [dx]
        if self.has_weight:
            grads.append(dweight)
        if self.has_bias:
            grads.append(dbias)
        return tuple(grads)

