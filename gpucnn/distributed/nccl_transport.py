"""Collectives over NCCL through CuPy (cupy.cuda.nccl), for "cuda" arrays: GPU to GPU over
NVLink or the network, no host copies. The communicator is made from a unique id that rank 0
creates and sends to the others over MPI. Operations are queued on the stream gpucnn's kernels
run on (the legacy default stream, numba's and CuPy's null stream), so they are ordered after
the kernels that produced their input and before those that read their output, with no
host synchronisation. Host (NumPy) arrays go over MPI instead, so that a job on GPUs can
still sum a CPU tensor (torch's default group has gloo beside NCCL for the same reason).
"""
from __future__ import annotations

import numpy as np

from .. import cuda
from .mpi_transport import MPITransport

_NCCL_TYPES = {np.dtype(np.float32): "NCCL_FLOAT32", np.dtype(np.int64): "NCCL_INT64",
               np.dtype(np.int32): "NCCL_INT32", np.dtype(np.bool_): "NCCL_UINT8",
               np.dtype(np.uint8): "NCCL_UINT8"}


def available() -> bool:
    """True when this process can use NCCL: a real GPU, and CuPy built with NCCL."""
    if not cuda.is_available() or cuda.simulator_enabled():
        return False
    try:
        from cupy.cuda import nccl  # noqa: F401  (CuPy is optional: imported when asked)
    except Exception:   # CuPy absent, or built without NCCL
        return False
    return True


class PendingReduction:
    """A sum queued on the stream; `wait()` makes the host wait for it (the GPU's later
    kernels are ordered after it anyway)."""

    def __init__(self, stream):
        self._stream = stream
        self._done = False

    def is_completed(self) -> bool:
        return self._done or self._stream.done

    def wait(self):
        if not self._done:
            self._stream.synchronize()
            self._done = True


class NCCLTransport:
    name = "nccl"

    def __init__(self, comm, local_rank: int):
        try:
            import cupy
            from cupy.cuda import nccl
        except Exception as error:
            raise RuntimeError(f"init_process_group(backend='nccl') needs CuPy with NCCL "
                               f"({error}); install gpucnn[gpu], or use backend='mpi'") from None
        if not cuda.is_available() or cuda.simulator_enabled():
            raise RuntimeError("init_process_group(backend='nccl') needs a CUDA GPU; use "
                               "backend='mpi' on the CPU")
        count = cuda.device_count()
        cuda.set_device(local_rank % count)
        self._cupy, self._nccl = cupy, nccl
        self._host = MPITransport(comm)   # objects and the barrier go over MPI
        uid = nccl.get_unique_id() if comm.Get_rank() == 0 else None
        uid = comm.bcast(uid, root=0)
        with cupy.cuda.Device(cuda.current_device()):
            self.comm = nccl.NcclCommunicator(comm.Get_size(), uid, comm.Get_rank())
        self._ops = {"sum": nccl.NCCL_SUM, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN,
                     "product": nccl.NCCL_PROD}

    def _device(self, array):
        buffer = self._cupy.asarray(array)   # the same memory, through __cuda_array_interface__
        dtype = np.dtype(buffer.dtype)
        if dtype not in _NCCL_TYPES:
            raise TypeError(f"the NCCL backend has no type for {dtype}")
        return buffer, getattr(self._nccl, _NCCL_TYPES[dtype])

    @property
    def _stream(self):
        return self._cupy.cuda.Stream.null

    def allreduce(self, array, op: str):
        if isinstance(array, np.ndarray):
            return self._host.allreduce(array, op)
        buffer, kind = self._device(array)
        if np.dtype(buffer.dtype) == np.bool_ and op == "sum":
            op = "max"   # a bool sum is "any", as a uint8 max
        self.comm.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size, kind,
                            self._ops[op], self._stream.ptr)
        self._stream.synchronize()

    def start_sum(self, array):
        if isinstance(array, np.ndarray):
            return self._host.start_sum(array)
        buffer, kind = self._device(array)
        self.comm.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size, kind,
                            self._nccl.NCCL_SUM, self._stream.ptr)
        return PendingReduction(self._stream)

    def progress(self, pending):
        self._host.progress([p for p in pending if not isinstance(p, PendingReduction)])

    def broadcast(self, array, src: int):
        if isinstance(array, np.ndarray):
            return self._host.broadcast(array, src)
        buffer, kind = self._device(array)
        self.comm.broadcast(buffer.data.ptr, buffer.data.ptr, buffer.size, kind, src,
                            self._stream.ptr)
        self._stream.synchronize()

    def allgather(self, array, out):
        if isinstance(array, np.ndarray):
            return self._host.allgather(array, out)
        send, kind = self._device(array)
        received, _ = self._device(out)
        self.comm.allGather(send.data.ptr, received.data.ptr, send.size, kind,
                            self._stream.ptr)
        self._stream.synchronize()

    def allgather_object(self, obj) -> list:
        return self._host.allgather_object(obj)

    def broadcast_object(self, obj, src: int):
        return self._host.broadcast_object(obj, src)

    def barrier(self):
        self._stream.synchronize()
        self._host.barrier()

    def close(self):
        self._stream.synchronize()
        self.comm.destroy()
