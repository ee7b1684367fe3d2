"""torch.use_deterministic_algorithms and its relatives, as gpucnn.* functions.

Every gpucnn kernel is deterministic on both devices (reductions in a fixed order, scatters
without atomics), so there is no nondeterministic algorithm to refuse or warn about: the
mode is recorded and read back with torch's rules and checks, and changes nothing.

    use_deterministic_algorithms(mode, *, warn_only=False)
    are_deterministic_algorithms_enabled(), is_deterministic_algorithms_warn_only_enabled()
    set_deterministic_debug_mode("default" | "warn" | "error" or 0 | 1 | 2),
    get_deterministic_debug_mode() -> 0, 1 or 2
"""
_state = {"mode": False, "warn_only": False}
_DEBUG_MODES = ("default", "warn", "error")


def use_deterministic_algorithms(mode, *, warn_only=False):
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _state["mode"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return _state["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """0 / "default": off; 1 / "warn": on, warn only; 2 / "error": on."""
    if isinstance(debug_mode, bool) or not isinstance(debug_mode, (str, int)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES.index(debug_mode)
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _state["mode"]:
        return 0
    return 1 if _state["warn_only"] else 2
