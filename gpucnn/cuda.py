"""`gpucnn.cuda`: is a GPU there, and the memory pool behind "cuda" tensors.

Storage on "cuda" is numba device arrays: the cheapest thing to pass to a numba kernel. Their
allocations are served from CuPy's memory pool through a numba External Memory Manager plugin
when CuPy is installed, so a training step never calls cudaMalloc; without CuPy, numba's own
allocator is used (correct, slower for many small allocations).
"""
import ctypes
import os

_pool_installed = False


def is_available() -> bool:
    """True when numba can reach a CUDA GPU (or its simulator is enabled)."""
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # a missing driver raises in several ways; all of them mean "no GPU"
        return False


def simulator_enabled() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def ensure_available():
    if not is_available():
        raise RuntimeError("device 'cuda' requested but no CUDA GPU is available "
                           "(gpucnn.cuda.is_available() is False); use device='cpu'")
    install_memory_pool()


def synchronize():
    from numba import cuda
    cuda.synchronize()


def install_memory_pool() -> bool:
    """Route numba's device allocations to CuPy's pool. Must run before the CUDA context is
    created (numba's rule for EMM plugins); returns whether the pool is in use."""
    global _pool_installed
    if _pool_installed or simulator_enabled():
        return _pool_installed
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    from numba import cuda
    try:
        cuda.set_memory_manager(_cupy_memory_manager_class())
    except RuntimeError:
        return False  # a context already exists; numba keeps its own allocator
    _pool_installed = True
    return True


def _cupy_memory_manager_class():
    import cupy
    from numba import cuda

    class CuPyPoolMemoryManager(cuda.GetIpcHandleMixin, cuda.HostOnlyCUDAMemoryManager):
        """numba EMM plugin: device memory from CuPy's pool, returned to it when numba frees."""

        def initialize(self):
            super().initialize()
            self._pool = cupy.get_default_memory_pool()
            self._live = {}

        def memalloc(self, size):
            # numba turns a c_void_p into its driver's pointer type (a c_uint64 it would not).
            block = self._pool.malloc(size)
            self._live[block.ptr] = block  # keeps the pool block alive until numba frees it
            live, ptr = self._live, block.ptr
            return cuda.MemoryPointer(cuda.current_context(), ctypes.c_void_p(ptr), size,
                                      finalizer=lambda: live.pop(ptr, None))

        def get_memory_info(self):
            free, total = cupy.cuda.runtime.memGetInfo()
            return cuda.MemoryInfo(free=free, total=total)

        @property
        def interface_version(self):
            return 1

    return CuPyPoolMemoryManager
