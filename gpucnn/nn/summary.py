"""`Module.summary`: one forward pass on a random input, recording each leaf layer's output."""
import math

import numpy as np

_recording = None  # a list while summarize() runs, else None


def record(module, out):
    if _recording is not None and not module._modules:
        _recording.append((module, tuple(out.shape)))


def layer_flops(module, in_shape, out_shape) -> int:
    """Forward FLOPs for one image (a multiply-add counts 2)."""
    from .layers import Conv2d, Linear, MaxPool2d, ReLU
    out_elems = math.prod(out_shape[1:])
    if isinstance(module, Conv2d):
        per_output = 2 * (module.in_channels // module.groups) * math.prod(module.kernel_size)
        return out_elems * (per_output + (1 if module.bias is not None else 0))
    if isinstance(module, Linear):
        return out_shape[-1] * (2 * module.in_features + (1 if module.bias is not None else 0))
    if isinstance(module, MaxPool2d):
        kh, kw = (module.kernel_size, module.kernel_size) if isinstance(module.kernel_size, int) \
            else module.kernel_size
        return out_elems * (kh * kw - 1)
    if isinstance(module, ReLU):
        return out_elems
    return 0


def summarize(model, input_shape, device=None):
    global _recording
    from ..autograd import no_grad
    from ..tensor import Tensor
    device = device or next((p.device for p in model.parameters()), "cpu")
    shape = (1,) + tuple(input_shape)
    x = Tensor(np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32), device=device)
    _recording = []
    try:
        with no_grad():
            model(x)
        records = _recording
    finally:
        _recording = None
    names = {id(m): name for name, m in model.named_modules()}
    rows, in_shape, total_flops, activations = [], shape, 0, 0
    for module, out_shape in records:
        params = sum(p.size for p in module._parameters.values())
        flops = layer_flops(module, in_shape, out_shape)
        total_flops += flops
        activations += math.prod(out_shape)
        rows.append((f"{names.get(id(module), '?')} {type(module).__name__}", str(out_shape[1:]),
                     params, flops))
        in_shape = out_shape
    total_params = sum(p.size for p in model.parameters())
    trainable = sum(p.size for p in model.parameters() if p.requires_grad)
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
