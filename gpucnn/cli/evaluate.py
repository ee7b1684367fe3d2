"""`gpucnn evaluate`: accuracy, per-class accuracy and confusion matrix of a checkpoint."""
from __future__ import annotations

import time
from pathlib import Path

import click
import numpy as np
from rich.console import Console

from ..data import DataLoader, channel_stats
from ..models import MODELS
from ..training import UserError
from ..training.checkpoint import model_from_checkpoint
from ..training.config import (DEVICE_CHOICES, check_fits, check_int, check_output_path,
                               cpu_threads, resolve_device, write_json, writing)
from ..training.data import DATASETS, load_data
from ..training import evaluation
from ..training.evaluation import (confusion_table, require_matplotlib, result_dict,
                                   write_confusion_png)


@click.command()
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", type=click.Choice(DATASETS),
              help="[default: the checkpoint's dataset]")
@click.option("--data-dir", type=click.Path(path_type=Path), help="[default: the checkpoint's]")
@click.option("--train-size", type=int,
              help="Held-out split as in `gpucnn train --train-size` [default: the checkpoint's].")
@click.option("--model", type=click.Choice(list(MODELS)),
              help="Model of a weights-only file (a checkpoint names its own).")
@click.option("--device", type=click.Choice(DEVICE_CHOICES), default="auto", show_default=True)
@click.option("--batch-size", type=int, default=500, show_default=True)
@click.option("--threads", type=int, default=1, show_default=True,
              help="CPU threads for the kernels (numba loops and split BLAS products).")
@click.option("--png", "png_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the confusion matrix into this PNG (needs matplotlib).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write accuracy, per-class accuracy and the confusion matrix as JSON.")
@click.pass_context
def evaluate(ctx, checkpoint, dataset, data_dir, train_size, model, device, batch_size, threads,
             png_path, json_path):
    """Evaluate CHECKPOINT on the test split of its dataset (or of --dataset).

    The test split is the one training held out: digits' 20%, the official test half, or the
    t10k images left over by --train-size.
    """
    try:
        check_int("--threads", threads, 1)
        with cpu_threads(threads):
            _evaluate(checkpoint, dataset, data_dir, train_size, model, device, batch_size,
                      png_path, json_path)
    except UserError as error:
        raise click.ClickException(str(error)) from None


def _evaluate(checkpoint_path, dataset, data_dir, train_size, model, device, batch_size,
              png_path, json_path):
    check_int("--batch-size", batch_size, 1)
    if train_size is not None:
        check_int("--train-size", train_size, 1)
    if check_output_path("--png", png_path) is not None:
        require_matplotlib()
    check_output_path("--json", json_path)
    device = resolve_device(device)
    restored = model_from_checkpoint(checkpoint_path, model, dataset)
    dataset = restored.dataset
    config = restored.checkpoint.config
    same_data = config is not None and config.dataset == dataset
    if data_dir is None and same_data:
        data_dir = config.data_dir
    if train_size is None and same_data:
        train_size = config.train_size
    split_seed = config.split_seed if config is not None else 0
    started = time.perf_counter()
    data = load_data(dataset, data_dir, False, train_size, split_seed)
    test = data.test
    check_fits(restored.model_name, test.image_shape, test.num_classes, f"dataset {dataset}")
    if test.image_shape[0] != restored.in_channels or test.num_classes != restored.num_classes:
        raise UserError(f"model {restored.model_name} from {checkpoint_path} takes "
                        f"{restored.in_channels}-channel images and gives {restored.num_classes} "
                        f"classes; dataset {dataset} has {test.image_shape[0]} channels and "
                        f"{test.num_classes} classes")
    normalize = restored.normalize or channel_stats(data.train.images)
    net = restored.model.to(device)
    loader = DataLoader(test, batch_size, shuffle=False, normalize=normalize)
    result = evaluation.evaluate(net, loader, device, test.num_classes)
    seconds = time.perf_counter() - started

    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:  # piped or captured: rich would squeeze the table into 80 columns
        out = Console(highlight=False, soft_wrap=True, width=160)
    out.print(f"{restored.model_name} from {checkpoint_path} on {data.description}, {device}")
    out.print(confusion_table(result, test.classes), soft_wrap=False, crop=False)
    out.print(f"accuracy {result.accuracy:.2%} ({result.correct}/{result.total}), mean loss "
              f"{result.loss:.4f}, {seconds:.1f} s")
    report = {"checkpoint": str(checkpoint_path), "model": restored.model_name,
              "dataset": dataset, "data": data.description, "device": device,
              "seconds": seconds, **result_dict(result, test.classes)}
    if png_path is not None:
        with writing("--png", png_path):
            write_confusion_png(png_path, result, test.classes,
                                f"{restored.model_name} on {dataset}: {result.accuracy:.2%} "
                                f"of {result.total}")
        out.print(f"confusion matrix drawn in {png_path}")
    if json_path is not None:
        write_json("--json", json_path, report)
