"""The NCCL transport's calls into CuPy's NCCL binding, checked against a recording stand-in
(no GPU here; the real path runs in bench/gpu_session.sh's distributed suite on a lent GPU):
the unique id comes from rank 0 over MPI, the GPU is the local rank's, and every collective
passes the buffer's device pointer, element count, NCCL type, op and the null stream."""
import sys
import types

import numpy as np
import pytest

from gpucnn import cuda
from gpucnn.distributed import nccl_transport


class DeviceArray:
    """What a "cuda" tensor holds, as far as the transport sees it."""

    def __init__(self, dtype, shape, ptr):
        self.dtype, self.shape, self.ptr = np.dtype(dtype), shape, ptr
        self.size = int(np.prod(shape))
        self.data = types.SimpleNamespace(ptr=ptr)


def fake_cupy(calls):
    nccl = types.SimpleNamespace(NCCL_SUM=0, NCCL_PROD=1, NCCL_MAX=2, NCCL_MIN=3,
                                 NCCL_UINT8=4, NCCL_INT32=5, NCCL_INT64=6, NCCL_FLOAT32=7,
                                 get_unique_id=lambda: (11, 22, 33))

    class Communicator:
        def __init__(self, ndev, uid, rank):
            calls.append(("init", ndev, uid, rank))

        def __getattr__(self, name):
            return lambda *args: calls.append((name, *args))

    nccl.NcclCommunicator = Communicator
    stream = types.SimpleNamespace(ptr=0, done=True, synchronize=lambda: calls.append(("sync",)))
    device = type("Device", (), {"__init__": lambda self, i: calls.append(("device", i)),
                                 "__enter__": lambda self: self,
                                 "__exit__": lambda self, *a: False})
    cupy_cuda = types.SimpleNamespace(nccl=nccl, Stream=types.SimpleNamespace(null=stream),
                                      Device=device)
    return types.SimpleNamespace(cuda=cupy_cuda, asarray=lambda a: a), nccl


class Comm:
    def __init__(self, rank, size):
        self.rank, self.size = rank, size
        self.sent = []

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    def bcast(self, obj, root):
        self.sent.append((obj, root))
        return (11, 22, 33)   # what rank 0 drew


@pytest.fixture
def transport(monkeypatch):
    calls = []
    cupy, nccl = fake_cupy(calls)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupy.cuda", cupy.cuda)
    monkeypatch.setitem(sys.modules, "cupy.cuda.nccl", nccl)
    monkeypatch.setattr(cuda, "is_available", lambda: True)
    monkeypatch.setattr(cuda, "simulator_enabled", lambda: False)
    monkeypatch.setattr(cuda, "device_count", lambda: 2)
    monkeypatch.setattr(cuda, "set_device", lambda i: calls.append(("set_device", i)))
    monkeypatch.setattr(cuda, "current_device", lambda: 1)
    # Objects and host arrays go over MPI: a stand-in here, so this process never starts MPI.
    monkeypatch.setattr(nccl_transport, "MPITransport", lambda comm: types.SimpleNamespace())
    comm = Comm(rank=3, size=4)
    made = nccl_transport.NCCLTransport(comm, local_rank=3)
    return made, calls, comm


def test_the_communicator_is_made_from_rank_0s_id_on_the_local_ranks_gpu(transport):
    _, calls, comm = transport
    assert ("set_device", 1) in calls                  # local rank 3 of 2 GPUs: GPU 1
    assert comm.sent == [(None, 0)]                    # rank 3 draws no id, receives rank 0's
    assert ("init", 4, (11, 22, 33), 3) in calls


def test_collectives_pass_pointer_count_type_op_and_stream(transport):
    made, calls, _ = transport
    calls.clear()
    made.allreduce(DeviceArray(np.float32, (5, 3), ptr=1000), "max")
    made.start_sum(DeviceArray(np.float32, (7,), ptr=2000)).wait()
    made.broadcast(DeviceArray(np.int64, (2,), ptr=3000), 2)
    made.allgather(DeviceArray(np.int32, (3,), ptr=4000), DeviceArray(np.int32, (4, 3), 5000))
    made.allreduce(DeviceArray(np.bool_, (6,), ptr=6000), "sum")
    assert calls == [("allReduce", 1000, 1000, 15, 7, 2, 0), ("sync",),
                     ("allReduce", 2000, 2000, 7, 7, 0, 0), ("sync",),
                     ("broadcast", 3000, 3000, 2, 6, 2, 0), ("sync",),
                     ("allGather", 4000, 5000, 3, 5, 0), ("sync",),
                     ("allReduce", 6000, 6000, 6, 4, 2, 0), ("sync",)]


def test_host_arrays_go_over_mpi(transport, monkeypatch):
    made, calls, _ = transport
    calls.clear()
    host = np.zeros(3, np.float32)
    monkeypatch.setattr(made._host, "allreduce", lambda a, op: calls.append(("mpi", a, op)),
                        raising=False)
    made.allreduce(host, "sum")
    assert calls == [("mpi", host, "sum")]
