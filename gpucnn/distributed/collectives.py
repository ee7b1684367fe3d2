"""torch.distributed's collectives on gpucnn tensors, over the default process group.

    all_reduce(tensor, op=ReduceOp.SUM)      in place: the sum (average, max, min, product)
                                             of the tensor over all ranks, on every rank
    broadcast(tensor, src)                   in place: rank src's tensor on every rank
    all_gather(tensor_list, tensor)          tensor_list[r] = rank r's tensor, on every rank
    all_gather_object(object_list, obj)      the same for any picklable object
    broadcast_object_list(object_list, src)  rank src's objects on every rank
    barrier()                                returns on a rank once every rank has called it

Tensors must be contiguous and alike on every rank (shape, dtype; the launcher cannot check
this, so a mismatch is the caller's error, as in torch.distributed). async_op=True returns a
Work whose wait() completes the call; the collective itself has already run (only the
gradient buckets of DistributedDataParallel overlap with computation).
"""
from __future__ import annotations

import enum
import os
import socket

import numpy as np

from ..autograd import no_grad
from ..factories import empty
from ..tensor import Tensor
from . import supervisor
from .process_group import check_group


class ReduceOp(enum.Enum):
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


class Work:
    """What an async_op=True call returns; the call is complete when it returns."""

    def wait(self, timeout=None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True


def _work(async_op):
    return Work() if async_op else None


def _check_tensor(caller: str, tensor, name: str = "tensor") -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{caller}: {name} must be a gpucnn Tensor, got {type(tensor).__name__}")
    if not tensor.is_contiguous():
        raise ValueError(f"{caller}: {name} of shape {tuple(tensor.shape)} must be contiguous "
                         f"(call .contiguous() first)")
    return tensor


def _wire(array):
    """The array as the transports carry it: a bool array as its bytes (a bool sum or max
    is then a byte max: "any")."""
    return array.view(np.uint8) if np.dtype(array.dtype) == np.bool_ else array


def _check_op(op) -> ReduceOp:
    if isinstance(op, str):
        try:
            return ReduceOp(op.lower())
        except ValueError:
            pass
    if not isinstance(op, ReduceOp):
        raise ValueError(f"all_reduce: unknown op {op!r}; use ReduceOp.SUM, AVG, PRODUCT, MIN or "
                         f"MAX")
    return op


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    pg = check_group(group, "all_reduce")
    _check_tensor("all_reduce", tensor)
    op = _check_op(op)
    is_bool = tensor.dtype.name == "bool"
    if op is ReduceOp.AVG and not tensor.dtype.is_floating_point:
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a float tensor, got {tensor.dtype.name}"
                        f" (sum it, then divide)")
    transport_op = op.value
    if op is ReduceOp.AVG:
        transport_op = "sum"
    if is_bool:   # PyTorch: sum and max are "any", product and min are "all"
        transport_op = "max" if op in (ReduceOp.SUM, ReduceOp.MAX) else "min"
    pg.transport.allreduce(_wire(tensor._array), transport_op)
    tensor._version.value += 1
    if op is ReduceOp.AVG:
        with no_grad():
            tensor.div_(pg.size)
    return _work(async_op)


def _check_src(caller: str, src, size: int) -> int:
    if isinstance(src, bool) or not isinstance(src, (int, np.integer)) or not 0 <= src < size:
        raise ValueError(f"{caller}: src must be a rank in 0..{size - 1}, got {src!r}")
    return int(src)


def broadcast(tensor, src=0, group=None, async_op=False, group_src=None):
    pg = check_group(group, "broadcast")
    _check_tensor("broadcast", tensor)
    src = _check_src("broadcast", src if group_src is None else group_src, pg.size)
    pg.transport.broadcast(_wire(tensor._array), src)
    tensor._version.value += 1
    return _work(async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    pg = check_group(group, "all_gather")
    _check_tensor("all_gather", tensor)
    if not isinstance(tensor_list, list) or len(tensor_list) != pg.size:
        got = len(tensor_list) if isinstance(tensor_list, list) else type(tensor_list).__name__
        raise ValueError(f"all_gather: tensor_list must be a list of {pg.size} tensors (one per "
                         f"rank), got {got}")
    for i, out in enumerate(tensor_list):
        _check_tensor("all_gather", out, f"tensor_list[{i}]")
        if out.shape != tensor.shape or out.dtype is not tensor.dtype or \
                out.device != tensor.device:
            raise ValueError(f"all_gather: tensor_list[{i}] ({out.dtype.name} "
                             f"{tuple(out.shape)} on {out.device}) differs from the input "
                             f"({tensor.dtype.name} {tuple(tensor.shape)} on {tensor.device})")
    gathered = empty((pg.size, *tensor.shape), dtype=tensor.dtype, device=tensor.device)
    pg.transport.allgather(_wire(tensor._array), _wire(gathered._array))
    with no_grad():
        for r, out in enumerate(tensor_list):
            out.copy_(gathered[r])
    return _work(async_op)


def all_gather_object(object_list, obj, group=None):
    """object_list[r] = rank r's obj (pickled between the ranks of this job, as torch does)."""
    pg = check_group(group, "all_gather_object")
    if not isinstance(object_list, list) or len(object_list) != pg.size:
        got = len(object_list) if isinstance(object_list, list) else type(object_list).__name__
        raise ValueError(f"all_gather_object: object_list must be a list of {pg.size} items "
                         f"(one per rank), got {got}")
    object_list[:] = pg.transport.allgather_object(obj)


def broadcast_object_list(object_list, src=0, group=None, device=None, group_src=None):
    pg = check_group(group, "broadcast_object_list")
    if not isinstance(object_list, list):
        raise TypeError(f"broadcast_object_list: object_list must be a list, got "
                        f"{type(object_list).__name__}")
    src = _check_src("broadcast_object_list", src if group_src is None else group_src, pg.size)
    object_list[:] = pg.transport.broadcast_object(list(object_list), src)


def barrier(group=None, async_op=False, device_ids=None):
    check_group(group, "barrier").transport.barrier()
    return _work(async_op)


def rank_table() -> list[str]:
    """One line per rank: its process id and machine (MPICH's mpiexec names a killed process
    by its id), and the id of the supervisor the launcher started where there is one
    (supervisor.py)."""
    pg = check_group(None, "rank_table")
    entries = pg.transport.allgather_object((os.getpid(), supervisor.supervisor_pid(),
                                             socket.gethostname()))
    return [f"rank {r}: pid {pid}" + (f" (launched as {launched})" if launched else "") +
            f" on {host}" for r, (pid, launched, host) in enumerate(entries)]
