"""Views: reshape and flatten share storage with their input (all storage is contiguous)."""
import math

from ..autograd import Function


class Reshape(Function):
    name = "reshape"
    float_inputs = False

    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


def _resolve_shape(in_shape, shape):
    shape = tuple(int(s) for s in shape)
    size = math.prod(in_shape)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: only one dimension may be -1, got {shape}")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot view shape {in_shape} as {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if math.prod(shape) != size or any(s < 0 for s in shape):
        raise ValueError(f"reshape: cannot view shape {in_shape} ({size} elements) as {shape}")
    return shape


def reshape(x, shape):
    shape = _resolve_shape(x.shape, shape)
    if x.requires_grad or shape != x.shape:
        return Reshape.apply(x, shape=shape)
    return x


def flatten(x, start_dim=0, end_dim=-1):
    ndim = len(x.shape)
    if ndim == 0:
        return reshape(x, (1,))
    start = start_dim + ndim if start_dim < 0 else start_dim
    end = end_dim + ndim if end_dim < 0 else end_dim
    if not 0 <= start <= end < ndim:
        raise ValueError(f"flatten: dims ({start_dim}, {end_dim}) out of range for shape {x.shape}")
    shape = x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    return reshape(x, shape)
