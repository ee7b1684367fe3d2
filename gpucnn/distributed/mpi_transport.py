"""Collectives over MPI (mpi4py's buffer interface): NumPy arrays go to MPI as they are; a
"cuda" array is staged through host memory (the MPI of PyPI's wheels is not CUDA-aware), so
NCCL is the faster transport between GPUs.

Every operation works in place on a C-contiguous array, as torch.distributed's do on tensors.
"""
from __future__ import annotations

import numpy as np

OPS = ("sum", "max", "min", "product")


def _is_host(array) -> bool:
    return isinstance(array, np.ndarray)


class _HostStaged:
    """A host copy of a device array, written back by `finish()`; a host array as itself."""

    def __init__(self, array):
        self.array = array
        self.host = array if _is_host(array) else array.copy_to_host()

    def finish(self):
        if not _is_host(self.array):
            self.array.copy_to_device(self.host)


class PendingReduction:
    """A started sum (MPI_Iallreduce) of one array; `wait()` completes it in place."""

    def __init__(self, request, staged):
        self._request, self._staged = request, staged

    def is_completed(self) -> bool:
        return self._request is None or bool(self._request.Test())

    def wait(self):
        if self._request is not None:
            self._request.Wait()
            self._request = None
            self._staged.finish()


class MPITransport:
    name = "mpi"

    def __init__(self, comm):
        from mpi4py import MPI
        self._mpi = MPI
        self.comm = comm
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN, "product": MPI.PROD}

    def allreduce(self, array, op: str):
        staged = _HostStaged(array)
        self.comm.Allreduce(self._mpi.IN_PLACE, staged.host, op=self._ops[op])
        staged.finish()

    def start_sum(self, array) -> PendingReduction:
        """Start summing `array` across ranks and return at once; MPI progresses it during
        later MPI calls (overlapping the rest of the backward pass where it can)."""
        staged = _HostStaged(array)
        request = self.comm.Iallreduce(self._mpi.IN_PLACE, staged.host, op=self._mpi.SUM)
        return PendingReduction(request, staged)

    def progress(self, pending):
        """Give MPI a chance to move the pending reductions along (MPI_Testall)."""
        requests = [p._request for p in pending if p._request is not None]
        if requests:
            self._mpi.Request.Testall(requests)

    def broadcast(self, array, src: int):
        staged = _HostStaged(array)
        self.comm.Bcast(staged.host, root=src)
        staged.finish()

    def allgather(self, array, out):
        """out[r] = rank r's array, for out of shape (size, *array.shape)."""
        send = _HostStaged(array).host
        received = _HostStaged(out)
        self.comm.Allgather(send, received.host)
        received.finish()

    def allgather_object(self, obj) -> list:
        return self.comm.allgather(obj)

    def broadcast_object(self, obj, src: int):
        return self.comm.bcast(obj, root=src)

    def barrier(self):
        self.comm.Barrier()

    def close(self):
        pass
