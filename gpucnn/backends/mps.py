"""gpucnn.backends.mps: there is no Apple-GPU (Metal) backend in gpucnn; is_available() and
is_built() are False, as torch's on a machine without MPS."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False


def is_macos_or_newer(major: int, minor: int) -> bool:
    return False


def is_macos13_or_newer(minor: int = 0) -> bool:
    return False
