"""Helpers the case files share: kernel lookup, the version ladder, reference labels."""
import inspect
import sys

from ... import kernels


def suffix(env) -> str:
    return "cuda" if env.on_gpu else "cpu"


def kernel(module_name: str, op: str, device_suffix: str):
    """gpucnn.kernels.<module>.<op>_<suffix>, looked up at call time (tests monkeypatch it)."""
    module = getattr(kernels, module_name)
    fn = getattr(module, f"{op}_{device_suffix}", None)
    if fn is None:
        raise LookupError(f"gpucnn.kernels.{module_name} has no {op}_{device_suffix}")
    return fn


def versions(module_name: str, op: str) -> tuple[list, object]:
    """The CUDA versions an op's launcher takes (its `version=` argument) and its default.

    ([None], None) when the launcher has no ladder. The versions are read from the kernel
    file's VERSIONS tuple (or <OP>_VERSIONS where one file holds ops with different ladders).
    """
    module = getattr(kernels, module_name, None)
    fn = getattr(module, f"{op}_cuda", None) if module is not None else None
    if fn is None:
        return [None], None
    try:
        param = inspect.signature(fn).parameters.get("version")
    except (TypeError, ValueError):
        param = None
    if param is None:
        return [None], None
    home = sys.modules.get(getattr(fn, "__module__", ""), module)
    ladder = None
    for holder in (home, module):
        for name in (f"{op.upper()}_VERSIONS", "VERSIONS"):
            ladder = ladder or getattr(holder, name, None)
    default = param.default if param.default is not inspect.Parameter.empty else None
    if not ladder:
        return [default], default
    return list(ladder), default


def torch_label(env, gpu_backend: str, cpu_backend: str) -> str:
    backend = gpu_backend if env.on_gpu else cpu_backend
    return f"torch {env.torch.__version__} {backend} fp32"


def dims(shape) -> str:
    return "x".join(str(d) for d in shape)
