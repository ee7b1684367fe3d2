"""Constructor arguments of the layers, checked as they are given."""
import numbers

from ..kernels._checks import padding4, pair


def positive_int(layer: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise (TypeError if not isinstance(value, numbers.Integral) or isinstance(value, bool)
               else ValueError)(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


def positive_pair(layer: str, name: str, value) -> tuple[int, int]:
    result = pair(layer, name, value)
    if min(result) < 1:
        raise ValueError(f"{layer}: {name} must be >= 1, got {value!r}")
    return result


def padding_argument(layer: str, padding):
    """'same' / 'valid', an int, a pair or a 4-tuple (top, bottom, left, right), all >= 0."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{layer}: padding must be an int, a tuple, 'same' or 'valid', got "
                             f"{padding!r}")
        return padding
    result = padding4(layer, padding) if isinstance(padding, (tuple, list)) and \
        len(padding) == 4 else pair(layer, "padding", padding)
    if min(result) < 0:
        raise ValueError(f"{layer}: padding must be >= 0, got {padding!r}")
    return result
