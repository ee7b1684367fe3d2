"""linear: x @ weight.T + bias."""
from ...ops.linear import Linear
from ._checks import check_tensor


def linear(x, w, b=None):
    op = "linear"
    check_tensor(op, "input", x, 2)
    check_tensor(op, "weight", w, 2)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"{op}: input {x.shape} has {x.shape[1]} features, weight {w.shape} "
                         f"expects {w.shape[1]}")
    if b is None:
        return Linear.apply(x, w)
    check_tensor(op, "bias", b, 1)
    if b.shape != (w.shape[0],):
        raise ValueError(f"{op}: bias shape {b.shape} does not match weight {w.shape}")
    return Linear.apply(x, w, b)
