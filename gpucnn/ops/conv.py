"""2-D convolution: forward and its three gradients (data, weight, bias)."""
from ..autograd import Function
from ..kernels import reduce as K
from . import _arrays as A


class Conv2d(Function):
    name = "conv2d"

    def forward(self, x, w, b=None, *, stride, padding, dilation, groups):
        self.geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        self.x, self.w = x, w
        self.has_bias = b is not None
        return self.kernels.conv2d_forward(x, w, b, **self.geometry)

    def backward(self, g):
        dx = dw = db = None
        if self.needs_grad[0]:
            dx = self.kernels.conv2d_backward_data(g, self.w, self.x.shape, **self.geometry)
        if self.needs_grad[1]:
            dw = self.kernels.conv2d_backward_weight(self.x, g, self.w.shape, **self.geometry)
        if self.has_bias and self.needs_grad[2]:
            db = A.reduce(self.kernels, K.R_SUM, g, (0, 2, 3))   # a per-channel sum of g
        return (dx, dw, db) if self.has_bias else (dx, dw)
