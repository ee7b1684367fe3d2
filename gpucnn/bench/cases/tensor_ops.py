"""Tensor ops bound by memory bandwidth, through the engine as a script calls them:

    broadcast_add   x + b, x (N, C, H, W) and b (C, 1, 1): the strided broadcast kernel family
    channel_sum     x.sum((0, 2, 3)): a per-channel reduction (kernels/reduce.py)

on an activation-sized tensor (a ResNet's first stage at batch 64 on the CPU, 256 on the GPU)
under no_grad. Their FLOPs are one per element, so the roof is memory bandwidth: the "% roof"
column reads achieved GB/s / the bandwidth the bench measured. The reference is the same
expression in PyTorch on the same data.
"""
from functools import partial

import numpy as np

from ...autograd import no_grad
from ...factories import tensor
from ..case import Case, Prepared, Timed, check_arrays, lazy_sets, sets_for, timed_first_call
from .common import dims, torch_label

CHANNELS, SIDE = 64, 56
TOLERANCE = 1e-5


def _shape(env):
    return (256 if env.on_gpu and not env.simulator else 64 if not env.simulator else 2,
            CHANNELS if not env.simulator else 3, SIDE if not env.simulator else 5,
            SIDE if not env.simulator else 5)


def cases(env) -> list[Case]:
    shape = _shape(env)
    n, c = int(np.prod(shape)), shape[1]
    return [
        Case("kernels", "broadcast_add", f"broadcast_add/{dims(shape)}",
             f"x {dims(shape)} + b {c}x1x1", n, 4 * (2 * n + c),
             partial(_prepare, "broadcast_add", shape), batch=shape[0],
             meta={"op": "broadcast_add"}),
        Case("kernels", "channel_sum", f"channel_sum/{dims(shape)}",
             f"x {dims(shape)}.sum((0, 2, 3)) -> {c}", n, 4 * (n + c),
             partial(_prepare, "channel_sum", shape), batch=shape[0],
             meta={"op": "channel_sum"}),
    ]


def _expression(op, x, b):
    """The timed expression, the same for gpucnn and torch tensors."""
    return x + b if op == "broadcast_add" else x.sum((0, 2, 3))


def _reference(op, x, b):
    x64 = x.astype(np.float64)
    return x64 + b.astype(np.float64) if op == "broadcast_add" else x64.sum(axis=(0, 2, 3))


def _prepare(op, shape, env) -> Prepared:
    c = shape[1]

    def make_host():
        return env.rand(*shape), env.rand(c, 1, 1)

    n_sets = sets_for(env, 4 * int(np.prod(shape)))
    hosts = [make_host() for _ in range(n_sets)]
    sets = [(tensor(x, device=env.device), tensor(b, device=env.device)) for x, b in hosts]

    def run(i):
        with no_grad():
            return _expression(op, *sets[i % n_sets])

    def check():
        x, b = make_host()
        gx, gb = tensor(x, device=env.device), tensor(b, device=env.device)
        out, first = timed_first_call(env, lambda: run_once(gx, gb))
        return check_arrays(env, [("out", out.numpy(), _reference(op, x, b))],
                            "vs float64 NumPy", first, TOLERANCE)

    def run_once(gx, gb):
        with no_grad():
            return _expression(op, gx, gb)

    refs = []
    if env.torch is not None:
        tsets = lazy_sets(hosts, env.torch_tensor)
        refs.append(Timed(torch_label(env, "cuda", "cpu"),
                          lambda i: _expression(op, *tsets()[i % n_sets]), ("torch", op, shape)))
    return Prepared(run, check, refs, n_sets)
