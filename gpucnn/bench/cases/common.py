"""Helpers the case files share: the kernel table of a device, version ladders, labels."""
from ... import kernels


def table(on_gpu: bool) -> dict:
    """The kernel table the cases call: kernels.CUDA on the GPU, kernels.CPU on the CPU. Read
    at call time, so a test can swap one entry for a broken kernel."""
    return kernels.CUDA if on_gpu else kernels.CPU


def kernel(env, op: str):
    """The kernel the bench times for `op` on env's device."""
    return table(env.on_gpu)[op]


def cpu_twin(op: str):
    return kernels.CPU[op]


def versions(module) -> tuple[list, object]:
    """A kernel module's CUDA version ladder and its default ([None], None for one version)."""
    if len(module.VERSIONS) == 1:
        return [None], None
    return list(module.VERSIONS), module.DEFAULT_VERSION


def torch_label(env, gpu_backend: str, cpu_backend: str) -> str:
    backend = gpu_backend if env.on_gpu else cpu_backend
    return f"torch {env.torch.__version__} {backend} fp32"


def batches(env) -> list[int]:
    """The batch sizes of the kernel and model suites: 64 on the CPU; on the GPU 64 and 256,
    or 256 alone with --quick."""
    if not env.on_gpu:
        return [64]
    return [256] if env.quick else [64, 256]


def dims(shape) -> str:
    return "x".join(str(d) for d in shape)
