"""`gpucnn predict`: classify image files or .npy arrays with a trained checkpoint."""
from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..autograd import no_grad
from ..factories import tensor
from ..training import UserError
from ..training.checkpoint import model_from_checkpoint
from ..training.config import (DEVICE_CHOICES, check_output_path, cpu_threads, resolve_device,
                               write_json)
from ..training.inputs import read_inputs


@click.command()
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--top-k", type=int, default=3, show_default=True,
              help="How many classes to print per input, most probable first.")
@click.option("--resize", is_flag=True,
              help="Resize inputs of another size to the model's (bilinear). Without it they "
                   "are refused.")
@click.option("--device", type=click.Choice(DEVICE_CHOICES), default="auto", show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the predictions as JSON.")
def predict(checkpoint, files, top_k, resize, device, json_path):
    """Print the top-k classes of each of FILES under the model in CHECKPOINT.

    FILES are images (PNG, JPEG, ...; needs Pillow: pip install 'gpucnn[images]') or .npy
    arrays: (H, W), (C, H, W) or a stack (N, C, H, W); uint8 pixels are 0..255, float
    pixels 0..1, as gpucnn's datasets give them. Inputs must have the model's size (28x28
    for lenet5, 8x8 for digits_cnn, 3x32x32 for convnet) unless --resize is given.
    """
    try:
        with cpu_threads(1):
            _predict(checkpoint, files, top_k, resize, device, json_path)
    except UserError as error:
        raise click.ClickException(str(error)) from None


def _predict(checkpoint_path, files, top_k, resize, device, json_path):


    check_output_path("--json", json_path)
    device = resolve_device(device)
    restored = model_from_checkpoint(checkpoint_path, need_dataset=False, need_metadata=True)
    if not 1 <= top_k <= restored.num_classes:
        raise UserError(f"--top-k must lie in 1..{restored.num_classes} (the model's classes), "
                        f"got {top_k}")
    inputs = []
    for path in files:  # read and check every file before computing anything
        inputs += read_inputs(path, restored.in_channels, restored.input_size, resize)
    batch = np.stack([item.pixels for item in inputs])
    mean, std = restored.normalize
    batch = ((batch - mean.reshape(1, -1, 1, 1)) / std.reshape(1, -1, 1, 1)).astype(np.float32)
    model = restored.model.to(device).eval()
    with no_grad():
        logits = np.concatenate([model(tensor(batch[i:i + 256], device=device)).numpy()
                                 for i in range(0, len(batch), 256)]).astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    classes = restored.classes
    report = []
    for item, p in zip(inputs, probs):
        order = np.argsort(-p, kind="stable")[:top_k]
        ranked = [{"class": int(k), "name": classes[k], "probability": float(p[k])} for k in order]
        report.append({"file": item.name, "top_k": ranked})
        click.echo(f"{item.name}: " + ", ".join(
            f"{_label(r)} {r['probability']:.2%}" for r in ranked))
    if json_path is not None:
        write_json("--json", json_path, {"checkpoint": str(checkpoint_path),
                                         "model": restored.model_name, "predictions": report})


def _label(ranked) -> str:
    name, index = ranked["name"], ranked["class"]
    return name if name == str(index) else f"{index} ({name})"
