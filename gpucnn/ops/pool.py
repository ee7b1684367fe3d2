"""2-D pooling: max pooling (forward with the argmax of every window, backward through it),
average pooling, and adaptive average and max pooling (bins that fit any output size)."""
from ..autograd import Function
from . import _arrays


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


class AvgPool2d(Function):
    name = "avg_pool2d"
    saves = ()   # backward needs the window geometry only

    def forward(self, x, *, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
        self.x_shape = x.shape
        self.window = (kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)
        return self.kernels.avg_pool2d_forward(x, *self.window)

    def backward(self, g):
        # A gather on the GPU: each input visits the windows that contain it, no atomics.
        return self.kernels.avg_pool2d_backward(g, self.x_shape, *self.window)


class AdaptiveAvgPool2d(Function):
    name = "adaptive_avg_pool2d"
    saves = ()   # the bins follow from the input's and the gradient's shapes

    def forward(self, x, *, output_size):
        self.x_shape = x.shape
        return self.kernels.adaptive_avg_pool2d_forward(x, output_size)

    def backward(self, g):
        return self.kernels.adaptive_avg_pool2d_backward(g, self.x_shape)


class AdaptiveMaxPool2d(Function):
    """The maxima of the bins, which adaptive_max_pool2d finds with their argmax in one kernel
    run before making this node; backward sends each output's gradient to its argmax."""
    name = "adaptive_max_pool2d"
    float_inputs = False   # the second input is the int64 argmax
    strided_inputs = True  # forward reads no input values: a strided x needs no copy
    saves = (1,)           # backward reads the argmax, which the caller holds and may change

    def forward(self, x, indices, *, values):
        self.x_shape = x.shape
        self.indices = indices
        return values

    def backward(self, g):
        g = _arrays.contiguous(self.kernels, g)
        return self.kernels.adaptive_max_pool2d_backward(g, self.indices, self.x_shape), None


def adaptive_max_pool2d(x, output_size):
    """(output, int64 indices) tensors of a 4-D float32 x; the output carries the gradient."""
    kernels = x._kernels
    values, indices = kernels.adaptive_max_pool2d_forward(_arrays.contiguous(kernels, x._array),
                                                          output_size)
    indices = x._like(indices)
    return AdaptiveMaxPool2d.apply(x, indices, values=values), indices
