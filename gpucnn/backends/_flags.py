"""What every gpucnn.backends module shares: flags checked when they are set, and frozen
by disable_global_flags() (torch.backends' rule: after it, flags change only inside a
flags(...) block).

A backend module declares its flags in `FLAGS` (name -> checker) and turns itself into a
FlagModule (`sys.modules[__name__].__class__ = FlagModule`), so that
`gpucnn.backends.cudnn.benchmark = True` is checked as torch checks it (a bool, else a
RuntimeError naming the flag) while reading it stays a plain module attribute.
"""
import contextlib
import types

_frozen = False


def disable_global_flags():
    """From now on, backend flags may only change inside their module's flags(...) block."""
    global _frozen
    _frozen = True


def flags_frozen() -> bool:
    return _frozen


@contextlib.contextmanager
def allow_changes():
    """Lets a flags(...) block change flags even after disable_global_flags()."""
    global _frozen
    before, _frozen = _frozen, False
    try:
        yield
    finally:
        _frozen = before


def boolean(owner: str, value) -> bool:
    """torch's flag setters take a bool and nothing else (not 0/1, not None)."""
    if not isinstance(value, bool):
        raise RuntimeError(f"{owner} expects a bool, but got {type(value).__name__}")
    return value


def fp32_precision(owner: str, value) -> str:
    """One of the precisions torch's fp32_precision flags take."""
    if value not in ("none", "ieee", "tf32"):
        raise RuntimeError(f"{owner}: fp32_precision must be 'none', 'ieee' or 'tf32', got "
                           f"{value!r}")
    return value


class FlagModule(types.ModuleType):
    """A backend module whose declared flags (its FLAGS table) are checked when set."""

    def __setattr__(self, name, value):
        checks = self.__dict__.get("FLAGS", {})
        if name in checks:
            if _frozen:
                raise RuntimeError(f"not allowed to set {self.__name__} flags after "
                                   f"disable_global_flags; please use flags() context manager "
                                   f"instead")
            value = checks[name](f"{self.__name__}.{name}", value)
        super().__setattr__(name, value)


class PrecisionFlags:
    """An object holding one fp32_precision flag (torch.backends.cudnn.conv and .rnn): only
    that attribute, set to 'none', 'ieee' or 'tf32'; any other name is an AttributeError."""

    def __init__(self, owner: str, value: str):
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_value", value)

    def __getattr__(self, name):
        if name == "fp32_precision":
            return self._value
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name != "fp32_precision":
            raise AttributeError(f"Unknown attribute {name}")
        if _frozen:
            raise RuntimeError(f"not allowed to set {self._owner} flags after "
                               f"disable_global_flags; please use flags() context manager "
                               f"instead")
        object.__setattr__(self, "_value", fp32_precision(f"{self._owner}.fp32_precision", value))

    def __repr__(self):
        return f"<{self._owner}: fp32_precision={self._value!r}>"
