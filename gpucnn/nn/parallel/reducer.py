"""Gradient buckets: how DistributedDataParallel averages gradients across ranks.

The parameters are laid, in reverse registration order (roughly the order backward produces
their gradients), into buckets of about `bucket_cap_mb` (the first one smaller, so that
communication starts early), each a flat array on the parameters' device. Every rank builds
the same buckets from the same model, so bucket k means the same parameters everywhere.

When a parameter's gradient is final (its post-accumulate-grad hook), it is copied into its
bucket; a bucket whose gradients are all in is summed across ranks at once (asynchronously:
MPI_Iallreduce, or NCCL on the GPU's stream) while backward goes on with the layers below.
Buckets start strictly in index order (collectives must be issued in the same order on every
rank). When backward ends, the buckets not yet started (a parameter that took no part in this
step counts as a zero gradient) start, all are waited for, and every parameter's .grad becomes
its bucket's sum divided by the world size: identical on every rank.
"""
from __future__ import annotations

import math

import numpy as np

from ... import autograd
from ...kernels import map_ops
from ...ops import _arrays as A
from ...tensor import Tensor

FIRST_BUCKET_BYTES = 1024 * 1024   # torch's first bucket: communication starts early


class Bucket:
    def __init__(self, params, kernels):
        self.params = params
        self.kernels = kernels
        self.offsets = []
        offset = 0
        for p in params:
            self.offsets.append(offset)
            offset += p.numel()
        self.flat = A.empty(kernels, (offset,))
        self.ready = [False] * len(params)
        self.pending = None   # the reduction in flight

    def slice(self, i):
        start = self.offsets[i]
        return self.flat[start:start + self.params[i].numel()]

    def put(self, i, grad_array):
        """Copy parameter i's gradient (None: a zero) into the flat buffer."""
        destination = self.slice(i)
        if grad_array is None:
            grad_array = A.full(self.kernels, destination.shape, 0.0)
        source = grad_array.reshape(destination.shape)
        if isinstance(destination, np.ndarray):
            destination[...] = source
        else:
            destination.copy_to_device(source)
        self.ready[i] = True

    @property
    def complete(self) -> bool:
        return all(self.ready)


def build_buckets(params, bucket_cap_mb: float):
    """Buckets over the parameters that require grad, reverse order, one device each."""
    cap = bucket_cap_mb * 1024 * 1024
    buckets, current, size = [], [], 0
    limit = min(FIRST_BUCKET_BYTES, cap)
    for p in reversed(params):
        nbytes = p.numel() * 4
        if current and (size + nbytes > limit or p.device != current[0].device):
            buckets.append(Bucket(current, current[0]._kernels))
            current, size, limit = [], 0, cap
        current.append(p)
        size += nbytes
    if current:
        buckets.append(Bucket(current, current[0]._kernels))
    return buckets


class Reducer:
    def __init__(self, params, transport, world_size: int, bucket_cap_mb: float):
        self.transport = transport
        self.world_size = world_size
        self.buckets = build_buckets(params, bucket_cap_mb)
        self.where = {}   # id(param) -> (bucket index, position in it)
        for b, bucket in enumerate(self.buckets):
            for i, p in enumerate(bucket.params):
                self.where[id(p)] = (b, i)
        self.armed = False       # a forward ran with gradient sync wanted
        self._in_backward = False
        self._next_to_start = 0
        self.handles = [p.register_post_accumulate_grad_hook(self._grad_ready)
                        for p in params]

    def remove_hooks(self):
        for handle in self.handles:
            handle.remove()

    def _grad_ready(self, param):
        if not self.armed:
            return
        if not self._in_backward:
            self._in_backward = True
            autograd.queue_callback(self._finish)
        b, i = self.where[id(param)]
        self.buckets[b].put(i, param.grad._array)
        self._start_ready_buckets()
        self.transport.progress([bucket.pending for bucket in self.buckets
                                 if bucket.pending is not None])

    def _start(self, bucket):
        bucket.pending = self.transport.start_sum(bucket.flat)
        self._next_to_start += 1

    def _start_ready_buckets(self):
        while self._next_to_start < len(self.buckets) and \
                self.buckets[self._next_to_start].complete:
            self._start(self.buckets[self._next_to_start])

    def _finish(self):
        """End of backward: start what is left, wait for all, write back the averages."""
        while self._next_to_start < len(self.buckets):
            bucket = self.buckets[self._next_to_start]
            for i, ready in enumerate(bucket.ready):
                if not ready:   # unused in this step on this rank: contributes zero
                    bucket.put(i, None)
            self._start(bucket)
        for bucket in self.buckets:
            bucket.pending.wait()
            # One division per bucket into a new array (the flat buffer is reused next step);
            # each .grad is a C-contiguous view of its stretch of it.
            average = A.unary(bucket.kernels, map_ops.U_DIV, bucket.flat, float(self.world_size))
            for i, p in enumerate(bucket.params):
                start = bucket.offsets[i]
                grad = average[start:start + p.numel()].reshape(tuple(p.shape))
                p.grad = Tensor._from_array(grad, p.device)
            bucket.pending = None
            bucket.ready = [False] * len(bucket.params)
        self._next_to_start = 0
        self._in_backward = False
        self.armed = False


def bucket_summary(buckets) -> list[tuple[int, float]]:
    """(parameters, MB) per bucket, for repr and tests."""
    return [(len(b.params), math.fsum(p.numel() for p in b.params) * 4 / 2 ** 20)
            for b in buckets]
