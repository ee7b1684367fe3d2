"""gpucnn.backends.cuda: torch.backends.cuda's matmul flags, and torch's
set/get_float32_matmul_precision, which share one setting with matmul.allow_tf32.

gpucnn has no cuBLAS: its dense products are its own kernels (register-tiled matmul on the
GPU, NumPy's BLAS on the CPU), and they compute in float32 with float32 sums whatever is set
here: no TF32, no reduced-precision or split-K float16/bfloat16 reductions. The flags keep
torch's names, defaults and checks so that a script setting them runs unchanged; reading one
gives what was set.

    matmul.allow_tf32 (False; True with precision 'high' or 'medium', False with 'highest')
    matmul.allow_fp16_reduced_precision_reduction (True; a bool, or (bool, split_k bool))
    matmul.allow_fp16_reduced_precision_reduction_split_k (True), the bf16 pair (True, True)
    matmul.allow_fp16_accumulation (False), matmul.fp32_precision ('none' until set; then
    'tf32' with allow_tf32, 'ieee' without, as torch's; where torch refuses to answer after
    the legacy and the new flag were both set, gpucnn answers from the last one set)
    is_built()  True: gpucnn always ships its CUDA kernels (gpucnn.cuda.is_available() says
                whether a GPU is there)
"""
import warnings

from ._flags import allow_changes, boolean, flags_frozen
from ._flags import fp32_precision as precision_flag

_PRECISIONS = ("highest", "high", "medium")


def is_built() -> bool:
    return True


class _MatmulFlags:
    """torch.backends.cuda.matmul: the flags above as attributes; any other name is an
    AttributeError, as torch's."""
    _OWNER = "gpucnn.backends.cuda.matmul"

    def __init__(self):
        state = {"allow_tf32": False, "fp16": (True, True), "bf16": (True, True),
                 "allow_fp16_accumulation": False, "fp32_precision": "none",
                 "float32_matmul_precision": "highest"}
        object.__setattr__(self, "_state", state)

    def __getattr__(self, name):
        state = self._state
        if name in ("allow_tf32", "allow_fp16_accumulation", "fp32_precision"):
            return state[name]
        reductions = {"allow_fp16_reduced_precision_reduction": ("fp16", 0),
                      "allow_fp16_reduced_precision_reduction_split_k": ("fp16", 1),
                      "allow_bf16_reduced_precision_reduction": ("bf16", 0),
                      "allow_bf16_reduced_precision_reduction_split_k": ("bf16", 1)}
        if name in reductions:
            key, position = reductions[name]
            return state[key][position]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        owner = f"{self._OWNER}.{name}"
        if name not in ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                        "allow_bf16_reduced_precision_reduction", "allow_fp16_accumulation",
                        "fp32_precision"):
            raise AttributeError(f"Unknown attribute {name}")
        if flags_frozen():
            raise RuntimeError(f"not allowed to set {self._OWNER} flags after "
                               f"disable_global_flags; please use flags() context manager "
                               f"instead")
        state = self._state
        if name == "allow_tf32":
            self._set_tf32(boolean(owner, value))
        elif name == "fp32_precision":
            self._set_tf32(precision_flag(owner, value) == "tf32", value)
        elif name == "allow_fp16_accumulation":
            state[name] = boolean(owner, value)
        else:   # the two reduced-precision reductions, kept as (allowed, split_k)
            key = "fp16" if name.startswith("allow_fp16") else "bf16"
            state[key] = _reduction_setting(name, value)

    def _set_tf32(self, allowed, precision=None):
        state = self._state
        state["allow_tf32"] = allowed
        state["fp32_precision"] = precision or ("tf32" if allowed else "ieee")
        if allowed and state["float32_matmul_precision"] == "highest":
            state["float32_matmul_precision"] = "high"
        elif not allowed:
            state["float32_matmul_precision"] = "highest"

    def __repr__(self):
        return f"<{self._OWNER}: allow_tf32={self.allow_tf32}>"


def _reduction_setting(name, value):
    """(allow_reduced_precision, allow_split_k) from a bool or one or two bools, as torch."""
    def ensure_bool(obj, which):
        if isinstance(obj, bool):
            return obj
        raise TypeError(f"{name} expects a bool for {which}, but got {type(obj)!r}")

    if isinstance(value, bool):
        return value, True
    if isinstance(value, (list, tuple)):
        if not value:
            raise TypeError(f"{name} expects at least one boolean argument")
        if len(value) > 2:
            raise TypeError(f"{name} expects at most two boolean arguments")
        allowed = ensure_bool(value[0], "allow_reduced_precision")
        return allowed, ensure_bool(value[1], "allow_splitk") if len(value) == 2 else True
    raise TypeError(f"{name} expects a bool or a tuple/list of bools, but got {type(value)!r}")


matmul = _MatmulFlags()


def set_float32_matmul_precision(precision):
    """torch.set_float32_matmul_precision: 'highest' (matmul.allow_tf32 False), 'high' or
    'medium' (allow_tf32 True). gpucnn's products stay float32 for all three."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    with allow_changes():
        matmul.allow_tf32 = precision != "highest"
    matmul._state["float32_matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return matmul._state["float32_matmul_precision"]
