"""Where the bench runs: the device, its name, the libraries beside gpucnn, array helpers.

`BenchEnv` is made once per run. It picks the device ("auto" takes the GPU when numba sees
one), installs gpucnn's CuPy memory pool before any CUDA context exists, and knows how to
put a host array on the device and back, so the cases never branch on the device themselves.
"""
import datetime
import importlib
import importlib.metadata
import os
import platform
import re
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import cuda

from .. import cuda as gcuda
from .. import devices
from .. import process_settings
from .timing import CpuClock, CudaClock


class BenchError(Exception):
    """A problem to report in one line (no traceback), e.g. --device cuda without a GPU."""


def _optional(module: str):
    try:
        return importlib.import_module(module)
    except Exception:  # ImportError, or a broken install raising anything at import time
        return None


def _version(dist: str, module=None):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return getattr(module, "__version__", None) if module is not None else None


def cpu_model_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def gpu_name() -> str:
    name = getattr(cuda.get_current_device(), "name", None)
    if isinstance(name, bytes):  # older numba returned bytes
        name = name.decode()
    return name or "CUDA simulator"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "device"


def default_json_path(device_name: str, date: str) -> str:
    return os.path.join("bench", "results", f"{slug(device_name)}-{date}.json")


def resolve_device(requested: str) -> str:
    try:
        return devices.resolve_option(requested)
    except ValueError as error:
        raise BenchError(str(error)) from None


def fp32_without_tf32(torch) -> dict:
    """Make torch's CUDA float32 products and convolutions true FP32 (TF32 would make every
    FP32 ratio meaningless) and return the settings now in effect, for the JSON.

    torch >= 2.9 has per-backend `fp32_precision` ("ieee" or "tf32"; cuDNN convolutions
    default to "tf32") and deprecates the older allow_tf32 flags, used only where it lacks it.
    """
    matmul = torch.backends.cuda.matmul
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(matmul, "fp32_precision"):
        matmul.fp32_precision = "ieee"
        conv.fp32_precision = "ieee"
        return {"api": "fp32_precision", "matmul": matmul.fp32_precision,
                "cudnn_conv": conv.fp32_precision}
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return {"api": "allow_tf32", "matmul": "ieee" if not matmul.allow_tf32 else "tf32",
            "cudnn_conv": "ieee" if not torch.backends.cudnn.allow_tf32 else "tf32"}


@dataclass
class BenchEnv:
    device: str
    rng: np.random.Generator
    seed: int
    quick: bool = False
    torch: object = None
    cupy: object = None
    clock: object = None
    name: str = ""
    simulator: bool = False
    notes: list = field(default_factory=list)
    torch_fp32: dict | None = None   # the TF32 settings in effect for the torch reference

    @classmethod
    def create(cls, device: str, seed: int, quick: bool, use_torch=True, use_cupy=True):
        env = cls(device=device, rng=np.random.default_rng(seed), seed=seed, quick=quick)
        if device == "cuda":
            gcuda.ensure_available()  # installs the CuPy pool before the context is created
            env.simulator = gcuda.simulator_enabled()
            env.clock = CudaClock()
            env.name = gpu_name()
        else:
            # The cases call the CPU kernels directly, not through the engine's dispatch.
            process_settings.before_cpu_kernels()
            env.clock = CpuClock()
            env.name = cpu_model_name()
        env.torch = _optional("torch") if use_torch else None
        if env.torch is not None:
            env._configure_torch()
        if device == "cuda" and use_cupy and not env.simulator:
            env.cupy = _optional("cupy")
        return env

    def _configure_torch(self):
        torch = self.torch
        if self.device == "cuda":
            if self.simulator or not torch.cuda.is_available():
                self.notes.append("torch is installed without CUDA: no torch reference on the GPU")
                self.torch = None
                return
            self.torch_fp32 = fp32_without_tf32(torch)
            # Let cuDNN pick its fastest algorithm for each shape (the strongest baseline).
            torch.backends.cudnn.benchmark = True

    # --- arrays ------------------------------------------------------------------------------
    @property
    def on_gpu(self) -> bool:
        return self.device == "cuda"

    def rand(self, *shape) -> np.ndarray:
        """Fresh uniform [-1, 1) float32 data: never zeros (they hide unwritten outputs)."""
        x = self.rng.random(shape, dtype=np.float32)  # [0, 1), drawn directly in float32
        x *= 2.0
        x -= 1.0
        return x

    def to_device(self, host):
        if not self.on_gpu:
            return host
        return cuda.to_device(np.ascontiguousarray(host))

    def to_host(self, array) -> np.ndarray:
        return array if isinstance(array, np.ndarray) else array.copy_to_host()

    def poisoned(self, shape, dtype=np.float32):
        """An output buffer full of NaN (integers: their minimum) that a kernel must overwrite."""
        fill = np.nan if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min
        return self.to_device(np.full(shape, fill, dtype=dtype))

    def torch_tensor(self, host):
        t = self.torch.from_numpy(np.ascontiguousarray(host))
        return t.to("cuda") if self.on_gpu else t

    def cupy_array(self, host):
        return self.cupy.asarray(host)

    # --- facts for the JSON ------------------------------------------------------------------
    def versions(self) -> dict:
        versions = {"gpucnn": _version("gpucnn"), "numba": numba.__version__,
                    "numba_cuda": _version("numba-cuda"), "numpy": np.__version__,
                    "torch": getattr(self.torch, "__version__", None) or _version("torch")}
        if self.on_gpu:
            versions["cupy"] = getattr(self.cupy, "__version__", None)
        return versions

    def threads(self) -> dict:
        threads = {"cpu_count": os.cpu_count(), "numba": numba.get_num_threads()}
        try:
            threads["numba_layer"] = numba.threading_layer()  # known once a parallel run happened
        except ValueError:
            pass
        if self.torch is not None:
            threads["torch"] = self.torch.get_num_threads()  # left as torch set it
        return threads

    @staticmethod
    def today() -> str:
        return datetime.date.today().isoformat()
