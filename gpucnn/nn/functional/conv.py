"""conv2d: arguments normalised and shapes checked before the kernel runs."""
import numbers

from ...kernels._checks import conv_output_hw, padding4, pair
from ...ops.conv import Conv2d
from ._checks import check_tensor


def conv_padding(op, padding, kernel_hw, stride, dilation):
    """Normalise padding to (top, bottom, left, right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride {stride}), as in PyTorch")
        total_h = dilation[0] * (kernel_hw[0] - 1)
        total_w = dilation[1] * (kernel_hw[1] - 1)
        # PyTorch puts the odd extra row/column at the bottom/right.
        return total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2
    return padding4(op, padding)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    op = "conv2d"
    check_tensor(op, "input", x, 4)
    check_tensor(op, "weight", w, 4)
    stride = pair(op, "stride", stride)
    dilation = pair(op, "dilation", dilation)
    pads = conv_padding(op, padding, w.shape[2:], stride, dilation)
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    conv_output_hw(op, x.shape, w.shape, stride, pads, dilation, int(groups))
    inputs = (x, w)
    if b is not None:
        check_tensor(op, "bias", b, 1)
        if b.shape != (w.shape[0],):
            raise ValueError(f"{op}: bias shape {b.shape} does not match the {w.shape[0]} output "
                             f"channels of weight {w.shape}")
        inputs = (x, w, b)
    return Conv2d.apply(*inputs, stride=stride, padding=pads, dilation=dilation, groups=int(groups))
