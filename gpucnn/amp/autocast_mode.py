"""Autocast: torch.autocast / torch.amp.autocast and torch's autocast state functions.

gpucnn computes in float32 only: it has no float16 or bfloat16 kernels. So an autocast
region keeps torch's bookkeeping (is_autocast_enabled() is True inside it, get_autocast_dtype
gives the dtype asked for, regions nest and restore the state on the way out, torch's checks
and its own warnings where it disables autocast) but every op inside it still runs in
float32 and returns float32. The first region that would cast to float16 or bfloat16 warns
once per process, naming the dtype, so nobody mistakes it for mixed precision.

    autocast(device_type, dtype=None, enabled=True, cache_enabled=None)   context manager,
        decorator; device_type "cpu" or "cuda" (gpucnn's devices); dtype defaults to
        get_autocast_dtype(device_type): float16 for "cuda", bfloat16 for "cpu"
    is_autocast_enabled(device_type="cuda"), set_autocast_enabled(device_type, enabled),
    get_autocast_dtype(device_type), set_autocast_dtype(device_type, dtype),
    is_autocast_cache_enabled(), set_autocast_cache_enabled(enabled), clear_autocast_cache(),
    autocast_increment_nesting(), autocast_decrement_nesting(), is_autocast_available(),
    the deprecated *_cpu_* / *_gpu_* forms, custom_fwd, custom_bwd
"""
import collections.abc
import functools
import warnings

import numpy as np

from .. import cuda, dtypes

_DEVICE_TYPES = ("cpu", "cuda")
_LOW_PRECISION = (dtypes.bfloat16, dtypes.float16)
_state = {"enabled": {"cpu": False, "cuda": False},
          "dtype": {"cpu": dtypes.bfloat16, "cuda": dtypes.float16},
          "cache_enabled": True, "nesting": 0}
_warned_float32 = False   # the once-per-process warning that autocast computes in float32


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast takes `device_type`: gpucnn's devices, "cpu" and "cuda"."""
    return device_type in _DEVICE_TYPES


def _device_type(device_type, where):
    if not isinstance(device_type, str) or device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"{where}: unsupported autocast device_type {device_type!r}; gpucnn "
                           f"has 'cpu' and 'cuda'")
    return device_type


def _dtype(value, where):
    if not isinstance(value, dtypes.dtype):
        raise TypeError(f"{where}: dtype must be a gpucnn dtype (gpucnn.float16, "
                        f"gpucnn.bfloat16, ...), got {value!r}")
    return value


def is_autocast_enabled(device_type="cuda") -> bool:
    """Whether autocast is on for `device_type` (without one: "cuda", as torch)."""
    return _state["enabled"][_device_type(device_type, "is_autocast_enabled")]


def set_autocast_enabled(device_type, enabled=None):
    """set_autocast_enabled(device_type, enabled), or the older set_autocast_enabled(enabled)
    for "cuda"."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    if not isinstance(enabled, bool):
        raise TypeError(f"set_autocast_enabled: enabled must be a bool, got {enabled!r}")
    _state["enabled"][_device_type(device_type, "set_autocast_enabled")] = enabled


def get_autocast_dtype(device_type):
    return _state["dtype"][_device_type(device_type, "get_autocast_dtype")]


def set_autocast_dtype(device_type, dtype):
    _state["dtype"][_device_type(device_type, "set_autocast_dtype")] = \
        _dtype(dtype, "set_autocast_dtype")


def is_autocast_cache_enabled() -> bool:
    return _state["cache_enabled"]


def set_autocast_cache_enabled(enabled):
    if not isinstance(enabled, bool):
        raise TypeError(f"set_autocast_cache_enabled: enabled must be a bool, got {enabled!r}")
    _state["cache_enabled"] = enabled


def clear_autocast_cache():
    """Nothing to clear: gpucnn never caches casts of weights (there are none)."""


def autocast_increment_nesting() -> int:
    _state["nesting"] += 1
    return _state["nesting"]


def autocast_decrement_nesting() -> int:
    _state["nesting"] -= 1
    return _state["nesting"]


def _deprecated(old, new):
    warnings.warn(f"gpucnn.{old}() is deprecated. Please use gpucnn.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled() -> bool:
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled):
    _deprecated("set_autocast_cpu_enabled", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype):
    _deprecated("set_autocast_cpu_dtype", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype):
    _deprecated("set_autocast_gpu_dtype", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def _warn_float32_once(device_type, dtype, stacklevel):
    global _warned_float32
    if _warned_float32:
        return
    _warned_float32 = True
    warnings.warn(f"gpucnn.autocast: {dtype.name} was requested for {device_type!r} autocast, "
                  f"but gpucnn has no {dtype.name} kernels: ops inside autocast compute in "
                  f"float32 and return float32 tensors (this warning is shown once per "
                  f"process)", UserWarning, stacklevel=stacklevel)


class autocast:  # noqa: N801  (torch's name)
    """A region (with-block or decorated function) with torch's autocast state set; ops in
    it compute in float32 (see the module's docstring)."""
    _caller_depth = 3   # warnings point at the code that made the region (subclasses: +1)

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type "
                               f"'{device_type}' (gpucnn has 'cpu' and 'cuda')")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else \
            _dtype(dtype, "autocast")
        if not isinstance(enabled, (bool, np.bool_)):
            raise TypeError(f"autocast: enabled must be a bool, got {enabled!r}")
        enabled = bool(enabled)
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else \
            bool(cache_enabled)
        if enabled:
            if device_type == "cuda" and not cuda.is_available():
                warnings.warn("CUDA is not available (gpucnn.cuda.is_available() is False). "
                              "Disabling autocast.", stacklevel=self._caller_depth - 1)
                enabled = False
            elif device_type != "cuda" and self.fast_dtype not in _LOW_PRECISION:
                name = device_type.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                              f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                              f"gpucnn.bfloat16, gpucnn.float16 currently.",
                              stacklevel=self._caller_depth - 1)
                enabled = False
        if enabled and self.fast_dtype is not dtypes.float32:
            _warn_float32_once(device_type, self.fast_dtype, self._caller_depth)
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        _state["enabled"][self.device] = self._enabled
        _state["dtype"][self.device] = self.fast_dtype
        autocast_increment_nesting()
        _state["cache_enabled"] = self._cache_enabled
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        _state["enabled"][self.device] = self.prev
        _state["dtype"][self.device] = self.prev_fastdtype
        _state["cache_enabled"] = self.prev_cache_enabled
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, but got "
                            f"{type(func).__name__}. Did you mean to use autocast as a context "
                            f"manager? For example:\n    with gpucnn.autocast(device_type=...):"
                            f"\n        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def snapshot():
    """The whole autocast state, for a region to be re-entered later (checkpoint's
    recomputation runs under the state its forward saw)."""
    return {"enabled": dict(_state["enabled"]), "dtype": dict(_state["dtype"]),
            "cache_enabled": _state["cache_enabled"]}


class restored:  # noqa: N801  (a context manager, named for what holds inside it)
    """Inside this block the autocast state is `saved` (a snapshot()); restored afterwards."""

    def __init__(self, saved):
        self.saved = saved

    def __enter__(self):
        self.previous = snapshot()
        _apply(self.saved)
        return self

    def __exit__(self, *exc):
        _apply(self.previous)
        return False


def _apply(saved):
    _state["enabled"].update(saved["enabled"])
    _state["dtype"].update(saved["dtype"])
    _state["cache_enabled"] = saved["cache_enabled"]


def _cast(value, device_type, dtype):
    """torch's cast of custom_fwd's inputs: floating tensors on device_type to dtype. gpucnn
    has one floating dtype, so only a float32 target casts (a float16 one keeps float32)."""
    from ..tensor import Tensor   # tensor.py is loaded by the time a forward runs
    if isinstance(value, Tensor):
        eligible = value.is_floating_point() and value.device.type == device_type
        return value.to(dtype) if eligible and dtype.numpy is not None else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype)
                for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        iterable = (_cast(v, device_type, dtype) for v in value)
        return type(value)(iterable) if isinstance(value, (list, tuple)) else iterable
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """torch.amp.custom_fwd: a custom Function's forward runs under the caller's autocast
    state, or (cast_inputs) with its floating inputs cast and autocast off."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        used = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if used:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, device_type, cast_inputs),
                           **_cast(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """torch.amp.custom_bwd: backward runs under the autocast state its forward had."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast,
                      dtype=args[0]._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
