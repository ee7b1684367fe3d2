"""`gpucnn export`: a checkpoint of `gpucnn train` as an ONNX model, for deployment."""
from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from .. import onnx as gpucnn_onnx
from ..factories import tensor
from ..models import MODELS
from ..serialization import write_atomically
from ..training import UserError
from ..training.checkpoint import model_from_checkpoint
from ..training.config import check_output_path, writing

INPUT, OUTPUT = "input", "logits"


@click.command()
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))   # a folder: check_output_path's error
@click.option("--model", type=click.Choice(list(MODELS)),
              help="Model of a weights-only file (a checkpoint names its own).")
@click.option("--opset", type=int, default=gpucnn_onnx.DEFAULT_OPSET, show_default=True,
              help=f"ONNX opset version ({gpucnn_onnx.MIN_OPSET} to {gpucnn_onnx.MAX_OPSET}).")
@click.option("--batch-size", type=int,
              help="A fixed batch size [default: the batch axis is dynamic].")
def export(checkpoint, output, model, opset, batch_size):
    """Write the model in CHECKPOINT to OUTPUT as an ONNX model (one file).

    The model takes `input` (batch, channels, height, width), float32 and normalised as in
    training (the mean and std are in the model's metadata, with the class names), and
    gives `logits` (batch, classes). BatchNorm layers are folded into the convolutions.
    """
    try:
        _export(checkpoint, output, model, opset, batch_size)
    except UserError as error:
        raise click.ClickException(str(error)) from None


def _export(checkpoint_path, output, model_name, opset, batch_size):
    check_output_path("OUTPUT", output)
    if not gpucnn_onnx.MIN_OPSET <= opset <= gpucnn_onnx.MAX_OPSET:
        raise UserError(f"--opset must lie in {gpucnn_onnx.MIN_OPSET}..{gpucnn_onnx.MAX_OPSET}, "
                        f"got {opset}")
    if batch_size is not None and batch_size < 1:
        raise UserError(f"--batch-size must be >= 1, got {batch_size}")
    try:
        import onnx  # noqa: F401  (checked before the checkpoint is read)
    except ImportError:
        raise UserError("gpucnn export needs the onnx package: pip install 'gpucnn[onnx]'") \
            from None
    restored = model_from_checkpoint(checkpoint_path, model_name, need_dataset=False)
    if restored.in_channels is None:
        raise UserError(f"{checkpoint_path}: cannot tell the model's input channels from its "
                        f"weights; is it a {restored.model_name} checkpoint?")
    height, width = restored.input_size
    shape = (batch_size or 1, restored.in_channels, height, width)
    example = tensor(np.random.default_rng(0).standard_normal(shape, dtype=np.float32))
    dynamic = None if batch_size else {INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}
    try:
        proto = gpucnn_onnx.export(restored.model, example, None, input_names=[INPUT],
                                   output_names=[OUTPUT], dynamic_axes=dynamic,
                                   opset_version=opset)
    except gpucnn_onnx.OnnxExporterError as error:
        raise UserError(f"cannot export {restored.model_name} from {checkpoint_path}: "
                        f"{error}") from None
    metadata = {"model": restored.model_name, "input_size": json.dumps([height, width])}
    if restored.classes is not None:
        metadata["classes"] = json.dumps(list(restored.classes))
    if restored.normalize is not None:
        mean, std = restored.normalize
        metadata["normalize_mean"] = json.dumps([float(v) for v in mean])
        metadata["normalize_std"] = json.dumps([float(v) for v in std])
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    with writing("OUTPUT", output):
        write_atomically(output, proto.SerializeToString())
    batch = "batch" if batch_size is None else str(batch_size)
    click.echo(f"{restored.model_name} from {checkpoint_path} -> {output} (opset {opset}): "
               f"{INPUT} [{batch}, {restored.in_channels}, {height}, {width}] float32 -> "
               f"{OUTPUT} [{batch}, {restored.num_classes}]")
    if restored.normalize is not None:
        mean, std = restored.normalize
        click.echo(f"normalise inputs as in training: (x - mean) / std, mean "
                   f"{[round(float(v), 4) for v in mean]}, std "
                   f"{[round(float(v), 4) for v in std]} (also in the model's metadata_props)")
