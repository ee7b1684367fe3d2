"""Memory formats, as PyTorch's `torch.memory_format` objects: `contiguous_format`,
`channels_last`, `channels_last_3d`, `preserve_format`.

gpucnn keeps its memory layouts as they are: every op makes C-contiguous (NCHW) results, and
the convolution, pooling and batch-norm kernels read NCHW. `contiguous(memory_format=...)`,
`to(memory_format=...)`, `clone(memory_format=...)` and `Module.to(memory_format=...)` take
these objects with PyTorch's checks and errors and give PyTorch's values and shapes, in an
NCHW (C-contiguous) layout: `stride()` says what gpucnn holds, and
`is_contiguous(memory_format=channels_last)` answers PyTorch's question for those strides (a
tensor whose strides are channels-last, a permuted view of NHWC memory, answers True).

    check(where, value)                  value, a memory_format (TypeError else)
    check_rank(value, ndim)              channels_last needs 4 dims, channels_last_3d 5
    is_contiguous(value, shape, strides) PyTorch's contiguity test for that format
    suggested(shape, strides)            the format PyTorch reads from strides (what
                                         to(memory_format=) returns the tensor itself for)
"""


class memory_format:  # noqa: N801  (PyTorch's name)
    """One memory format; prints as PyTorch's do (gpucnn.channels_last)."""

    def __init__(self, name, rank=None, order=None):
        self.name, self.rank, self.order = name, rank, order

    def __repr__(self):
        return f"gpucnn.{self.name}"

    __str__ = __repr__

    def __reduce__(self):
        return self.name   # pickles as the module-level object of that name


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
# The dims from fastest to slowest varying in memory: C, then W, H (and D), then N.
channels_last = memory_format("channels_last", 4, (1, 3, 2, 0))
channels_last_3d = memory_format("channels_last_3d", 5, (1, 4, 3, 2, 0))


def check(where, value):
    if not isinstance(value, memory_format):
        raise TypeError(f"{where}(): argument 'memory_format' must be gpucnn.memory_format "
                        f"(gpucnn.contiguous_format, gpucnn.channels_last, "
                        f"gpucnn.channels_last_3d or gpucnn.preserve_format), not "
                        f"{type(value).__name__}")
    return value


def check_rank(value, ndim):
    """PyTorch's error for a tensor of the wrong rank converted to a channels-last format."""
    if value.rank is not None and ndim != value.rank:
        raise RuntimeError(f"required rank {value.rank} tensor to use {value.name} format "
                           f"(got a {ndim}-D tensor)")


def is_contiguous(value, shape, strides) -> bool:
    """Whether `strides` lay `shape` out densely in `value`'s order (PyTorch's test: size-1
    dims are free; contiguous_format and preserve_format are the C order)."""
    if value.order is None:
        order = range(len(shape) - 1, -1, -1)
    elif len(shape) != value.rank:
        return False
    else:
        order = value.order
    expected = 1
    for d in order:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def suggested(shape, strides):
    """PyTorch's suggest_memory_format: a channels-last format when the strides order the
    dims that way (ambiguous cases, such as N x 1 x 1 x 1, are contiguous_format)."""
    for value in (channels_last, channels_last_3d):
        if len(shape) == value.rank and _strides_like(value.order, shape, strides):
            return value
    return contiguous_format


def _strides_like(order, shape, strides):
    """PyTorch's is_channels_last_strides_2d / _3d: strides growing along the format's order,
    channels not trivially strided."""
    if strides[1] == 0:
        return False
    smallest = 0
    for d in order:
        if shape[d] == 0 or strides[d] < smallest:
            return False
        if d == 0 and smallest == strides[1]:
            return False
        smallest = strides[d] * (shape[d] if shape[d] > 1 else 1)
    return True
