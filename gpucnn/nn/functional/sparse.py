"""one_hot, as torch.nn.functional's (its "sparse functions" family): class indices to rows
of zeros with a one at each index."""
import numbers

from ... import dtypes, factories
from ...errors import InputError, InputTypeError
from ._checks import check_tensor


def one_hot(tensor, num_classes=-1):
    """An int64 tensor of shape tensor.shape + (num_classes,): 1 where the last index equals
    the class in `tensor`, 0 elsewhere. num_classes=-1 takes max(tensor) + 1. Class values are
    checked on the host (the smallest and largest, one copy each), as torch does on the CPU."""
    check_tensor("one_hot", "tensor", tensor, floating=False)
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not "
                        f"{type(num_classes).__name__}")
    if tensor.dtype is not dtypes.int64:
        raise InputTypeError(f"one_hot is only applicable to index tensor of type LongTensor "
                             f"(got {tensor.dtype.name}, shape {list(tensor.shape)}); convert "
                             f"with .long()")
    num_classes = int(num_classes)
    shape = tuple(tensor.shape)
    if not tensor.numel():
        if num_classes <= 0:
            raise InputError(f"one_hot: Can not infer total number of classes from empty "
                             f"tensor (shape {list(shape)}); give num_classes")
        return factories.zeros(shape + (num_classes,), dtype=dtypes.int64, device=tensor.device)
    if tensor.min().item() < 0:
        raise InputError(f"one_hot: Class values must be non-negative (smallest is "
                         f"{tensor.min().item()})")
    largest = tensor.max().item()
    if num_classes == -1:
        num_classes = largest + 1
    elif num_classes <= largest:
        raise InputError(f"one_hot: Class values must be smaller than num_classes (largest is "
                         f"{largest}, num_classes is {num_classes})")
    classes = factories.arange(num_classes, dtype=dtypes.int64, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()
