"""y = x·Wᵀ + b, with W of shape (out_features, in_features) as in PyTorch."""
from ..autograd import Function


class Linear(Function):
    name = "linear"

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        self.has_bias = b is not None
        return self.kernels.matmul(x, w, trans_b=True, bias=b)

    def backward(self, g):
        dx = self.kernels.matmul(g, self.w) if self.needs_grad[0] else None
        dw = self.kernels.matmul(g, self.x, trans_a=True) if self.needs_grad[1] else None
        if not self.has_bias:
            return dx, dw
        # The bias gradient sums g over the batch: the same kernel as the convolution's.
        db = self.kernels.sum_axes02(g.reshape(g.shape[0], g.shape[1], 1)) \
            if self.needs_grad[2] else None
        return dx, dw, db
