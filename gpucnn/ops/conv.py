"""2-D convolution: forward and its three gradients (data, weight, bias)."""
from ..autograd import Function


class Conv2d(Function):
    name = "conv2d"

    def forward(self, x, w, b=None, *, stride, padding, dilation, groups):
        self.geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        self.x, self.w = x, w
        self.has_bias = b is not None
        return self.k.conv2d_forward(x, w, b, **self.geometry)

    def backward(self, g):
        dx = dw = db = None
        if self.needs_grad[0]:
            dx = self.k.conv2d_backward_data(g, self.w, self.x.shape, **self.geometry)
        if self.needs_grad[1]:
            dw = self.k.conv2d_backward_weight(self.x, g, self.w.shape, **self.geometry)
        if self.has_bias and self.needs_grad[2]:
            db = self.k.conv2d_backward_bias(g)
        return (dx, dw, db) if self.has_bias else (dx, dw)


class MaxPool2d(Function):
    name = "max_pool2d"

    def forward(self, x, *, kernel_size, stride, padding, ceil_mode):
        self.x_shape = x.shape
        self.window = (kernel_size, stride, padding, ceil_mode)
        y, self.indices = self.k.max_pool2d_forward(x, *self.window)
        return y

    def backward(self, g):
        # The window geometry lets the GPU gather (each input looks only at the windows that
        # can contain it) instead of scattering with atomics.
        return self.k.max_pool2d_backward(g, self.indices, self.x_shape, *self.window)
