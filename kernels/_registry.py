"""Every CUDA kernel of the kernel layer is declared through `cuda_kernel`.

The decorator compiles lazily (a machine with no GPU can still import the layer), and records
the pure-Python function with the one signature its launcher uses. That record lets the tests
compile each kernel to PTX for several architectures without a GPU, and lets `compile_all`
build every kernel ahead of the first training step so that JIT time can be reported apart.
"""
from dataclasses import dataclass

from numba import cuda


@dataclass(frozen=True)
class KernelRecord:
    name: str          # module.function, for reports
    py_func: object    # the undecorated Python function (what compile_ptx takes)
    signature: str     # the exact types the launcher passes (C-contiguous arrays, int32, float32)
    dispatcher: object  # the lazily-compiling cuda.jit dispatcher
    float64_ok: bool   # True only for kernels that are meant to do float64 arithmetic


KERNELS: list[KernelRecord] = []


def cuda_kernel(signature: str, float64_ok: bool = False, **jit_options):
    """Declare a CUDA kernel with the signature its launcher always passes.

    Launchers convert scalars with np.int32 / np.float32 so that a launch matches this
    signature exactly and never triggers a second, differently typed compilation.
    """
    def wrap(py_func):
        dispatcher = cuda.jit(**jit_options)(py_func)
        KERNELS.append(KernelRecord(f"{py_func.__module__.rsplit('.', 1)[-1]}.{py_func.__name__}",
                                    py_func, signature, dispatcher, float64_ok))
        return dispatcher
    return wrap


def compile_all():
    """Compile every registered kernel for the current GPU; returns {name: seconds}."""
    import time
    timings = {}
    for record in KERNELS:
        start = time.perf_counter()
        record.dispatcher.compile(record.signature)
        timings[record.name] = time.perf_counter() - start
    return timings
