"""2-D max pooling: forward with the argmax of every window, backward through it."""
from ..autograd import Function


class MaxPool2d(Function):
    name = "max_pool2d"

    def forward(self, x, *, kernel_size, stride, padding, ceil_mode):
        self.x_shape = x.shape
        self.window = (kernel_size, stride, padding, ceil_mode)
        y, self.indices = self.kernels.max_pool2d_forward(x, *self.window)
        return y

    def backward(self, g):
        # The window geometry lets the GPU gather (each input looks only at the windows that
        # can contain it) instead of scattering with atomics.
        return self.kernels.max_pool2d_backward(g, self.indices, self.x_shape, *self.window)
