"""`Module.summary`: one forward pass on a random input, recording each leaf layer's output.

FLOPs, here and in `gpucnn bench`, count 2 per multiply-add of the convolutions and the dense
layers (the convention of cuDNN's and PyTorch's profilers), padding taps included, and nothing
else: bias adds, pooling comparisons and activations are under 1% of such a network's work
and are not multiply-adds. Each layer says its own count (`Module.flops`).
"""
import math

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .hooks import register_module_forward_hook


def trace(model, input_shape, device=None):
    """Run one image of `input_shape` (no batch dimension) through `model`; returns
    [(leaf module, input shape, output shape)] in call order, batch dimension included."""
    device = device or next((p.device for p in model.parameters()), "cpu")
    shape = (1,) + tuple(input_shape)
    x = Tensor(np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32), device=device)
    records = []

    def record(module, inputs, out):
        if not module._modules:
            in_shape = tuple(inputs[0].shape) if inputs and hasattr(inputs[0], "shape") else ()
            records.append((module, in_shape, tuple(out.shape)))

    with register_module_forward_hook(record), no_grad():
        model(x)
    return records


def model_flops(model, input_shape) -> tuple[int, int]:
    """(forward, training-step) FLOPs per image. A training step adds each layer's weight
    gradient (the forward's multiply-adds again) and the data gradient of every layer but the
    first with FLOPs (the input needs none, and neither gpucnn nor PyTorch computes it):
    3 * forward - first layer."""
    per_layer = [module.flops(i, o) for module, i, o in trace(model, input_shape)]
    per_layer = [f for f in per_layer if f]
    forward = sum(per_layer)
    return forward, 3 * forward - (per_layer[0] if per_layer else 0)


def summarize(model, input_shape, device=None):
    records = trace(model, input_shape, device)
    names = {id(m): name for name, m in model.named_modules()}
    rows, total_flops, activations = [], 0, 0
    for module, in_shape, out_shape in records:
        params = sum(p.numel() for p in module._parameters.values())
        flops = module.flops(in_shape, out_shape)
        total_flops += flops
        activations += math.prod(out_shape)
        rows.append((f"{names.get(id(module), '?')} {type(module).__name__}", str(out_shape[1:]),
                     params, flops))
    total_params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    info = {
        "rows": rows, "total_params": total_params, "trainable_params": trainable,
        "flops_per_image": total_flops,
        "param_bytes": 4 * total_params,
        "activation_bytes_per_image": 4 * activations,
    }
    print(_render(info, tuple(input_shape)))
    return info


def _render(info, input_shape):
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"input {input_shape} (per image)")
    table.add_column("layer")
    table.add_column("output shape")
    table.add_column("params", justify="right")
    table.add_column("FLOPs", justify="right")
    for name, shape, params, flops in info["rows"]:
        table.add_row(name, shape, f"{params:,}", f"{flops:,}")
    table.add_section()
    table.add_row("total", "", f"{info['total_params']:,}", f"{info['flops_per_image']:,}")
    console = Console(width=100, record=True, force_terminal=False)
    with console.capture() as capture:
        console.print(table)
        console.print(f"trainable params: {info['trainable_params']:,}   "
                      f"weights: {info['param_bytes'] / 2**20:.2f} MiB   "
                      f"activations: {info['activation_bytes_per_image'] / 2**20:.3f} MiB per image "
                      f"(forward; backward keeps about as much again)")
    return capture.get()
