"""DistributedDataParallel: one model per process, gradients averaged across processes.

    model = DistributedDataParallel(model)      # after init_process_group, on every rank
    loss_fn(model(x_shard), y_shard).backward() # grads are the average over ranks here
    optimizer.step()                            # so every rank takes the same step

At construction every rank's parameters and buffers are checked against rank 0's (names,
shapes, dtypes: a model built differently on one rank is refused, naming the first key that
differs) and overwritten by rank 0's values, so all ranks start alike. In training, buffers
(BatchNorm's running statistics) are broadcast from rank 0 before every forward, as torch's
broadcast_buffers=True does; normalisation itself uses each rank's own batch unless the model
was converted with SyncBatchNorm.convert_sync_batchnorm. Gradients travel in buckets (see
reducer.py). `no_sync()` skips the averaging, for gradient accumulation over several
backward passes.
"""
from __future__ import annotations

import contextlib

from ... import autograd
from ...distributed import broadcast
from ...distributed.process_group import check_group
from ..module import Module
from .reducer import Reducer

DEFAULT_BUCKET_CAP_MB = 25   # torch's default


def _signature(module):
    entries = [("parameter", name, tuple(p.shape), p.dtype.name)
               for name, p in module.named_parameters()]
    entries += [("buffer", name, tuple(b.shape), b.dtype.name)
                for name, b in module.named_buffers()]
    return entries


def _check_same_model(signatures):
    """Every rank's (kind, name, shape, dtype) list against rank 0's; RuntimeError naming the
    first difference. Every rank sees every list, so every rank raises the same error."""
    reference = signatures[0]
    for rank, entries in enumerate(signatures[1:], start=1):
        for mine, theirs in zip(reference, entries):
            if mine != theirs:
                raise RuntimeError(
                    f"DistributedDataParallel: rank {rank}'s model differs from rank 0's at "
                    f"{theirs[0]} {theirs[1]!r} ({theirs[3]} {list(theirs[2])}); rank 0 has "
                    f"{mine[0]} {mine[1]!r} ({mine[3]} {list(mine[2])}). Build the same model "
                    f"on every rank")
        if len(entries) != len(reference):
            longer, extra = (rank, entries) if len(entries) > len(reference) else (0, reference)
            first = extra[min(len(entries), len(reference))]
            raise RuntimeError(
                f"DistributedDataParallel: rank {rank} has {len(entries)} parameters and "
                f"buffers, rank 0 has {len(reference)}; rank {longer} has {first[0]} "
                f"{first[1]!r} ({first[3]} {list(first[2])}) that the other lacks. Build the "
                f"same model on every rank")


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a gpucnn.nn.Module, got "
                            f"{type(module).__name__}")
        pg = check_group(process_group, "DistributedDataParallel")
        if dim != 0:
            raise ValueError(f"DistributedDataParallel: dim={dim}; each rank feeds its own "
                             f"batch, so only dim=0 is supported")
        cap = DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb!r}")
        params = [p for p in module.parameters() if p.requires_grad]
        devices = {str(t.device) for t in [*module.parameters(), *module.buffers()]}
        if len(devices) > 1:
            raise ValueError(f"DistributedDataParallel: the module's tensors are on several "
                             f"devices ({', '.join(sorted(devices))}); move it with .to(device)")
        self.module = module
        self.process_group = pg
        self.device_ids = device_ids
        self.output_device = output_device
        self.broadcast_buffers = bool(broadcast_buffers)
        self.bucket_cap_mb = cap
        self.find_unused_parameters = find_unused_parameters  # unused ones always count as 0
        self.require_backward_grad_sync = True
        signatures = pg.transport.allgather_object(_signature(module))
        _check_same_model(signatures)
        with autograd.no_grad():
            for tensor in [*module.parameters(), *module.buffers()]:
                broadcast(tensor.data, src=0)
        object.__setattr__(self, "reducer",
                           Reducer(params, pg.transport, pg.size, cap))

    def forward(self, *inputs, **kwargs):
        wants_sync = autograd.is_grad_enabled() and self.require_backward_grad_sync
        if wants_sync and self.module.training and self.broadcast_buffers and \
                self.process_group.size > 1:
            with autograd.no_grad():
                for buffer in self.module.buffers():
                    broadcast(buffer.data, src=0)
        self.reducer.armed = wants_sync
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Within this block, backward passes leave their gradients on this rank (they
        accumulate in .grad); the first backward after it averages the total."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
