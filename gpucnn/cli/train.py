"""`gpucnn train`: train a CNN on a dataset, with checkpoints, exact resume and JSON metrics.

Everything the run needs is checked before the first step (options, device, data files,
checkpoint, model/data fit), so a mistake costs no time and overwrites no file.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import click
from click.core import ParameterSource
from rich.console import Console

from ..models import MODELS
from ..training import UserError
from ..training.checkpoint import Checkpoint, check_model_fits, load_checkpoint
from ..training.config import (DATASET_DEFAULTS, DEVICE_CHOICES, OPTIMIZERS, SCHEDULERS,
                               TrainConfig,
                               build_config, check_config, check_fits, check_int,
                               check_output_path, cpu_threads, resolve_device, write_json)
from ..distributed import faults, supervisor
from ..training.console import EpochProgress, deferred_interrupt
from ..training.data import DATASETS, LoadedData, load_data
from ..training.distributed import Ranks, SingleProcess
from ..training.trainer import StopRequested, Trainer

DEFAULT_INTERRUPT_PATH = Path("gpucnn-interrupted.safetensors")
# Options a resumed run takes from its checkpoint; giving another value is an error.
FIXED_ON_RESUME = ("dataset", "model", "batch_size", "lr", "lr_decay", "optimizer", "momentum",
                   "seed", "train_size", "scheduler", "weight_decay", "label_smoothing",
                   "augment")


class Interrupted(click.ClickException):
    exit_code = 130  # 128 + SIGINT, as a shell reports a Ctrl-C


def _defaults_help() -> str:
    d = DATASET_DEFAULTS["digits"]
    m = DATASET_DEFAULTS["mnist"]
    return (f"digits: {d['optimizer']} lr {d['lr']:g} momentum {d['momentum']:g} decay "
            f"{d['lr_decay']:g}/epoch, batch {d['batch_size']}, {d['epochs']} epochs; mnist: "
            f"{m['optimizer']} lr {m['lr']:g} momentum {m['momentum']:g} decay {m['lr_decay']:g}"
            f"/epoch, batch {m['batch_size']}, {m['epochs']} epochs")


@click.command(help=f"""Train a model, by default the digits CNN on the embedded 8x8 digits.

    Options left out take the dataset's defaults ({_defaults_help()}). A checkpoint is written
    to --save after every epoch. Ctrl-C stops at the end of the current batch and saves a
    checkpoint to --save, or without --save to ./{DEFAULT_INTERRUPT_PATH}; --resume it to
    continue exactly where it stopped.
    """)
@click.option("--dataset", type=click.Choice(DATASETS), default="digits", show_default=True,
              help="digits ships with scikit-learn; the others read files from --data-dir.")
@click.option("--data-dir", type=click.Path(path_type=Path),
              help="Folder of the dataset's files "
                   "[default: $GPUCNN_DATA/NAME or ~/.cache/gpucnn/NAME].")
@click.option("--download", is_flag=True,
              help="Fetch missing mnist/fashion-mnist/cifar10 files (checksum-verified).")
@click.option("--train-size", type=int,
              help="Train on N images. When --data-dir holds only the t10k files (e.g. "
                   "../shared/data/mnist), train on N of them and test on the rest.")
@click.option("--model", type=click.Choice(list(MODELS)),
              help="[default: digits_cnn for digits, lenet5 for (fashion-)mnist, "
                   "convnet for cifar10]")
@click.option("--epochs", type=int, help="Epochs in all (with --resume: the total to reach).")
@click.option("--batch-size", type=int)
@click.option("--lr", type=float, help="Learning rate.")
@click.option("--lr-decay", type=float,
              help="Multiply the learning rate by this after every epoch (1 = constant).")
@click.option("--scheduler", type=click.Choice(SCHEDULERS),
              help="exponential: lr x --lr-decay after every epoch [default]; multistep: lr / 10 "
                   "at 50% and 75% of the epochs; cosine: cosine annealing to 0 over every "
                   "batch; onecycle: OneCycleLR with max_lr = --lr.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS))
@click.option("--momentum", type=float, help="SGD momentum [default: 0.9].")
@click.option("--weight-decay", type=float,
              help="L2 penalty (decoupled for adamw) [default: 0, adamw 0.01].")
@click.option("--label-smoothing", type=float, help="Cross-entropy label smoothing [default: 0].")
@click.option("--augment", is_flag=True,
              help="Random crops (padding 4 for 32x32 images, 2 for 28x28, 1 for 8x8) and, for "
                   "colour images, horizontal flips, drawn on the device per batch.")
@click.option("--device", type=click.Choice(DEVICE_CHOICES), default="auto", show_default=True,
              help="auto: cuda if a GPU is present, else cpu.")
@click.option("--threads", type=int, default=1, show_default=True,
              help="CPU threads for the kernels (numba loops and split BLAS products). More "
                   "rarely pays on small models and is much slower on a busy machine.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the weights and the shuffling: same seed, same device, same result.")
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path),
              help="Checkpoint written after every epoch (and on Ctrl-C).")
@click.option("--resume", type=click.Path(dir_okay=False, path_type=Path),
              help="Continue the run saved in this checkpoint, exactly where it stopped.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write metrics (accuracy, timings, per-epoch history) to this file.")
@click.option("--quiet", is_flag=True, help="No progress bars, only the summary line.")
@click.option("--distributed", is_flag=True,
              help="Data-parallel over the ranks of an MPI job: mpiexec -n N gpucnn train "
                   "--distributed ... Each rank trains on its share of every --batch-size "
                   "batch (one GPU per rank: its local rank); rank 0 alone prints and writes "
                   "files. Needs gpucnn[distributed].")
@click.pass_context
def train(ctx, threads, quiet, distributed, **options):
    started = time.perf_counter()
    if distributed:
        _train_distributed(ctx, threads, quiet, started, options)
        return
    try:
        check_int("--threads", threads, 1)
        run = _prepare(ctx, **options)
        with cpu_threads(threads):
            _train(run, quiet, started)
    except UserError as error:
        raise click.ClickException(str(error)) from None


def _train_distributed(ctx, threads, quiet, started, options):
    """Every rank checks everything, then all agree: a problem on any rank stops all of them
    before the first step, printed once, by rank 0. Once training runs, a failure on one rank
    ends the whole job (MPI_Abort), naming the rank, so that no rank waits forever; a rank
    killed by a signal is named by its supervisor."""
    supervisor.supervise_this_rank()   # before MPI and the GPU start
    try:
        ranks = Ranks(options["device"])
    except UserError as error:
        raise click.ClickException(str(error)) from None
    problem = None
    try:
        check_int("--threads", threads, 1)
        run = _prepare(ctx, **options, writes_files=ranks.is_main)
    except UserError as error:
        problem = str(error)
    problem = ranks.agree(problem)
    if problem is not None:
        ranks.close()
        if ranks.is_main:
            raise click.ClickException(problem)
        raise SystemExit(1)
    try:
        with cpu_threads(threads):
            _train(run, quiet or not ranks.is_main, started, ranks)
    except Interrupted as stopped:   # every rank stopped after the same batch
        ranks.close()
        if ranks.is_main:
            raise
        raise SystemExit(stopped.exit_code) from None
    except (UserError, click.ClickException) as error:
        message = error.message if isinstance(error, click.ClickException) else str(error)
        click.echo(f"Error: rank {ranks.rank} of {ranks.size}: {message}; ending the job",
                   err=True)
        faults.abort_job(1)
    ranks.close()


@dataclass
class _Run:
    """Everything _prepare checked, for _train."""
    config: TrainConfig
    data: LoadedData
    device: str
    save: Path | None
    json_path: Path | None
    checkpoint: Checkpoint | None  # the one being resumed


def _explicit(ctx, name) -> bool:
    source = ctx.get_parameter_source(name)
    return source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def _prepare(ctx, dataset, data_dir, download, train_size, model, epochs, batch_size, lr,
             lr_decay, scheduler, optimizer, momentum, weight_decay, label_smoothing, augment,
             device, seed, save, resume, json_path, writes_files=True) -> _Run:
    if writes_files:   # with several ranks, only rank 0 writes (its folders may be its own)
        save = check_output_path("--save", save)
        json_path = check_output_path("--json", json_path)
    if data_dir is not None:
        data_dir = data_dir.expanduser().resolve()  # checkpoints then work from any folder
    checkpoint = None
    if resume is None:
        config = build_config(dataset, model, epochs, batch_size, lr, optimizer, momentum, seed,
                              data_dir, train_size, lr_decay, scheduler, weight_decay,
                              label_smoothing, augment)
    else:
        given = dict(dataset=dataset, model=model, batch_size=batch_size, lr=lr,
                     lr_decay=lr_decay, optimizer=optimizer, momentum=momentum, seed=seed,
                     train_size=train_size, scheduler=scheduler, weight_decay=weight_decay,
                     label_smoothing=label_smoothing, augment=augment)
        checkpoint = load_checkpoint(resume)
        config = _resumed_config(ctx, checkpoint, given, epochs, data_dir)
    data = load_data(config.dataset, config.data_dir, download, config.train_size,
                     config.split_seed)
    check_fits(config.model, data.train.image_shape, data.train.num_classes,
               f"dataset {config.dataset}")
    return _Run(config, data, resolve_device(device), save, json_path, checkpoint)


def _resumed_config(ctx, checkpoint, given, epochs, data_dir) -> TrainConfig:
    """The checkpoint's configuration, with the options a resumed run may change."""
    path = checkpoint.path
    if not checkpoint.is_training_checkpoint:
        raise UserError(f"--resume {path}: a weights-only file, not a checkpoint of "
                        f"gpucnn train (it has no optimizer state or progress)")
    config = checkpoint.config
    if _explicit(ctx, "model"):
        check_model_fits(checkpoint, given["model"])
    for name in FIXED_ON_RESUME:
        if _explicit(ctx, name) and given[name] != getattr(config, name):
            raise UserError(f"--{name.replace('_', '-')} {given[name]} differs from the "
                            f"checkpoint's {getattr(config, name)}; a resumed run keeps its "
                            f"settings (only --epochs, --device, --data-dir, --save, --json "
                            f"may change)")
    if epochs is not None and epochs != config.epochs and config.scheduler != "exponential":
        raise UserError(f"--epochs {epochs}: the checkpoint's {config.scheduler} schedule spans "
                        f"its {config.epochs} epochs and cannot be stretched; resume without "
                        f"--epochs (or train with --scheduler exponential)")
    if epochs is not None:
        config.epochs = epochs
    if data_dir is not None:
        config.data_dir = str(data_dir)
    check_config(config)
    done = int(checkpoint.progress.get("epochs_done", 0))
    if done >= config.epochs:
        raise UserError(f"--resume {path}: that run already has {done} of {config.epochs} "
                        f"epochs; pass --epochs N with N > {done} to train further")
    return config


def _train(run: _Run, quiet: bool, started: float, ranks=None):
    ranks = ranks if ranks is not None else SingleProcess()
    config, checkpoint = run.config, run.checkpoint
    normalize = None
    if checkpoint is not None:
        normalize = (checkpoint.info["normalize_mean"], checkpoint.info["normalize_std"])
    trainer = Trainer(config, run.data, run.device, normalize=normalize, ranks=ranks)
    if checkpoint is not None:
        trainer.restore(checkpoint)  # the last check: from here on files may be written
    out = Console(highlight=False, soft_wrap=True, quiet=not ranks.is_main)
    out.print(_headline(run, trainer, ranks))
    reporter = EpochProgress(enabled=not quiet)
    try:
        with deferred_interrupt() as stop_requested:
            trainer.run(config.epochs, reporter, stop_requested, run.save)
    except StopRequested:
        reporter.close()
        if not ranks.is_main:
            raise Interrupted("stopped with rank 0") from None
        _save_interrupted(trainer, run)
    except KeyboardInterrupt:
        reporter.close()
        if ranks.size > 1:   # a second Ctrl-C, inside a step: the ranks cannot agree now
            raise
        _save_interrupted(trainer, run)
    except OSError as error:              # a checkpoint that could not be written
        raise UserError(f"cannot write checkpoint {run.save} after epoch "
                        f"{trainer.epochs_done} ({error.strerror or error}); training stopped, "
                        f"and {run.save} keeps the last checkpoint written") from None
    finally:
        reporter.close()

    result = trainer.final_eval()
    total_seconds = time.perf_counter() - started
    train_seconds = trainer.total_train_seconds
    images_per_second = trainer.steady_images_per_second
    first_step = trainer.first_step_seconds
    if run.json_path is not None and ranks.is_main:
        settings = {k: v for k, v in config.to_dict().items() if k not in ("dataset", "model")}
        write_json("--json", run.json_path, {
            "dataset": config.dataset, "model": config.model, "device": run.device,
            "data": run.data.description, "train_images": len(run.data.train),
            "test_images": len(run.data.test), **settings,
            "test_accuracy": result.accuracy, "test_loss": result.loss,
            "test_correct": result.correct, "train_seconds": train_seconds,
            "images_per_second": images_per_second, "first_step_seconds": first_step,
            "total_seconds": total_seconds,
            "checkpoint": None if run.save is None else str(run.save),
            "resumed_from": None if checkpoint is None else str(checkpoint.path),
            "world_size": ranks.size, "history": trainer.history,
        })
    saved = f"; checkpoint {run.save}" if run.save is not None else ""
    out.print(f"test accuracy {result.accuracy:.2%} ({result.correct}/{result.total}) after "
              f"{trainer.epochs_done} epochs; training {train_seconds:.1f} s "
              f"({images_per_second:,.0f} images/s{_first_step(first_step)}), total "
              f"{total_seconds:.1f} s "
              f"on {run.device}{_on_ranks(ranks)}{saved}")


def _on_ranks(ranks) -> str:
    return "" if ranks.size == 1 else f" x {ranks.size} ranks ({ranks.backend})"


def _first_step(seconds) -> str:
    if seconds is None:
        return ""
    return f" after the first step, which took {seconds:.1f} s with kernel compilation"


def _headline(run: _Run, trainer, ranks) -> str:
    c = run.config
    momentum = f" momentum {c.momentum:g}" if c.optimizer == "sgd" else ""
    decay = f" decay {c.lr_decay:g}/epoch" if c.lr_decay != 1 else ""
    schedule = f" {c.scheduler}" if c.scheduler != "exponential" else ""
    extras = "".join([f", weight decay {c.weight_decay:g}" if c.weight_decay else "",
                      f", label smoothing {c.label_smoothing:g}" if c.label_smoothing else "",
                      ", augmented" if c.augment else ""])
    line = (f"{c.model} on {run.data.description}, {run.device}, {c.optimizer} lr {c.lr:g}"
            f"{momentum}{decay}{schedule}{extras}, batch {c.batch_size}, {c.epochs} epochs, "
            f"seed {c.seed}")
    if run.checkpoint is not None:
        line += (f", resuming {run.checkpoint.path} at epoch {trainer.epochs_done + 1} "
                 f"batch {trainer.sums.batches + 1}")
    if ranks.size > 1:   # the launcher names a rank that dies by its process id
        line += (f"\n{ranks.size} ranks over {ranks.backend}, each training on its share of "
                 f"every batch of {c.batch_size}: " + "; ".join(ranks.ranks()))
    return line


def _save_interrupted(trainer, run: _Run):
    path = run.save if run.save is not None else DEFAULT_INTERRUPT_PATH
    where = (f"epoch {trainer.epochs_done + 1}, after batch {trainer.sums.batches}/"
             f"{len(trainer.train_loader)}")
    if not trainer.consistent:
        kept = f"; {path} keeps the last checkpoint saved" if path.exists() else ""
        raise Interrupted(f"interrupted inside an optimizer step ({where}): no consistent state "
                          f"to save{kept}")
    try:
        trainer.save(path)
    except OSError as error:
        raise Interrupted(f"interrupted in {where}; the checkpoint could not be written to "
                          f"{path} ({error.strerror or error}): pass --save PATH in a "
                          f"writable folder") from None
    raise Interrupted(f"interrupted in {where}; checkpoint saved to {path} "
                      f"(continue with: gpucnn train --resume {path})")
