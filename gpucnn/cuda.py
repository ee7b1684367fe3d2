"""`gpucnn.cuda`: is a GPU there, and the memory pool behind "cuda" tensors.

Storage on "cuda" is numba device arrays: the cheapest thing to pass to a numba kernel. Their
allocations are served from CuPy's memory pool through a numba External Memory Manager plugin
when CuPy is installed, so a training step never calls cudaMalloc; without CuPy, numba's own
allocator is used (correct, slower for many small allocations).

numba gives a CUDA context its memory manager when the context is created, so the pool can
only serve gpucnn if `install_memory_pool()` runs before anything else creates the context
(gpucnn calls it when "cuda" is first used). Where that is too late it says so, and
`memory_pool_in_use()` tells. `GPUCNN_CUPY_POOL=0` keeps numba's own allocator (for
compute-sanitizer's memcheck: a pool sub-allocates large blocks, which hides small overruns).

An allocation the GPU cannot serve raises `OutOfMemoryError` (torch.cuda.OutOfMemoryError, a
RuntimeError), from either allocator: both are numba memory-manager plugins installed when
"cuda" is first used, CuPy's pool or numba's own allocator with the error translated.
"""
import ctypes
import os
import warnings

from . import random

_POOL_SWITCH = "GPUCNN_CUPY_POOL"
_manager_class = None   # the plugin class, made once CuPy has been imported
_CUDA_ERROR_OUT_OF_MEMORY = 2   # the driver's CUresult for a failed allocation


class OutOfMemoryError(RuntimeError):
    """The GPU could not serve an allocation (torch.cuda.OutOfMemoryError, also
    gpucnn.OutOfMemoryError). Free tensors (del them) or use smaller batches."""


def _out_of_memory_error(size: int, memory_info=None) -> OutOfMemoryError:
    """torch's message: what was asked for and, when known, what the GPU has."""
    def text(n):
        return f"{n / 2 ** 30:.2f} GiB" if n >= 2 ** 30 else f"{n / 2 ** 20:.2f} MiB"
    message = f"CUDA out of memory. Tried to allocate {text(size)}."
    if memory_info is not None:
        message += (f" GPU {current_device()} has a total capacity of "
                    f"{text(memory_info.total)} of which {text(memory_info.free)} is free.")
    return OutOfMemoryError(message)


def _is_out_of_memory(error) -> bool:
    """Whether a numba driver error is CUDA_ERROR_OUT_OF_MEMORY (its code is an int or an
    IntEnum, depending on the driver binding numba uses)."""
    try:
        return int(getattr(error, "code", -1)) == _CUDA_ERROR_OUT_OF_MEMORY
    except (TypeError, ValueError):
        return False
_device_index = None    # the GPU this process uses, once chosen


def is_available() -> bool:
    """True when numba can reach a CUDA GPU (or its simulator is enabled)."""
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # a missing driver raises in several ways; all of them mean "no GPU"
        return False


def simulator_enabled() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def device_count() -> int:
    """GPUs numba can see (0 without a driver)."""
    if not is_available():
        return 0
    from numba import cuda
    return len(cuda.gpus)


def ensure_available():
    """Raise if there is no GPU; else make sure this process has its GPU and memory pool."""
    if not is_available():
        raise RuntimeError("device 'cuda' requested but no CUDA GPU is available "
                           "(gpucnn.cuda.is_available() is False); use device='cpu'")
    use_device(0 if _device_index is None else _device_index)


def use_device(index: int = 0):
    """Make GPU `index` this process's device, once, with CuPy's pool behind its allocations.

    gpucnn runs on one GPU per process (a data-parallel rank per GPU): asking for another
    index later is an error rather than a silent switch of every tensor's home.
    """
    global _device_index
    if _device_index is not None:
        if index != _device_index:
            raise ValueError(f"cuda:{index} requested, but this process already uses "
                             f"cuda:{_device_index}; gpucnn uses one GPU per process (start one "
                             f"process per GPU, or set CUDA_VISIBLE_DEVICES)")
        return
    count = device_count()
    if not 0 <= index < count:
        raise ValueError(f"cuda:{index} requested, but {count} GPU(s) are visible "
                         f"(cuda:0 to cuda:{count - 1})")
    install_memory_pool(index)
    _device_index = index


def current_device() -> int:
    """The index of this process's GPU (0 until another is chosen)."""
    return 0 if _device_index is None else _device_index


def set_device(index):
    """torch.cuda.set_device: choose this process's GPU (once; see use_device)."""
    use_device(getattr(index, "index", index) or 0)


def synchronize(device=None):
    """Wait for every kernel launched on this process's GPU to finish."""
    if not is_available():
        raise RuntimeError("gpucnn.cuda.synchronize: no CUDA GPU is available")
    from numba import cuda
    cuda.synchronize()


def manual_seed(seed: int):
    """Seeds gpucnn's generators (the same ones serve "cpu" and "cuda")."""
    random.manual_seed(seed)


manual_seed_all = manual_seed


def pool_wanted() -> bool:
    return os.environ.get(_POOL_SWITCH, "1") != "0" and not simulator_enabled()


def install_memory_pool(index: int = 0) -> bool:
    """Route numba's device allocations to CuPy's pool, on GPU `index`; returns whether the
    pool is in use.

    Safe to call many times. When numba's context already exists with its own allocator
    (something used the GPU through numba first), it warns once and returns False.
    """
    global _manager_class
    if not pool_wanted():
        _use_numba_allocator()
        _select(index)
        return False
    if _manager_class is None:
        try:
            import cupy  # noqa: F401
        except ImportError:
            _use_numba_allocator()
            _select(index)
            return False
        from numba import cuda
        _manager_class = _cupy_memory_manager_class()
        cuda.set_memory_manager(_manager_class)
        # The context is created here if it does not exist yet, with the plugin; if it
        # existed already, it keeps the allocator it was created with.
        _select(index)
        if not memory_pool_in_use():
            warnings.warn("gpucnn: numba's CUDA context was created before gpucnn could "
                          "install CuPy's memory pool, so device memory comes from cudaMalloc "
                          "(slower for many small arrays). Use device='cuda' (or call "
                          "gpucnn.cuda.install_memory_pool()) before any other numba.cuda "
                          "work to get the pool.", RuntimeWarning, stacklevel=2)
    return memory_pool_in_use()


def _use_numba_allocator():
    """numba's own allocator, as a plugin that raises OutOfMemoryError when the GPU is full
    (not under the simulator, which has no memory managers). A context that exists already
    keeps the allocator it was made with."""
    if simulator_enabled():
        return
    manager_class = _numba_memory_manager_class()
    if manager_class is not None:
        from numba import cuda
        cuda.set_memory_manager(manager_class)


def _numba_memory_manager_class():
    """numba's default memory manager with OutOfMemoryError for a full GPU (None with a numba
    that lacks that class: its internals, not its public API)."""
    try:
        from numba.cuda.cudadrv.driver import CudaAPIError, NumbaCUDAMemoryManager
    except ImportError:
        return None

    class NumbaMemoryManager(NumbaCUDAMemoryManager):
        """numba's allocator (pending frees flushed and retried on a full GPU), then
        OutOfMemoryError instead of the driver's error."""

        def memalloc(self, size):
            try:
                return super().memalloc(size)
            except CudaAPIError as error:
                if not _is_out_of_memory(error):
                    raise
                raise _out_of_memory_error(size, self.get_memory_info()) from error

    return NumbaMemoryManager


def _select(index):
    """numba's context on GPU `index` (created now if need be)."""
    from numba import cuda
    cuda.select_device(index)


def memory_pool_in_use() -> bool:
    """Whether the current CUDA context allocates from CuPy's pool (creates the context)."""
    if _manager_class is None:
        return False
    from numba import cuda
    return isinstance(cuda.current_context().memory_manager, _manager_class)


def _cupy_memory_manager_class():
    import cupy
    from numba import cuda

    class CuPyPoolMemoryManager(cuda.GetIpcHandleMixin, cuda.HostOnlyCUDAMemoryManager):
        """numba EMM plugin: device memory from CuPy's pool, returned to it when numba frees."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # numba calls initialize() whenever the context is pushed, and the EMM contract
            # says it must not invalidate earlier state: the table lives from here on.
            self._live = {}
            self._pool = None

        def initialize(self):
            super().initialize()
            if self._pool is None:
                self._pool = cupy.get_default_memory_pool()

        def memalloc(self, size):
            # numba turns a c_void_p into its driver's pointer type (a c_uint64 it would not).
            try:   # CuPy frees its cached blocks and retries before it gives up
                block = self._pool.malloc(size)
            except cupy.cuda.memory.OutOfMemoryError as error:
                raise _out_of_memory_error(size, self.get_memory_info()) from error
            self._live[block.ptr] = block  # keeps the pool block alive until numba frees it
            live, ptr = self._live, block.ptr
            return cuda.MemoryPointer(cuda.current_context(), ctypes.c_void_p(ptr), size,
                                      finalizer=lambda: live.pop(ptr, None))

        def reset(self):
            # A context reset frees everything it allocated: drop our references, then hand
            # the pool's now-unused blocks back to the driver.
            super().reset()
            self._live.clear()
            if self._pool is not None:
                self._pool.free_all_blocks()

        def get_memory_info(self):
            free, total = cupy.cuda.runtime.memGetInfo()
            return cuda.MemoryInfo(free=free, total=total)

        @property
        def interface_version(self):
            return 1

    return CuPyPoolMemoryManager
