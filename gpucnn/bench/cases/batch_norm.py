"""BatchNorm2d in training, through the engine as a script calls it, side by side with torch's:

    batch_norm2d_train_forward           y = bn(x) under no_grad: the batch's statistics, the
                                         running statistics' update, the normalisation
    batch_norm2d_train_forward_backward  y = bn(x); y.backward(dy): also dx, dweight, dbias

at (64, 64, 32, 32) on the CPU (256 images on the GPU, a few values in the simulator).

Bytes moved, n = N*C*H*W float32 values (the per-channel arrays are negligible):
    forward    3 * 4n   the statistics read x (their second pass over a chunk is served by the
                        cache), the normalisation reads x and writes y
    backward   5 * 4n   the per-channel sums read dy and x; dx reads dy and x and writes dx
The "% roof" column is then achieved GB/s over the bandwidth the bench measured. FLOPs per value:
4 for the statistics, 3 for the normalisation, 4 for the backward's sums, 5 for dx.
"""
from functools import partial

import numpy as np

from ...autograd import no_grad
from ...factories import tensor
from ...nn import BatchNorm2d
from ..case import Case, Prepared, Timed, check_arrays, lazy, sets_for, timed_first_call
from .common import dims, torch_label

CHANNELS, SIDE = 64, 32
EPS = 1e-5
TOLERANCE = 1e-5
OPS = {"batch_norm2d_train_forward": (3, 7), "batch_norm2d_train_forward_backward": (8, 16)}


def _shape(env):
    if env.simulator:
        return (2, 3, 5, 5)
    return (256 if env.on_gpu else 64, CHANNELS, SIDE, SIDE)


def cases(env) -> list[Case]:
    shape = _shape(env)
    n = int(np.prod(shape))
    out = []
    for op, (passes, flops) in OPS.items():
        what = "bn(x)" if op.endswith("forward") else "bn(x).backward(dy)"
        out.append(Case("kernels", op, f"{op}/{dims(shape)}", f"{what}, x {dims(shape)}",
                        flops * n, passes * 4 * n, partial(_prepare, op, shape), batch=shape[0],
                        meta={"op": op}))
    return out


def _reference(x, weight, bias, dy):
    """Training batch norm in float64 NumPy: (y, dx, dweight, dbias)."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=(0, 2, 3), keepdims=True)
    invstd = 1.0 / np.sqrt(x64.var(axis=(0, 2, 3), keepdims=True) + EPS)
    xhat = (x64 - mean) * invstd
    w = weight.astype(np.float64).reshape(1, -1, 1, 1)
    y = xhat * w + bias.astype(np.float64).reshape(1, -1, 1, 1)
    g = dy.astype(np.float64)
    dbias = g.sum(axis=(0, 2, 3))
    dweight = (g * xhat).sum(axis=(0, 2, 3))
    count = x.size // x.shape[1]
    dx = w * invstd * (g - dbias.reshape(1, -1, 1, 1) / count
                       - xhat * dweight.reshape(1, -1, 1, 1) / count)
    return y, dx, dweight, dbias


def _prepare(op, shape, env) -> Prepared:
    c = shape[1]
    backward = op.endswith("forward_backward")
    weight = env.rand(c) * np.float32(0.5) + np.float32(1.0)
    bias = env.rand(c)

    def make_layer():
        layer = BatchNorm2d(c, device=env.device)
        with no_grad():
            layer.weight.copy_(tensor(weight))
            layer.bias.copy_(tensor(bias))
        return layer

    layer = make_layer()
    n_sets = sets_for(env, 4 * int(np.prod(shape)) * (2 if backward else 1))
    hosts = [(env.rand(*shape), env.rand(*shape)) for _ in range(n_sets)]
    sets = [(tensor(x, device=env.device, requires_grad=backward),
             tensor(dy, device=env.device)) for x, dy in hosts]

    def call(module, x, dy, without_grad=no_grad):
        """One step of gpucnn's layer, or of torch's (the same API) with without_grad=torch's
        no_grad."""
        if not backward:
            with without_grad():
                return module(x)
        module.zero_grad()
        x.grad = None
        y = module(x)
        y.backward(dy)
        return y

    def run(i):
        return call(layer, *sets[i % n_sets])

    def check():
        x, dy = env.rand(*shape), env.rand(*shape)
        fresh = make_layer()
        gx = tensor(x, device=env.device, requires_grad=backward)
        y, first = timed_first_call(env, lambda: call(fresh, gx, tensor(dy, device=env.device)))
        ref_y, ref_dx, ref_dw, ref_db = _reference(x, weight, bias, dy)
        pairs = [("y", y.numpy(), ref_y)]
        if backward:
            pairs += [("dx", gx.grad.numpy(), ref_dx),
                      ("dweight", fresh.weight.grad.numpy(), ref_dw),
                      ("dbias", fresh.bias.grad.numpy(), ref_db)]
        return check_arrays(env, pairs, "vs float64 NumPy", first, TOLERANCE)

    refs = []
    if env.torch is not None:
        torch = env.torch

        def torch_sets():
            module = torch.nn.BatchNorm2d(c).to("cuda" if env.on_gpu else "cpu")
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(weight))
                module.bias.copy_(torch.from_numpy(bias))
            tensors = [(env.torch_tensor(x).requires_grad_(backward), env.torch_tensor(dy))
                       for x, dy in hosts]
            return module, tensors

        tsets = lazy(torch_sets)

        def torch_run(i):
            module, tensors = tsets()
            return call(module, *tensors[i % n_sets], torch.no_grad)

        refs.append(Timed(torch_label(env, "cudnn", "cpu"), torch_run, ("torch", op, shape)))
    return Prepared(run, check, refs, n_sets)
