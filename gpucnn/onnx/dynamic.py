"""Dynamic axes: which recorded numbers follow an axis the exported model leaves open.

Python ints flow through a forward pass (shapes, reshape targets, slice bounds) without
saying where they came from, so the exporter traces the model more than once: as given
(trace A), with other input values of the same shapes (permuted, floats scaled), and once
per dynamic axis name with that axis doubled. `merge` lays the traces over each other: a
number equal in all of them is a constant; one that doubles with one axis and nowhere else
is a `Dim` (that axis times a fixed ratio, computed at run time from the input's shape);
anything else that changed is `Varying`. Both refuse to be used as plain numbers
(arithmetic, int(), comparisons with order, bool()), so a translation that would freeze one
into an attribute stops with an error naming the op instead of writing a model that is wrong
for other sizes.
"""
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .errors import DynamicValueError


class _Refusing:
    """Raises DynamicValueError on any use as a number."""

    def _refuse(self, *args):
        raise DynamicValueError(self.reason())

    __int__ = __index__ = __float__ = __bool__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _refuse
    __neg__ = __pow__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse

    def reason(self) -> str:
        raise NotImplementedError


class Dim(_Refusing):
    """A size equal to `ratio` times the dynamic axis `axis` (a name from dynamic_axes);
    `traced` is its value in the traced call."""

    def __init__(self, axis: str, ratio: Fraction, traced: int):
        self.axis, self.ratio, self.traced = axis, Fraction(ratio), int(traced)

    def __eq__(self, other):
        return isinstance(other, Dim) and (self.axis, self.ratio) == (other.axis, other.ratio)

    def __hash__(self):
        return hash((self.axis, self.ratio))

    def __repr__(self):
        return self.axis if self.ratio == 1 else f"{self.axis}*{self.ratio}"

    def reason(self) -> str:
        return (f"a value that follows the dynamic axis '{self.axis}' ({self.traced} when "
                f"traced) is needed as a fixed number here; export that axis static (leave "
                f"it out of dynamic_axes)")


class Varying(_Refusing):
    """A recorded value that changed between the traces in a way no Dim describes."""

    def __init__(self, traced, why: str):
        self.traced, self.why = traced, why

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return f"<varying {self.traced!r}: {self.why}>"

    def reason(self) -> str:
        advice = ("compute it with tensor ops, not as a Python number" if "input values" in
                  self.why else "export those axes static (leave them out of dynamic_axes)")
        return f"a value ({_short(self.traced)} when traced) {self.why}; {advice}"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_dynamic(value) -> bool:
    return isinstance(value, (Dim, Varying))


@dataclass(frozen=True)
class Variant:
    """How one extra trace differs from trace A: other input values ("values"), or
    the dynamic axis `axis` doubled from `size` ("axis")."""
    kind: str
    axis: str = ""
    size: int = 0


def merge(a, others):
    """Trace A's value `a` with its counterparts [(Variant, b), ...] laid over it: a where
    they all equal it, else the structure of a with Dims and Varyings where numbers changed."""
    if all(same(a, b) for _, b in others):
        return a
    if _is_int(a) or _is_whole_float(a):
        return _merge_int(a, others)
    if isinstance(a, (tuple, list)) and all(isinstance(b, type(a)) and len(b) == len(a)
                                            for _, b in others):
        merged = [merge(item, [(v, b[i]) for v, b in others]) for i, item in enumerate(a)]
        return type(a)(merged)
    if isinstance(a, dict) and all(isinstance(b, dict) and b.keys() == a.keys()
                                   for _, b in others):
        return {k: merge(item, [(v, b[k]) for v, b in others]) for k, item in a.items()}
    if hasattr(a, "merged_with") and all(type(b) is type(a) for _, b in others):
        return a.merged_with(others)
    return Varying(a, _why(others, a))


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_whole_float(value) -> bool:
    """A float holding a count (a loss's float(target.numel())), which may follow an axis."""
    return isinstance(value, (float, np.floating)) and float(value).is_integer()


def _merge_int(a, others):
    changed = [(v, b) for v, b in others if not same(a, b)]
    if any(v.kind == "values" for v, _ in changed) or \
            not all(_is_int(b) or _is_whole_float(b) for _, b in changed):
        return Varying(a, _why(changed, a))
    if len(changed) > 1:
        return Varying(a, _why(changed, a))
    (variant, b), = changed
    if a != 0 and b == 2 * a:
        return Dim(variant.axis, Fraction(int(a), variant.size), int(a))
    return Varying(a, f"changes with the dynamic axis '{variant.axis}' ({a} at size "
                      f"{variant.size}, {b} at size {2 * variant.size}) but is not a multiple "
                      f"of it")


def _why(changed, a) -> str:
    changed = [(v, b) for v, b in changed if not same(a, b)]
    if any(v.kind == "values" for v, _ in changed):
        return ("depends on the input values (computed outside the ops, e.g. through .item(), "
                ".tolist() or .numpy(), or random)")
    axes = sorted({v.axis for v, _ in changed})
    return f"changes with the dynamic ax{'is' if len(axes) == 1 else 'es'} " + \
        ", ".join(f"'{axis}'" for axis in axes)


def same(a, b) -> bool:
    """Equality that NumPy arrays and nested records take part in."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f")))
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)
