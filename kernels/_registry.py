"""Every CUDA kernel of the kernel layer is declared through `cuda_kernel`.

The decorator compiles lazily (a machine with no GPU can still import the layer: a kernel is
compiled by its first launch, which `gpucnn train` and `gpucnn bench` time apart), and records
the pure-Python function with the signatures its launcher uses. That record lets the tests and
ptx_report.py compile each kernel to PTX for several architectures without a GPU.

Compiled kernels are cached on disk (`cache=True`): the several processes of a GPU session
(tests, bench, compute-sanitizer) compile each kernel once. Options the simulator does not
take (`launch_bounds`, `max_registers`) are recorded but only passed to the real compiler.
"""
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from numba import cuda
from numba.cuda import config

_REAL_COMPILER_ONLY = ("launch_bounds", "max_registers")


@dataclass(frozen=True)
class KernelRecord:
    name: str          # module.function, for reports (plus the signature's types when several)
    py_func: object    # the undecorated Python function (what compile_ptx takes)
    signature: str     # the exact types the launcher passes (C-contiguous arrays, int32, float32)
    dispatcher: object  # the lazily-compiling cuda.jit dispatcher
    float64_ok: bool   # True only for kernels that are meant to do float64 arithmetic
    options: dict = field(default_factory=dict)  # jit options that change the machine code

    @property
    def launch_bounds(self):
        return self.options.get("launch_bounds")


KERNELS: list[KernelRecord] = []


class Twins(NamedTuple):
    """One op of a kernel module's OPS table: its @njit CPU twin and its CUDA launcher, which
    take the same arguments and return the same results (device arrays on "cuda")."""
    cpu: Callable
    cuda: Callable


def _types_tag(signature: str) -> str:
    """'void(float32[:, ::1], int64)' -> 'float32,int64', every argument's type without its
    layout: tells a kernel's specialisations apart (commas inside [...] or (...) belong to
    one argument)."""
    inside = signature[signature.index("(") + 1:signature.rindex(")")]
    args, depth, current = [], 0, ""
    for ch in inside:
        if ch == "," and depth == 0:
            args.append(current)
            current = ""
            continue
        depth += ch in "[("
        depth -= ch in "])"
        current += ch
    args.append(current)
    return ",".join(arg.strip().split("[")[0] for arg in args if arg.strip())


def cuda_kernel(*signatures: str, float64_ok: bool = False, name: str | None = None,
                **jit_options):
    """Declare a CUDA kernel with the signature(s) its launcher always passes.

    Launchers convert scalars with np.int32 / np.float32 so that a launch matches a declared
    signature exactly and never triggers a differently typed compilation. `name` tells apart
    two kernels built from one Python function with different options (a launch-bounds rung).
    """
    if not signatures:
        raise TypeError("cuda_kernel needs at least one signature")

    def wrap(py_func):
        # numba's disk cache keys a kernel by its function and signature, not by its jit
        # options: a launch-bounds rung of a cached kernel would load the other's code.
        options = {"cache": "launch_bounds" not in jit_options, **jit_options}
        if config.ENABLE_CUDASIM:
            options = {k: v for k, v in options.items()
                       if k not in _REAL_COMPILER_ONLY and k != "cache"}
        dispatcher = cuda.jit(**options)(py_func)
        base = f"{py_func.__module__.rsplit('.', 1)[-1]}.{name or py_func.__name__}"
        recorded = {k: v for k, v in jit_options.items() if k in _REAL_COMPILER_ONLY}
        for signature in signatures:
            label = base if len(signatures) == 1 else f"{base}[{_types_tag(signature)}]"
            KERNELS.append(KernelRecord(label, py_func, signature, dispatcher, float64_ok,
                                        recorded))
        return dispatcher
    return wrap
