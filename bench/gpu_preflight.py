"""Preflight of a GPU session (bench/gpu_session.sh): what is installed, and can it run at all.

    python bench/gpu_preflight.py          # print every version; exit 1 with one clear line
                                           # if gpucnn's kernels cannot be imported or no
                                           # device (or simulator) answers
    python bench/gpu_preflight.py --slug   # the device's name as a file-name slug

Every fact is printed even when another one failed, so one broken piece does not hide the rest.
"""
import importlib.metadata
import os
import platform
import sys


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _fact(name, get):
    try:
        value = get()
    except Exception as error:  # each fact on its own: report, go on
        value = f"unavailable ({type(error).__name__}: {' '.join(str(error).split())[:160]})"
    print(f"{name:24s} {value}")
    return value


def _nvvm():
    from numba.cuda.cudadrv import nvvm
    return ".".join(map(str, nvvm.NVVM().get_version()))


def _nvjitlink():
    from cuda.bindings import nvjitlink
    return ".".join(map(str, nvjitlink.version()))


def _driver():
    from numba.cuda.cudadrv.driver import driver
    return ".".join(map(str, driver.get_version()))


def _cupy():
    import cupy
    runtime = cupy.cuda.runtime.runtimeGetVersion()
    return f"{cupy.__version__} (CUDA runtime {runtime // 1000}.{runtime % 1000 // 10})"


def _torch():
    import torch
    return f"{torch.__version__} (CUDA {torch.version.cuda}, available {torch.cuda.is_available()})"


def _device():
    from numba import cuda

    from gpucnn.bench.env import gpu_name
    cc = getattr(cuda.get_current_device(), "compute_capability", None)
    return gpu_name() + (f", compute capability {cc[0]}.{cc[1]}" if cc else "")


def slug() -> str:
    from gpucnn.bench.env import gpu_name, slug as make_slug
    return make_slug(gpu_name())


def main() -> int:
    print(f"{'python':24s} {platform.python_version()} ({sys.executable})")
    for dist in ("numpy", "numba", "numba-cuda", "cuda-bindings", "cupy-cuda13x", "cupy-cuda12x",
                 "torch", "gpucnn"):
        print(f"{dist:24s} {_version(dist)}")
    simulator = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    print(f"{'simulator':24s} {'on' if simulator else 'off'}")
    _fact("NVVM", _nvvm)
    _fact("nvJitLink", _nvjitlink)
    _fact("CUDA driver", _driver)
    _fact("CuPy", _cupy)
    _fact("torch", _torch)
    try:
        import gpucnn.kernels as kernels
        print(f"{'gpucnn.kernels':24s} {len(kernels.KERNELS)} CUDA kernels registered")
    except Exception as error:
        print(f"cannot import gpucnn.kernels: {type(error).__name__}: {error}")
        return 1
    import gpucnn
    if not gpucnn.cuda.is_available():
        print("numba sees no CUDA device" + ("" if simulator else " (and the simulator is off)"))
        return 1
    _fact("device", _device)
    from numba.cuda import config
    if bool(config.ENABLE_CUDASIM) != simulator:
        print(f"numba.cuda's simulator is {'on' if config.ENABLE_CUDASIM else 'off'}, expected "
              f"{'on' if simulator else 'off'}")
        return 1
    gpucnn.cuda.ensure_available()
    print(f"{'CuPy memory pool':24s} {'in use' if gpucnn.cuda.memory_pool_in_use() else 'not in use'}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--slug"]:
        print(slug())
        sys.exit(0)
    sys.exit(main())
